#include "segment/blobs.hpp"

#include "segment/normalise.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
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

namespace {

// Whether `piece` is one merge_pieces joins to a host: shorter than a digit, larger than a speck.
bool is_piece(const cv::Rect& piece, double height, const BlobsTuning& tuning) {
  return piece.height < tuning.piece_height * height && std::max(piece.width, piece.height) >= tuning.piece_size * height;
}

// How much `host`'s box grows when `piece` joins it (merge_pieces' rule), if it may join it.
std::optional<long> host_growth(const cv::Rect& piece, const cv::Rect& host, double height, const BlobsTuning& tuning) {
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
  if (!((above_or_below || flag) && digit_sized && close)) return std::nullopt;
  return static_cast<long>(both.area()) - host.area();
}

// The blobs that can take part in a join, as piece or as host, by where their box starts, in
// cells about a digit high: a join's union is at most merged_height digits tall and merged_width
// times a host that tall wide, so whatever can join a blob starts within that reach of it.
class Neighbourhood {
 public:
  Neighbourhood(const std::vector<Blob>& blobs, double height, const BlobsTuning& tuning)
      : reach_x_(static_cast<int>(std::ceil(tuning.merged_width * std::max(1.0, tuning.merged_height) * height)) + 1),
        reach_y_(static_cast<int>(std::ceil(tuning.merged_height * height)) + 1) {
    int right = 1, bottom = 1;
    for (const auto& b : blobs) right = std::max(right, b.box.br().x), bottom = std::max(bottom, b.box.br().y);
    // Cells a digit high; larger on a huge picture of tiny specks, so the grid stays a few MB.
    constexpr long max_cells = 1 << 18;
    cell_ = std::max(1, static_cast<int>(std::ceil(height)));
    while (static_cast<long>(right / cell_ + 1) * (bottom / cell_ + 1) > max_cells) cell_ *= 2;
    columns_ = right / cell_ + 1;
    rows_ = bottom / cell_ + 1;
    cells_.resize(static_cast<std::size_t>(columns_) * static_cast<std::size_t>(rows_));
  }

  // Too large to be a piece or a host: the union of a join is digit-sized (with a pixel of
  // slack for the rounding of those bounds).
  bool joinable(const cv::Rect& box) const { return box.width <= reach_x_ && box.height <= reach_y_; }

  void add(std::size_t id, const cv::Rect& box) { cells_[cell_of(box)].push_back(id); }
  void remove(std::size_t id, const cv::Rect& box) { std::erase(cells_[cell_of(box)], id); }

  // Every blob added whose box starts where one joined with `box` could start.
  template <class Visit>
  void near(const cv::Rect& box, Visit&& visit) const {
    const int x0 = std::max(0, (box.br().x - reach_x_) / cell_), x1 = std::min(columns_ - 1, std::max(0, box.x + reach_x_) / cell_);
    const int y0 = std::max(0, (box.br().y - reach_y_) / cell_), y1 = std::min(rows_ - 1, std::max(0, box.y + reach_y_) / cell_);
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x)
        for (const std::size_t id : cells_[static_cast<std::size_t>(y) * static_cast<std::size_t>(columns_) + static_cast<std::size_t>(x)])
          visit(id);
  }

 private:
  std::size_t cell_of(const cv::Rect& box) const {
    return static_cast<std::size_t>(std::max(0, box.y) / cell_) * static_cast<std::size_t>(columns_) +
           static_cast<std::size_t>(std::max(0, box.x) / cell_);
  }
  int reach_x_, reach_y_;
  int cell_ = 1, columns_ = 1, rows_ = 1;
  std::vector<std::vector<std::size_t>> cells_;
};

}  // namespace

// The rule, as first written: sort the blobs by box area (stably: among pieces of one area the
// first found goes first, whatever else the picture holds); join the first piece that has a host
// to the host its box grows least (the first in that order of those that grow alike); start
// again, until no piece has a host. Restarted so, it cost the cube of the blobs (a picture of
// noise, 3,000 blobs: 10 s). Here each piece's hosts are looked for among the blobs near it
// only, and a piece found without one is not asked again until a join makes a blob near it that
// could be one: nothing else changes what it could join. The same joins, in the same order.
std::vector<Blob> merge_pieces(std::vector<Blob> blobs, double height, const BlobsTuning& tuning) {
  if (height <= 0) return blobs;
  const std::size_t n = blobs.size();
  // The order of that sort: by area, then as found; a host that grew goes before the others of its
  // new area (a stable sort finds it before them, its old area having been smaller).
  struct Key {
    long area = 0, rank = 0;
    auto operator<=>(const Key&) const = default;
  };
  std::vector<Key> key(n);
  for (std::size_t i = 0; i < n; ++i) key[i] = {blobs[i].box.area(), static_cast<long>(i)};
  long grown_rank = 0;
  enum class State { inert, unasked, lone };  // lone: a piece with no host, until a join near it
  std::vector<State> state(n, State::inert);
  std::set<std::pair<Key, std::size_t>> unasked;  // the pieces to look for a host for, in order
  Neighbourhood around(blobs, height, tuning);
  const auto enter = [&](std::size_t id) {
    const cv::Rect& box = blobs[id].box;
    state[id] = State::inert;
    if (!around.joinable(box)) return;
    around.add(id, box);
    if (!is_piece(box, height, tuning)) return;
    state[id] = State::unasked;
    unasked.emplace(key[id], id);
  };
  const auto leave = [&](std::size_t id) {
    if (state[id] == State::unasked) unasked.erase({key[id], id});
    if (around.joinable(blobs[id].box)) around.remove(id, blobs[id].box);
    state[id] = State::inert;
  };
  for (std::size_t i = 0; i < n; ++i) enter(i);
  std::vector<bool> gone(n, false);
  while (!unasked.empty()) {
    const std::size_t piece = unasked.begin()->second;
    unasked.erase(unasked.begin());
    std::size_t best = n;
    long best_growth = 0;
    around.near(blobs[piece].box, [&](std::size_t host) {
      if (host == piece) return;
      const auto growth = host_growth(blobs[piece].box, blobs[host].box, height, tuning);
      if (growth && (best == n || *growth < best_growth || (*growth == best_growth && key[host] < key[best])))
        best = host, best_growth = *growth;
    });
    if (best == n) {
      state[piece] = State::lone;
      continue;
    }
    state[piece] = State::inert;
    around.remove(piece, blobs[piece].box);
    gone[piece] = true;
    leave(best);
    blobs[best] = joined(blobs[best], blobs[piece]);
    if (blobs[best].box.area() != key[best].area) key[best] = {blobs[best].box.area(), --grown_rank};
    enter(best);
    // The pieces near it that had no host may have one now: this blob.
    if (around.joinable(blobs[best].box))
      around.near(blobs[best].box, [&](std::size_t id) {
        if (state[id] == State::lone && host_growth(blobs[id].box, blobs[best].box, height, tuning)) {
          state[id] = State::unasked;
          unasked.emplace(key[id], id);
        }
      });
  }
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < n; ++i)
    if (!gone[i]) order.push_back(i);
  std::ranges::sort(order, {}, [&](std::size_t i) { return key[i]; });
  std::vector<Blob> out;
  out.reserve(order.size());
  for (const std::size_t i : order) out.push_back(std::move(blobs[i]));
  return out;
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
