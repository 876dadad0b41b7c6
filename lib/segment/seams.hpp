#pragma once
// Where touching digits may part: seams, cheap paths from top to bottom that wind between strokes
// and cross ink only where digits meet, and the parts of a blob between them.

#include "segment/common.hpp"
#include "segment/tuning.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace digits {

// A cut between two touching digits: for each row the first column of the right-hand part.
// Unlike a straight cut it can wind between strokes, crossing ink only where the digits meet.
struct Seam {
  std::vector<int> x;
  int crossings = 0;  // strokes crossed: runs of ink along the path
  float cost = 0;     // what the path paid: ink crossed (in stroke widths), strokes entered, steps sideways
};

// How surely the classifier reads a blob as no one digit.
enum class Doubt {
  none,     // unread, or read as one digit
  doubted,  // read as no one digit: two 1s, or a 1 and a 7, leaning together are narrow
  certain,  // read as no digit at all: it must part somewhere, though the digits cross
};

// Narrower ink is one digit (or part of one): two digits side by side are wider. Unless the
// judge doubts it is one digit (`doubted`): two 1s, or a 1 and a 7, leaning together are narrow.
bool may_hold_two(const Blob& blob, double height, bool doubted = false, const SeamsTuning& tuning = {});

// The places where `blob` could hold two digits side by side: cheap seams crossing few strokes,
// left to right (by their mean column), each running apart from the cheaper ones though it may
// cross them. None for a blob narrower than two digits of the line (`height`) could be, or,
// when doubted, than two leaning together could be. A seam crosses one stroke (two in ink as
// wide as a digit is tall), one more when the doubt is certain.
// With `ink` (the ink map the blob was found in) a seam pays for the ink it cuts, not only the mask.
std::vector<Seam> candidate_seams(const Blob& blob, double height, const cv::Mat& ink = {}, Doubt doubt = Doubt::none,
                                  const SeamsTuning& tuning = {});

// True when seam a is nowhere right of seam b: the part between them is well defined.
bool left_of(const Seam& a, const Seam& b);

// The part of `blob` right of seam `left` and left of seam `right` (none: the blob's edge),
// shrunk to its ink; an empty box when it has none.
Blob part_between(const Blob& blob, const Seam* left, const Seam* right);

// The parts of `blob` between consecutive seams (which must not cross), each shrunk to its ink.
// A part without ink is left out.
std::vector<Blob> cut_at(const Blob& blob, const std::vector<Seam>& seams);

}  // namespace digits
