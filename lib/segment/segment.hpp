#pragma once
// Finding handwritten digits in a picture: photos of paper, scans, canvas drawings; several
// lines, touching digits, either ink polarity. Each step is a function of its own so it can be
// tested and reused; segment_image runs them in order.

#include "io/image.hpp"
#include "segment/judge.hpp"
#include "segment/options.hpp"
#include "io/records.hpp"

#include <opencv2/core.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace digits {

// --- step 2: background and polarity ------------------------------------------------------------

// A sheet photographed on a darker desk, with the desk painted over by the paper nearest to it,
// so that the desk is neither the background the writing is judged against nor ink. The picture
// itself when no such sheet is found (a scan, a crop, a drawing, a sheet filling the frame).
cv::Mat isolate_page(const cv::Mat& gray);

// True when the ink is lighter than its surroundings (chalk on a board, white pen on black).
// Judged against a local background, so a lighting gradient does not decide it.
bool is_light_on_dark(const cv::Mat& gray);

// The ink's strength with the background taken out: 0 where the paper is, up to 255 for the
// darkest ink (dark-on-light input; pass light_on_dark for the other polarity). The background
// is a morphological closing at low resolution, so shadows, gradients and tinted or ruled paper
// are divided away rather than thresholded. With `paper_level`, also that background: the
// paper's level behind each pixel.
cv::Mat ink_map(const cv::Mat& gray, bool light_on_dark, cv::Mat* paper_level = nullptr);

// How many times smaller the picture (polarity as given) may be read with its digits still
// comfortably large: 1, 2 or 4, judged from a glance at a quarter of its size. Large writing
// carries no more information at full size, only more pixels to process.
int writing_reduction(const cv::Mat& gray, bool light_on_dark);

// --- step 3: binarisation and clean-up --------------------------------------------------------

struct Blob;

// The paper's noise in an ink map: the median and spread of its histogram, lightly smoothed.
struct PaperNoise {
  int median = 0;
  double sigma = 0;
};

// 255 for ink, 0 elsewhere: hysteresis between a contrast threshold chosen from the ink map's
// histogram (Otsu, never below a floor so paper noise stays paper) and half of it, so faint
// parts of a stroke survive when they touch a confident part. Where the noise sets the floor, it
// follows `paper_level` (ink_map's), when given: the same sensor noise is stronger in the map where
// the paper is darker; and a stroke is also confident where it stands out of the noise of the map
// smoothed a little more. The noise is the map's own, or `noise` where that is lower (the same
// picture's, measured at its own size, when this map is it enlarged); with `measured`, the noise
// it went by. With `blobs`, also the mask's blobs, as find_blobs would find them: the hysteresis
// has labelled them already. With `faint`, also the ink above a lower level, just out of the
// paper's noise.
cv::Mat binarise(const cv::Mat& ink, std::vector<Blob>* blobs = nullptr, cv::Mat* faint = nullptr,
                 const std::optional<PaperNoise>& noise = std::nullopt, PaperNoise* measured = nullptr,
                 const cv::Mat& paper_level = {});

// Removes long straight lines (ruled paper, grids, underlines; slanted up to ~15 degrees) from
// `mask`, restoring the strokes that cross them. Returns how many lines were removed. With
// `faint` (the same ink at a lower level), the lines are looked for there: a faint rule can be
// in `mask` only in pieces.
int remove_straight_lines(cv::Mat& mask, const cv::Mat& faint = {});

// --- step 4: components to digits ------------------------------------------------------------

// A candidate digit: its box in working coordinates and its own ink (255) within that box.
struct Blob {
  cv::Rect box;
  cv::Mat mask;             // CV_8U, box.size()
  std::optional<Crop> crop;  // its digit_crop, once made (read_line makes it to judge the blob)
  // Cut from a larger blob: the ink in its box that the cut left to its neighbours (CV_8U,
  // box.size(); empty when none). Its crop takes the soft edge around its strokes, not that.
  cv::Mat others;
};

