#include "segment/segment.hpp"

#include "base/error.hpp"
#include "io/image.hpp"
#include "segment/binarise.hpp"
#include "segment/blobs.hpp"
#include "segment/crop.hpp"
#include "segment/ink.hpp"
#include "segment/levels.hpp"
#include "segment/lines.hpp"
#include "segment/page.hpp"
#include "segment/reading.hpp"
#include "segment/rules.hpp"
#include "segment/size.hpp"
#include "segment/tuning.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

namespace digits {

namespace {

// `r`, in a picture that is `original` scaled by `scale`, in the original's pixels: every pixel it
// touches, within the original.
Box original_box(const cv::Rect& r, double scale, const cv::Size& original) {
  const int x0 = std::clamp(static_cast<int>(std::floor(r.x / scale)), 0, original.width - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(r.y / scale)), 0, original.height - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil((r.x + r.width) / scale)), x0 + 1, original.width);
  const int y1 = std::clamp(static_cast<int>(std::ceil((r.y + r.height) / scale)), y0 + 1, original.height);
  return {x0, y0, x1 - x0, y1 - y0};
}

// The digits' blobs in a picture (polarity as given), the ink map they were found in and their
// typical height: ink, binarisation, rules and blobs, all before the lines are read.
struct Found {
  cv::Mat ink;
  std::vector<Blob> blobs;
  double height = 0;
  PaperNoise noise;  // binarise's
};

// `noise`: the paper's noise, when it is known from the same picture at its own size. `work`'s
// deadline is looked at between the steps.
Found find_digits(const cv::Mat& picture, bool light_on_dark, const Tuning& tuning, const Work& work,
                  const std::optional<PaperNoise>& noise = std::nullopt) {
  Found found;
  cv::Mat paper_level;
  found.ink = ink_map(picture, light_on_dark, &paper_level, tuning.ink);
  std::vector<Blob>& blobs = found.blobs;
  cv::Mat faint;
  cv::Mat mask = binarise(found.ink, &blobs, &faint, noise, &found.noise, paper_level, tuning.binarise);
  work.check();
  // Boxes drawn around digits (a form's fields) would pass for 0s and hide the digits inside.
  int removed = remove_frames(mask, blobs, tuning.rules);
  if (removed > 0) blobs = find_blobs(mask);
  // A dense grid can hide some of its lines from the first search (the strongest are found
  // first): look again while ink still spans the page.
  for (int pass = 0; pass < tuning.rules.passes; ++pass) {
    work.check();
    if (std::ranges::none_of(blobs, [&](const Blob& b) { return spans_page(b.box, mask.size()); })) break;
    const int lines = remove_straight_lines(mask, {}, tuning.rules);
    if (lines == 0) break;
    removed += lines;
    blobs = find_blobs(mask);
  }
  work.check();
  // A faint rule is in the mask only where it touches the digits written on it, in pieces too
  // short to be found: look for it where it is whole, at a lower level.
  if (const int lines = remove_straight_lines(mask, faint, tuning.rules); lines > 0) {
    removed += lines;
    blobs = find_blobs(mask);
  }
  work.check();
  found.height = typical_height(blobs, mask.size(), tuning.blobs);
  blobs = merge_pieces(std::move(blobs), found.height, tuning.blobs);
  blobs = drop_marks(std::move(blobs), found.height, tuning.blobs);
  blobs = drop_frame_bands(std::move(blobs), mask.size(), found.height, tuning.blobs);
  blobs = drop_slivers(std::move(blobs), mask.size(), removed > 0, tuning.blobs);
  work.check();
  return found;
}

// How a working picture's pixels map to the original's, in which the record gives its boxes: the
// working picture is `part` of a source scaled by `scale`, the source being the original scaled by
// `source_scale` (the original itself, or the picture decoded at another size). A first pass reads
// the whole original; a second pass is another frame: the part of it where small writing lies, or
// the whole at twice the working size.
struct Frame {
  cv::Size original;
  double source_scale = 1;  // source = original * source_scale
  cv::Rect part;            // in the source's pixels
  double scale = 1;         // working = part * scale (set when the working picture is made)

  static Frame whole(cv::Size original) { return {original, 1, cv::Rect({}, original)}; }

  // A box of the working picture in the original's pixels: in the part's pixels, then placed in
  // the source and scaled to the original (which changes nothing for the whole original).
  Box to_original(const cv::Rect& working) const {
    const Box in_part = original_box(working, scale, part.size());
    const cv::Rect in_source(in_part.x + part.x, in_part.y + part.y, in_part.w, in_part.h);
    return original_box(in_source, source_scale, original);
  }
};

// A picture looked at up to its digits' blobs (page, polarity, size, ink, blobs): what the lines
// are read from.
struct Sight {
  Found found;
  Frame frame;                // the working picture's, in which `found` lies
  cv::Size size;              // the working picture's
  bool light_on_dark = false;
  bool small = false;         // small writing the picture is too large to enlarge whole for
};

