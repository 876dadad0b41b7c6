#pragma once
// Reading a text line into digits where the ink does not say where one ends and the next begins:
// digits that touch or overlap, a digit broken into side-by-side pieces, a wide digit that must
// stay whole. The seams propose cuts; the judge, reading every digit each choice would make,
// decides.

#include "base/work.hpp"
#include "segment/common.hpp"
#include "segment/judge.hpp"
#include "segment/tuning.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace digits {

// How sure the judge is of a reading (`digits`, its digits' probabilities without the share of
// `not_digit`, the chance that it is not one digit): `temperature` times the log-probability of the
// likeliest output, the outputs softened to that temperature, that is -T log(1 + the sum over
// the other outputs of (p / p_top)^(1/T)); never above the plain log-probability (T = 1), nor
// below T `lowest` (log 1e-4). The plain one rounds to 0 for every confident reading: between two readings
// the network is sure of (a 5 and a 1 read apart, or the 5's flag given to the 1 and read 7) it
// cannot choose. Softened, a confident reading pays for its runner-up outputs by their margins.
double reading_score(const Probabilities& digits, float not_digit, double temperature,
                     double lowest = ReadingTuning{}.lowest_score);

// Reads one text line's blobs, left to right, into digits. Each blob is cut at its candidate
// seams into pieces; consecutive pieces (of one blob, or of neighbours close enough to be one
// digit) are then grouped into the digits whose reading is most plausible: each digit as sure
// as `judge` is of it (and that it is one digit, when the model has that output), shaped like a
// digit of the line, cutting few strokes; what the judge reads as no digit at all is dropped (the
// line may come back empty). Without a judge shape and cuts alone decide. `ink` is the ink map
// the blobs were found in. With `work`, each crop the judge reads is counted against its bound and
// the deadline is looked at as it goes (either throws TooLarge).
std::vector<Blob> read_line(std::vector<Blob> line, const cv::Mat& ink, Judge* judge,
                            const Tuning& tuning = default_tuning(), Work* work = nullptr);

}  // namespace digits
