#pragma once
// Pictures of what segmentation did, for a person to check (digits-segment --debug).

#include "records.hpp"

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>

namespace digits {

// The image in colour with every digit's box, its line and its place in reading order
// ("line.index"); pictures larger than `max_side` are shown scaled down.
cv::Mat draw_overlay(const cv::Mat& gray, const ImageRecord& record, int max_side = 1600);

// The 28x28 crops side by side in reading order, enlarged `zoom` times, one row per text line.
cv::Mat contact_sheet(const ImageRecord& record, int zoom = 3);

// Writes STEM.overlay.png and STEM.crops.png into `dir` (created if needed); throws Error.
void write_debug_images(const std::filesystem::path& dir, const std::string& stem, const cv::Mat& gray,
                        const ImageRecord& record);

}  // namespace digits
