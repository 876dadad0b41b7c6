#pragma once
// The sheet in a photo of a sheet on a desk: the desk painted over with the paper nearest to it,
// so that the desk is neither the background the writing is judged against nor ink.

#include "segment/tuning.hpp"

#include <opencv2/core.hpp>

namespace digits {

// A sheet photographed on a darker desk, with the desk painted over by the paper nearest to it,
// so that the desk is neither the background the writing is judged against nor ink. The picture
// itself when no such sheet is found (a scan, a crop, a drawing, a sheet filling the frame).
cv::Mat isolate_page(const cv::Mat& gray, const PageTuning& tuning = {});

}  // namespace digits
