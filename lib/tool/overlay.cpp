#include "tool/overlay.hpp"

#include "io/image.hpp"

#include "base/error.hpp"
#include "base/files.hpp"
#include "segment/normalise.hpp"

#include <fmt/format.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace digits {

namespace {

// One colour per line, so a digit filed under the wrong line stands out.
cv::Scalar line_colour(int line) {
  static const cv::Scalar colours[] = {{0, 180, 0}, {0, 0, 230}, {220, 120, 0}, {0, 160, 220}, {200, 0, 200}};
  return colours[static_cast<std::size_t>(line) % std::size(colours)];
}

std::string encode_png(const cv::Mat& img) {
  std::vector<std::uint8_t> bytes;
  if (!cv::imencode(".png", img, bytes)) throw Error("cannot encode a debug PNG");
  return {bytes.begin(), bytes.end()};
}

}  // namespace

cv::Mat draw_overlay(const cv::Mat& gray, const ImageRecord& record, int max_side) {
  const double scale = std::min(1.0, static_cast<double>(max_side) / std::max(gray.cols, gray.rows));
  cv::Mat shown;
  if (scale < 1)
    cv::resize(gray, shown, cv::Size(), scale, scale, cv::INTER_AREA);
  else
    shown = gray;
  // Boxes are in the record's pixels; `gray` may have been decoded smaller than that.
  const double to_shown = static_cast<double>(shown.cols) / (record.width > 0 ? record.width : gray.cols);
  cv::Mat canvas;
  cv::cvtColor(shown, canvas, cv::COLOR_GRAY2BGR);
  const double font = std::max(0.4, std::min(canvas.cols, canvas.rows) / 600.0);
  int index = 0, previous_line = -1;
  for (const auto& d : record.digits) {
    index = d.line == previous_line ? index + 1 : 0;
    previous_line = d.line;
    const cv::Rect box(static_cast<int>(d.box.x * to_shown), static_cast<int>(d.box.y * to_shown),
                       std::max(1, static_cast<int>(d.box.w * to_shown)), std::max(1, static_cast<int>(d.box.h * to_shown)));
    cv::rectangle(canvas, box, line_colour(d.line), 2);
    const cv::Point label(box.x, std::max(12, box.y - 4));
    cv::putText(canvas, fmt::format("{}.{}", d.line, index), label, cv::FONT_HERSHEY_SIMPLEX, font,
                line_colour(d.line), 1, cv::LINE_AA);
  }
  return canvas;
}

cv::Mat contact_sheet(const ImageRecord& record, int zoom) {
  const int tile = crop_side * zoom, gap = 4;
  std::size_t widest = 1;
  std::vector<std::vector<const DigitRecord*>> rows;
  for (std::size_t i = 0; i < record.digits.size(); ++i) {
    if (i == 0 || record.digits[i].line != record.digits[i - 1].line) rows.emplace_back();
    rows.back().push_back(&record.digits[i]);
    widest = std::max(widest, rows.back().size());
  }
  const int height = std::max(1, static_cast<int>(rows.size()));
  cv::Mat sheet(height * (tile + gap) + gap, static_cast<int>(widest) * (tile + gap) + gap, CV_8U, cv::Scalar(96));
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      cv::Mat big;
      cv::resize(crop_to_mat(rows[r][c]->pixels), big, cv::Size(tile, tile), 0, 0, cv::INTER_NEAREST);
      big.copyTo(sheet(cv::Rect(gap + static_cast<int>(c) * (tile + gap), gap + static_cast<int>(r) * (tile + gap),
                                tile, tile)));
    }
  return sheet;
}

void write_debug_images(const std::filesystem::path& dir, const std::string& stem, std::string_view bytes,
                        const SegmentOptions& options, const ImageRecord& record) {
  // The picture as segmentation saw it first (a large JPEG decoded smaller): enough to look at.
  const cv::Mat gray = decode_reduced(bytes, options.working_side, options.max_pixels).image;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot create debug directory {}: {}", dir.string(), ec.message()));
  write_file_atomic(dir / (stem + ".overlay.png"), encode_png(draw_overlay(gray, record)));
  write_file_atomic(dir / (stem + ".crops.png"), encode_png(contact_sheet(record)));
}

}  // namespace digits
