#pragma once
// Straight lines that are no writing: rules, grid lines and underlines across the page, and boxes
// drawn around digits (a form's fields), erased with the strokes crossing them restored.

#include "segment/common.hpp"
#include "segment/tuning.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace digits {

// Rules and grid lines span the page: a blob half as wide as the page or three quarters as tall
// may hold one; without such a blob there is no line to look for.
bool spans_page(const cv::Rect& box, const cv::Size& page);

// Removes long straight lines (ruled paper, grids, underlines; slanted up to ~15 degrees) from
// `mask`, restoring the strokes that cross them. Returns how many lines were removed. With
// `faint` (the same ink at a lower level), the lines are looked for there: a faint rule can be
// in `mask` only in pieces.
int remove_straight_lines(cv::Mat& mask, const cv::Mat& faint = {}, const RulesTuning& tuning = {});

// Removes boxes drawn around digits (a form's fields): blobs inside the picture with a thin
// straight line along at least three of the four sides of their bounding box, each over most
// (80%) of the side, and the lines parting a row of such boxes. They are erased, strokes crossing
// them restored. Returns how many lines were removed.
int remove_frames(cv::Mat& mask, const std::vector<Blob>& blobs, const RulesTuning& tuning = {});

}  // namespace digits