std::vector<Blob> find_blobs(const cv::Mat& mask);

// Removes boxes drawn around digits (a form's fields): blobs inside the picture with a thin
// straight line along at least three of the four sides of their bounding box, each over most
// (80%) of the side, and the lines parting a row of such boxes. They are erased, strokes crossing
// them restored. Returns how many lines were removed.
int remove_frames(cv::Mat& mask, const std::vector<Blob>& blobs);

// The height of a typical digit: the area-weighted median height of the blobs that are not
// line-shaped, so specks barely count, and (given the `picture`'s size) of those inside the
// frame when there are any. 0 when there are none.
double typical_height(const std::vector<Blob>& blobs, const cv::Size& picture = {});

// Joins the pieces of one digit (a broken 5, 4 or 7, a dotted stroke) into it: a piece shorter
// than a digit joins the blob it overlaps horizontally when together they stay digit-sized.
std::vector<Blob> merge_pieces(std::vector<Blob> blobs, double height);

// How many columns two boxes share; negative: the gap between them.
int horizontal_overlap(const cv::Rect& a, const cv::Rect& b);

// One blob of the two, their masks combined.
Blob joined(const Blob& a, const Blob& b);

// Drops what is not a digit: specks, dots and dashes, underlines, large blots.
std::vector<Blob> drop_marks(std::vector<Blob> blobs, double height);

// Drops what runs along the picture's frame for half a side or three digits (`height`), whichever
// is shorter, and for one and a half digits at least, without reaching the opposite side: the desk
// beside a sheet, a shadow along its edge, a scanner's dark border. Writing that fills a tight
// crop reaches across it.
std::vector<Blob> drop_frame_bands(std::vector<Blob> blobs, const cv::Size& picture, double height);

// Drops the slivers the picture's frame cuts off straight lines (the end of a rule or a grid
// line, the edge of a sheet): long, thin, touching the frame, with strokes much thinner than the
// other blobs' (a 1 at the edge of a tight crop is written with the same pen as its neighbours).
// On `lined` paper (lines were removed), such slivers anywhere: the pieces of a wavy or broken
// line that the line search did not take.
std::vector<Blob> drop_slivers(std::vector<Blob> blobs, const cv::Size& picture, bool lined = false);

// --- step 5: lines and reading order ----------------------------------------------------------

// Groups digits into text lines (following the line's slope, so rotated or sloping writing
// stays one line) and orders them: lines top to bottom, digits left to right.
std::vector<std::vector<Blob>> group_lines(std::vector<Blob> blobs, double height);

// The blob's 28x28 crop: its own ink from the ink map, soft edges included, without the strokes
// of neighbours that reach into its box. The blob's `crop` when it has one.
Crop digit_crop(const cv::Mat& ink, const Blob& blob);

// Touching digits are split and side-by-side pieces joined line by line (read_line in cuts.hpp),
// after group_lines.

// --- everything ---------------------------------------------------------------------------------

// Segments a decoded 8-bit grayscale image. The record's `image` is left empty for the caller.
// `judge` reads the candidate digits where the ink alone cannot tell where one digit ends and the
// next begins (touching digits, a digit in pieces); without one, shape alone decides, which
// splits touching digits less reliably. With `full`, `gray` was decoded smaller than that size
// (decode_reduced): the record and its boxes are in the full size's pixels, and `decode_full`, if
// given, decodes it at that size (asked only when small writing in a small part of a large photo
// is read again from that part).
ImageRecord segment_image(const cv::Mat& gray, const SegmentOptions& options = {}, Judge* judge = nullptr,
                          cv::Size full = {}, const std::function<cv::Mat()>& decode_full = {});

// Decodes (with the options' pixel limit; a large JPEG no larger than the working size needs)
// and segments. Throws Error with a message that does not name the input (the caller does).
ImageRecord segment_bytes(std::string_view bytes, const SegmentOptions& options = {}, Judge* judge = nullptr);

}  // namespace digits
