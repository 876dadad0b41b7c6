#pragma once
// Pictures of what segmentation did, for a person to check (digits-segment --debug).

#include "io/records.hpp"
#include "segment/segment.hpp"

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace digits {

// The image in colour with every digit's box, its line and its place in reading order
// ("line.index"); pictures larger than `max_side` are shown scaled down.
cv::Mat draw_overlay(const cv::Mat& gray, const ImageRecord& record, int max_side = 1600);

// The 28x28 crops side by side in reading order, enlarged `zoom` times, one row per text line.
cv::Mat contact_sheet(const ImageRecord& record, int zoom = 3);

// Writes STEM.overlay.png and STEM.crops.png into `dir` (created if needed) for the picture in
// `bytes` and what segmentation found in it with `options`; throws Error.
void write_debug_images(const std::filesystem::path& dir, const std::string& stem, std::string_view bytes,
                        const SegmentOptions& options, const ImageRecord& record);

}  // namespace digits
