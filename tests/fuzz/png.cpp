// Our PNG decoding (lib/png.hpp) with libpng through cv::imdecode as the oracle: whenever our
// fast path returns pixels, libpng must decode the same bytes to the same pixels, and its grey
// must be ours (gray_like_libpng); and whenever both decode_image and the way PNGs were decoded
// before (cv::imdecode, then the flattening of transparency: tests/png_oracle.hpp) give a
// picture, it is the same one, for every kind of PNG, as tests/unit/test_png.cpp compares them.

#include "fuzz.hpp"

#include "../png_oracle.hpp"
#include "base/error.hpp"
#include "io/image.hpp"
#include "io/png.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>
#include <vector>

using namespace digits;

namespace {

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && (a.empty() || cv::norm(a, b, cv::NORM_INF) == 0);
}

cv::Mat libpng_reads(std::string_view bytes, int flags) {
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  return cv::imdecode(buffer, flags);
}

// libpng's pixels in PNG's channel order and count (OpenCV gives grey with alpha as BGRA).
cv::Mat in_png_order(const cv::Mat& bgr, int channels) {
  cv::Mat out;
  if (channels == 2 && bgr.channels() == 4) {
    std::vector<cv::Mat> planes;
    cv::split(bgr, planes);
    cv::merge(std::vector<cv::Mat>{planes[0], planes[3]}, out);
  } else if (bgr.channels() == 3) {
    cv::cvtColor(bgr, out, cv::COLOR_BGR2RGB);
  } else if (bgr.channels() == 4) {
    cv::cvtColor(bgr, out, cv::COLOR_BGRA2RGBA);
  } else {
    out = bgr;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_opencv();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::bytes_of(data, size);
  // As its caller (decode_image) does: the header's size is checked first.
  const auto header = read_image_header(bytes);
  if (!header || header->format != "png" || std::int64_t{header->width} * header->height > default_max_pixels) return 0;
  cv::Mat grey;
  try {
    grey = decode_image(bytes);
  } catch (const Error&) {
  }
  if (!grey.empty()) {
    const cv::Mat old = test::old_png_grey(bytes);
    FUZZ_CHECK(old.empty() || same(grey, old));
  }
  const auto ours = decode_simple_png(bytes);
  if (!ours) return 0;
  // Inflated a few rows at a time, as a picture too large for libdeflate: the same pixels.
  const auto streamed = decode_simple_png(bytes, 64);
  FUZZ_CHECK(streamed && same(*streamed, *ours));
  FUZZ_CHECK(!ours->empty() && ours->depth() == CV_8U && ours->channels() >= 1 && ours->channels() <= 4);
  FUZZ_CHECK(ours->cols == header->width && ours->rows == header->height);
  const cv::Mat theirs = libpng_reads(bytes, cv::IMREAD_UNCHANGED);
  FUZZ_CHECK(!theirs.empty());  // what we accept, libpng accepts
  FUZZ_CHECK(same(*ours, in_png_order(theirs, ours->channels())));
  if (ours->channels() == 1 || ours->channels() == 3) {
    const cv::Mat grey = ours->channels() == 3 ? gray_like_libpng(*ours) : *ours;
    FUZZ_CHECK(same(grey, libpng_reads(bytes, cv::IMREAD_GRAYSCALE)));
  }
  return 0;
}