// `picture` (the frame's part of the source, or that decoded smaller) looked at up to its blobs;
// `work`'s deadline looked at between the steps.
Sight look(const cv::Mat& picture, Frame frame, const SegmentOptions& options, const Tuning& tuning, const Work& work) {
  Working working = to_working_resolution(picture, options.working_side);
  working.scale *= static_cast<double>(picture.cols) / frame.part.width;  // working = part * scale
  // A sheet photographed on a desk: the desk is no part of the writing (and, darker than the
  // sheet, would pass for the picture's background and the sheet for ink).
  const cv::Mat isolated =
      options.polarity == Polarity::light_on_dark ? working.image : isolate_page(working.image, tuning.page);
  work.check();
  const bool light_on_dark = options.polarity == Polarity::automatic ? is_light_on_dark(isolated, tuning.polarity)
                                                                     : options.polarity == Polarity::light_on_dark;
  // Large writing is read smaller: the same digits, a fraction of the pixels.
  const int reduction = writing_reduction(isolated, light_on_dark, tuning);
  const cv::Mat reduced = shrink(isolated, reduction);
  working.scale /= reduction;
  work.check();
  Found found = find_digits(reduced, light_on_dark, tuning, work);
  // Small writing is read again at twice its size: strokes that nearly meet (touching digits,
  // a loop almost closed) part in the enlarged ink's grey levels, and seams find room between them.
  const double enlarged_area = 4.0 * static_cast<double>(reduced.total());
  const double working_area = static_cast<double>(options.working_side) * options.working_side;
  const bool small = small_writing(found.height, tuning.size);
  const bool enlarge = small && enlarged_area <= working_area;
  if (enlarge) {
    cv::Mat enlarged;
    cv::resize(reduced, enlarged, cv::Size(reduced.cols * 2, reduced.rows * 2), 0, 0, cv::INTER_CUBIC);
    // With the paper's noise as measured at the picture's own size too: enlarged, the noise's
    // grain is as coarse as the light smoothing before thresholding, and measured there alone it
    // would pass for much stronger (a dim photo's small writing then fell below the floor).
    found = find_digits(enlarged, light_on_dark, tuning, work, found.noise);
    working.scale *= 2;
  }
  frame.scale = working.scale;
  const cv::Size size = enlarge ? cv::Size(reduced.cols * 2, reduced.rows * 2) : reduced.size();
  return {std::move(found), frame, size, light_on_dark, small && !enlarge};
}

// The digits of what `sight` found, line by line, in the original's pixels; each crop judged
// counted in `work`.
std::vector<DigitRecord> read(Sight& sight, Judge* judge, const Tuning& tuning, Work& work) {
  auto lines = group_lines(std::move(sight.found.blobs), sight.found.height, tuning.lines);
  for (auto& line : lines) line = read_line(std::move(line), sight.found.ink, judge, tuning, &work);
  std::erase_if(lines, [](const std::vector<Blob>& line) { return line.empty(); });  // all noise
  std::vector<DigitRecord> digits;
  for (std::size_t l = 0; l < lines.size(); ++l)
    for (const auto& blob : lines[l]) {
      DigitRecord digit;
      digit.box = sight.frame.to_original(blob.box);
      digit.line = static_cast<int>(l);
      digit.pixels = digit_crop(sight.found.ink, blob);
      digits.push_back(std::move(digit));
    }
  return digits;
}

}  // namespace

ImageRecord segment_image(const cv::Mat& gray, const SegmentOptions& options, Judge* judge, cv::Size full,
                          const std::function<cv::Mat()>& decode_full) {
  if (gray.empty() || gray.type() != CV_8UC1) throw Error("segment_image needs a non-empty 8-bit grayscale image");
  if (full.empty()) full = gray.size();
  // The picture at its finest: a JPEG decoded smaller than it is holds finer strokes at full size.
  // Decoded once, when first asked for (by a second pass).
  std::optional<cv::Mat> full_decode;
  const auto finest = [&] {
    if (!decode_full || gray.size() == full) return gray;
    if (!full_decode) full_decode = decode_full();
    return full_decode->size() == full ? *full_decode : gray;
  };
  const Tuning& tuning = options.tuning ? *options.tuning : default_tuning();
  Work work(options.deadline, options.max_judged);  // the whole picture's, through every pass
  ImageRecord record;
  record.width = full.width;
  record.height = full.height;
  Sight sight = look(gray, Frame::whole(full), options, tuning, work);
  // A photo too large to enlarge whole, its writing small in a small part of it (a line on a
  // sheet photographed whole): that part alone has room to be enlarged, and more pixels to begin
  // with when the picture was larger than the working size.
  if (sight.small) {
    const cv::Rect writing = writing_part(sight.found.blobs, sight.found.height, sight.size, tuning.size);
    if (!writing.empty()) {
      const cv::Mat source = finest();
      const double source_scale = static_cast<double>(source.cols) / full.width;  // source = full * source_scale
      const Box b = original_box(writing, sight.frame.scale / source_scale, source.size());
      const cv::Rect part(b.x, b.y, b.w, b.h);
      SegmentOptions within = options;
      // The part's polarity is the picture's: the part may hold little paper around the ink.
      within.polarity = sight.light_on_dark ? Polarity::light_on_dark : Polarity::dark_on_light;
      Sight in_part = look(source(part), Frame{full, source_scale, part}, within, tuning, work);
      if (auto digits = read(in_part, judge, tuning, work); !digits.empty()) {
        record.digits = std::move(digits);
        return record;
      }
    }
  }
  record.digits = read(sight, judge, tuning, work);
  // Nothing at all in a photo much larger than the working size: writing too small or faint to
  // show there (a fine pen in one corner of a 12 MP photo) may show at twice that size.
  const int closer_side = tuning.size.closer * options.working_side;
  if (record.digits.empty() && std::max(full.width, full.height) >= closer_side) {
    const cv::Mat source = finest();
    if (std::max(source.cols, source.rows) >= closer_side) {
      SegmentOptions closer_options = options;
      closer_options.working_side = closer_side;
      Sight closer = look(source, Frame::whole(full), closer_options, tuning, work);
      record.digits = read(closer, judge, tuning, work);
    }
  }
  return record;
}

ImageRecord segment_bytes(std::string_view bytes, const SegmentOptions& options, Judge* judge) {
  const Decoded decoded = decode_reduced(bytes, options.working_side, options.max_pixels);
  return segment_image(decoded.image, options, judge, decoded.full, [&] { return decode_image(bytes, options.max_pixels); });
}

}  // namespace digits
