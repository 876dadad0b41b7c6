#include "segment/ink.hpp"

#include "segment/common.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdint>

namespace digits {

bool is_light_on_dark(const cv::Mat& gray, const PolarityTuning& tuning) {
  const int shorter = std::min(gray.cols, gray.rows);
  // About 75 px on the shorter side: strokes are fainter there but still lean the same way. In a
  // photo (over 1000 px) the writing may be a line in one corner, a pixel tall at 75: 300 px.
  const bool photo = shorter >= tuning.photo_side;
  const cv::Mat small = glance(gray, std::max(1, shorter / (photo ? tuning.photo_glance_side : tuning.glance_side)));
  // The surroundings (a median over a third of the picture) vary slowly: they are taken at a
  // quarter of that size and enlarged back, sixteen times fewer pixels to take medians over.
  const cv::Mat smaller = glance(small, tuning.surround_factor);
  cv::Mat local;
  const int k = odd(std::clamp(std::min(smaller.cols, smaller.rows) / tuning.surround_parts, 3, 99));
  cv::medianBlur(smaller, local, k);
  local = enlarge(local, tuning.surround_factor, small.size(), cv::INTER_LINEAR);
  // In a photo (over 1000 px on its shorter side) writing is a small part of the picture, and
  // lit or shaded patches a third of it across depart from that median as much: ink departs from
  // its nearer surroundings too, as its strokes see them: what an opening (or closing) a twelfth
  // across takes away, being lighter (darker) than all around it and narrower than that. A lit
  // patch wider than a twelfth, beside a shadow across the sheet, departs nowhere, not even along
  // the shadow's edge (where a median over a twelfth is half shade: desk photos framed in 4000x3000
  // read light on dark). Not in smaller pictures, which the writing may fill: there a twelfth can
  // lie within a bold stroke (polarity.patch_parts says what that cost).
  // (Their own buffers: written into `local`'s, they would overwrite it.)
  cv::Mat opened, closed;
  if (photo) {
    const int n = odd(std::max(3, std::min(small.cols, small.rows) / tuning.patch_parts));
    const cv::Mat square = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(n, n));
    cv::morphologyEx(small, opened, cv::MORPH_OPEN, square);
    cv::morphologyEx(small, closed, cv::MORPH_CLOSE, square);
  } else {
    opened = closed = local;
  }
  // Ink is the minority that departs strongly from its surroundings; which way it departs
  // is the polarity. Small departures (noise, gradients) are ignored.
  const int margin = tuning.margin;
  double darker = 0, lighter = 0;
  for (int y = 0; y < small.rows; ++y) {
    const auto* s = small.ptr<std::uint8_t>(y);
    const auto* l = local.ptr<std::uint8_t>(y);
    const auto* o = opened.ptr<std::uint8_t>(y);
    const auto* c = closed.ptr<std::uint8_t>(y);
    for (int x = 0; x < small.cols; ++x) {
      const int far = s[x] - l[x];
      const int d = far > 0 ? std::max(0, std::min(far, s[x] - o[x])) : std::min(0, std::max(far, s[x] - c[x]));
      if (d > margin) lighter += d - margin;
      if (-d > margin) darker += -d - margin;
    }
  }
  // A fine pen in a photo may not show at all at this size: then the paper's grain and light
  // decide, by a hair either way. Dark writing on paper is far the commoner: light ink must
  // clearly outweigh it there (chalk on a board photographed whole: no darker departure at all).
  return lighter > (photo ? tuning.photo_weight : 1) * darker;
}

cv::Mat ink_map(const cv::Mat& gray, bool light_on_dark, cv::Mat* paper_level, const InkTuning& tuning) {
  cv::Mat src;
  if (light_on_dark)
    cv::bitwise_not(gray, src);
  else
    src = gray;
  const int shorter = std::min(src.cols, src.rows);
  const int factor = shorter >= tuning.quarter_from ? 4 : shorter >= tuning.half_from ? 2 : 1;
  const cv::Mat small = shrink(src, factor);
  // The closing must be wider than any stroke: a quarter of the shorter side is, for writing
  // that fills the picture as much as for a page.
  const int k = odd(std::max(3, std::clamp(shorter / tuning.closing_parts, tuning.min_closing, tuning.max_closing) / factor));
  cv::Mat background;
  cv::morphologyEx(small, background, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));
  cv::blur(background, background, cv::Size(odd(k / 2), odd(k / 2)));
  background = enlarge(background, factor, src.size(), cv::INTER_LINEAR);
  cv::max(background, 1, background);
  if (paper_level != nullptr) *paper_level = background;
  cv::Mat paper;
  cv::divide(src, background, paper, 255.0);  // 255 where the paper is, whatever the lighting
  cv::Mat ink;
  cv::bitwise_not(paper, ink);
  return ink;
}

}  // namespace digits
