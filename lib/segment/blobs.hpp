#pragma once
// From ink to candidate digits: the mask's connected components (blobs), their typical height,
// the pieces of one digit joined, and what is no digit dropped (specks, dashes, blots, the desk
// along the frame, slivers of lines).

#include "segment/common.hpp"
#include "segment/tuning.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace digits {

// The 8-connected components of `mask`, in raster order of their first pixel.
std::vector<Blob> find_blobs(const cv::Mat& mask);

// The height of a typical digit: the area-weighted median height of the blobs that are not
// line-shaped, so specks barely count, and (given the `picture`'s size) of those inside the
// frame when there are any. 0 when there are none.
double typical_height(const std::vector<Blob>& blobs, const cv::Size& picture = {}, const BlobsTuning& tuning = {});

// Joins the pieces of one digit (a broken 5, 4 or 7, a dotted stroke) into it: a piece shorter
// than a digit joins the blob it overlaps horizontally when together they stay digit-sized.
// The blobs come back by box area; of one area, a blob a join made larger first, then the others
// in the order given.
std::vector<Blob> merge_pieces(std::vector<Blob> blobs, double height, const BlobsTuning& tuning = {});

// Drops what is not a digit: specks, dots and dashes, underlines, large blots.
std::vector<Blob> drop_marks(std::vector<Blob> blobs, double height, const BlobsTuning& tuning = {});

// Drops what runs along the picture's frame for half a side or three digits (`height`), whichever
// is shorter, and for one and a half digits at least, without reaching the opposite side: the desk
// beside a sheet, a shadow along its edge, a scanner's dark border. Writing that fills a tight
// crop reaches across it.
std::vector<Blob> drop_frame_bands(std::vector<Blob> blobs, const cv::Size& picture, double height,
                                   const BlobsTuning& tuning = {});

// Drops the slivers the picture's frame cuts off straight lines (the end of a rule or a grid
// line, the edge of a sheet): long, thin, touching the frame, with strokes much thinner than the
// other blobs' (a 1 at the edge of a tight crop is written with the same pen as its neighbours).
// On `lined` paper (lines were removed), such slivers anywhere: the pieces of a wavy or broken
// line that the line search did not take.
std::vector<Blob> drop_slivers(std::vector<Blob> blobs, const cv::Size& picture, bool lined = false,
                               const BlobsTuning& tuning = {});

}  // namespace digits
