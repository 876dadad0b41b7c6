#pragma once
// Text lines and reading order: digits grouped into lines that follow their slope, lines top to
// bottom, digits left to right.

#include "segment/common.hpp"
#include "segment/tuning.hpp"

#include <vector>

namespace digits {

// Groups digits into text lines (following the line's slope, so rotated or sloping writing
// stays one line) and orders them: lines top to bottom, digits left to right.
std::vector<std::vector<Blob>> group_lines(std::vector<Blob> blobs, double height, const LinesTuning& tuning = {});

}  // namespace digits
