#pragma once
// Finding handwritten digits in a picture: photos of paper, scans, canvas drawings; several
// lines, touching digits, either ink polarity. The stages, each in a header of its own (page,
// ink, size, binarise, rules, blobs, lines, seams, reading, crop), run in this order; this is
// what runs them all.

#include "io/records.hpp"
#include "segment/judge.hpp"
#include "segment/options.hpp"

#include <opencv2/core.hpp>

#include <functional>
#include <string_view>

namespace digits {

// Segments a decoded 8-bit grayscale image. The record's `image` is left empty for the caller.
// `judge` reads the candidate digits where the ink alone cannot tell where one digit ends and the
// next begins (touching digits, a digit in pieces); without one, shape alone decides, which
// splits touching digits less reliably. With `full`, `gray` was decoded smaller than that size
// (decode_reduced): the record and its boxes are in the full size's pixels, and `decode_full`, if
// given, decodes it at that size (asked only when small writing in a small part of a large photo
// is read again from that part). Throws TooLarge when the picture needs more work than the
// options allow (max_judged, deadline).
ImageRecord segment_image(const cv::Mat& gray, const SegmentOptions& options = {}, Judge* judge = nullptr,
                          cv::Size full = {}, const std::function<cv::Mat()>& decode_full = {});

// Decodes (with the options' pixel limit; a large JPEG no larger than the working size needs)
// and segments. Throws Error with a message that does not name the input (the caller does).
ImageRecord segment_bytes(std::string_view bytes, const SegmentOptions& options = {}, Judge* judge = nullptr);

}  // namespace digits
