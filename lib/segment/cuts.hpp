#pragma once
// Where one digit ends and the next begins when the ink does not say: digits that touch or
// overlap, a digit broken into side-by-side pieces, a wide digit that must stay whole. The ink's
// shape proposes cuts; the classifier, reading every digit each choice would make, decides.

#include "segment/judge.hpp"
#include "segment/segment.hpp"

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

// The places where `blob` could hold two digits side by side: cheap seams crossing few strokes,
// left to right (by their mean column), each running apart from the cheaper ones though it may
// cross them. None for a blob narrower than two digits of the line (`height`) could be, or,
// when doubted, than two leaning together could be. A seam crosses one stroke (two in ink as
// wide as a digit is tall), one more when the doubt is certain.
// With `ink` (the ink map the blob was found in) a seam pays for the ink it cuts, not only the mask.
std::vector<Seam> candidate_seams(const Blob& blob, double height, const cv::Mat& ink = {}, Doubt doubt = Doubt::none);

// The parts of `blob` between consecutive seams (which must not cross), each shrunk to its ink.
// A part without ink is left out.
std::vector<Blob> cut_at(const Blob& blob, const std::vector<Seam>& seams);

// How sure the judge is of a reading (`digits`, its digits' probabilities without the share of
// `not_digit`, the chance that it is not one digit): `temperature` times the log-probability of the
// likeliest output, the outputs softened to that temperature, that is -T log(1 + the sum over
// the other outputs of (p / p_top)^(1/T)); never above the plain log-probability (T = 1), nor
// below T log(1e-4). The plain one rounds to 0 for every confident reading: between two readings
// the network is sure of (a 5 and a 1 read apart, or the 5's flag given to the 1 and read 7) it
// cannot choose. Softened, a confident reading pays for its runner-up outputs by their margins.
double reading_score(const Probabilities& digits, float not_digit, double temperature);

// Reads one text line's blobs, left to right, into digits. Each blob is cut at its candidate
// seams into pieces; consecutive pieces (of one blob, or of neighbours close enough to be one
// digit) are then grouped into the digits whose reading is most plausible: each digit as sure
// as `judge` is of it (and that it is one digit, when the model has that output), shaped like a
// digit of the line, cutting few strokes; what the judge reads as no digit at all is dropped (the
// line may come back empty). Without a judge shape and cuts alone decide. `ink` is the ink map
// the blobs were found in.
std::vector<Blob> read_line(std::vector<Blob> line, const cv::Mat& ink, Judge* judge);

}  // namespace digits
