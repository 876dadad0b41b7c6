#include "segment/blobs.hpp"

#include "segment/normalise.hpp"

#include <algorithm>
#include <utility>

namespace digits {

std::vector<Blob> find_blobs(const cv::Mat& mask) {
  cv::Mat labels;
  const auto boxes = label_components(mask, labels);
  std::vector<Blob> blobs;
  blobs.reserve(boxes.size());
  for (std::size_t i = 0; i < boxes.size(); ++i)
    blobs.push_back(blob_of(labels, boxes[i], static_cast<int>(i) + 1));
  return blobs;
}

double typical_height(const std::vector<Blob>& blobs, const cv::Size& picture, const BlobsTuning& tuning) {
  // What the frame cuts (a desk's edge, a scanner's dark border, a neighbour's stroke) is no
  // guide to the digits' size, unless nothing else is there (a tight crop).
  const auto at_frame = [&](const Blob& b) { return !picture.empty() && touches_frame(b.box, picture); };
  const bool inside_any = !std::ranges::all_of(blobs, at_frame);
  std::vector<std::pair<int, int>> height_area;
  long total = 0;
  for (const auto& b : blobs) {
    const int h = b.box.height, w = b.box.width;
    // Specks and line-shaped marks (chains of touching digits count).
    if (h < tuning.speck || w > tuning.max_wide * h || h > tuning.max_tall * w) continue;
    if (inside_any && at_frame(b)) continue;
    const int area = cv::countNonZero(b.mask);
    height_area.emplace_back(h, area);
    total += area;
  }
  if (height_area.empty()) return 0;
  std::ranges::sort(height_area);
  long seen = 0;
  for (const auto& [h, area] : height_area) {
    seen += area;
    if (2 * seen >= total) return h;
  }
  return height_area.back().first;
}

std::vector<Blob> merge_pieces(std::vector<Blob> blobs, double height, const BlobsTuning& tuning) {
  if (height <= 0) return blobs;
  for (bool changed = true; changed;) {
    changed = false;
    std::ranges::sort(blobs, [](const Blob& a, const Blob& b) { return a.box.area() < b.box.area(); });
    for (std::size_t i = 0; i < blobs.size() && !changed; ++i) {
      const cv::Rect piece = blobs[i].box;
      if (piece.height >= tuning.piece_height * height || std::max(piece.width, piece.height) < tuning.piece_size * height) continue;
      std::size_t best = blobs.size();
      long best_growth = 0;
      for (std::size_t j = 0; j < blobs.size(); ++j) {
        if (j == i) continue;
        const cv::Rect host = blobs[j].box;
        const cv::Rect both = piece | host;
        const cv::Rect widened(host.x - static_cast<int>(tuning.host_reach * height), host.y,
                               host.width + static_cast<int>(2 * tuning.host_reach * height), host.height);
        const bool above_or_below = horizontal_overlap(piece, widened) >= piece.width / 2;
        // A 5's flag, written as a stroke of its own, sets off rightwards from the top of the
        // belly: a flat piece level with the host's top, from its right part on, a little apart.
        const bool flag = piece.width >= tuning.flag_flatness * piece.height &&
                          piece.y + piece.height <= host.y + tuning.flag_top * host.height &&
                          piece.x >= host.x + host.width / tuning.flag_from_parts &&
                          -horizontal_overlap(piece, host) <= tuning.flag_gap * height;
        // The pieces' union may be taller than a typical digit (a 5's bar above its belly) or
        // wider (a wide 5), but not by as much as two digits or two lines would make it.
        const bool digit_sized = both.height <= tuning.merged_height * height &&
                                 both.width <= tuning.merged_width * std::max<double>(height, host.height);
        const bool close = vertical_gap(piece, host) <= tuning.merge_gap * height;
        if (!((above_or_below || flag) && digit_sized && close)) continue;
        const long growth = static_cast<long>(both.area()) - host.area();
        if (best == blobs.size() || growth < best_growth) best = j, best_growth = growth;
      }
      if (best == blobs.size()) continue;
      blobs[best] = joined(blobs[best], blobs[i]);
      blobs.erase(blobs.begin() + static_cast<std::ptrdiff_t>(i));
      changed = true;
    }
  }
  return blobs;
}

std::vector<Blob> drop_marks(std::vector<Blob> blobs, double height, const BlobsTuning& tuning) {
  std::erase_if(blobs, [&](const Blob& b) {
    const int h = b.box.height, w = b.box.width;
    if (h < tuning.min_digit_height || h < tuning.min_height * height) return true;     // specks, dots, dashes
    if (w > tuning.dash_aspect * h && h < tuning.dash_height * height) return true;    // underlines, minus signs
    if (h > tuning.blot_height * height && height > 0) return true;                    // blots and shadows
    const double fill = static_cast<double>(cv::countNonZero(b.mask)) / b.box.area();
    // Solid patches, not strokes: a digit in a thick marker, its loops closed, fills up to ~90%.
    return fill > tuning.max_fill && w > tuning.solid_aspect * h && h > tuning.solid_height * height;
  });
  return blobs;
}

std::vector<Blob> drop_frame_bands(std::vector<Blob> blobs, const cv::Size& picture, double height,
                                   const BlobsTuning& tuning) {
  std::erase_if(blobs, [&](const Blob& b) {
    const cv::Rect& r = b.box;
    const FrameSides at = frame_sides(r, picture);
    // In a picture many digits long, three digits' length along the frame is band enough: no
    // digit is that long.
    const auto long_along = [&](int length, int side) {
      return length >= std::max(std::min(side * tuning.band_side, tuning.band_digits * height), tuning.min_band_digits * height);
    };
    const bool along_side = (at.left != at.right) && long_along(r.height, picture.height);
    const bool along_edge = (at.top != at.bottom) && long_along(r.width, picture.width);
    return along_side || along_edge;
  });
  return blobs;
}

std::vector<Blob> drop_slivers(std::vector<Blob> blobs, const cv::Size& picture, bool lined, const BlobsTuning& tuning) {
  const auto suspect = [&](const cv::Rect& r) {
    const bool elongated = std::max(r.width, r.height) >= tuning.sliver_aspect * std::min(r.width, r.height);
    return elongated && (lined || touches_frame(r, picture));
  };
  if (std::ranges::none_of(blobs, [&](const Blob& b) { return suspect(b.box); })) return blobs;
  std::vector<double> strokes;
  for (const auto& b : blobs)
    if (!suspect(b.box)) strokes.push_back(stroke_width(b.mask));
  if (strokes.empty()) return blobs;  // nothing to compare with: a tight crop of a 1 is a 1
  const auto middle = strokes.begin() + static_cast<std::ptrdiff_t>(strokes.size() / 2);
  std::ranges::nth_element(strokes, middle);
  const double stroke = *middle;
  std::erase_if(blobs, [&](const Blob& b) { return suspect(b.box) && stroke_width(b.mask) < tuning.sliver_stroke * stroke; });
  return blobs;
}

}  // namespace digits
