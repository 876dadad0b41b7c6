#include "segment/crop.hpp"

#include "segment/normalise.hpp"

#include <opencv2/imgproc.hpp>

namespace digits {

Crop digit_crop(const cv::Mat& ink, const Blob& blob) {
  if (blob.crop) return *blob.crop;
  cv::Mat mask;
  cv::dilate(blob.mask, mask, cv::Mat());
  if (!blob.others.empty()) mask.setTo(0, blob.others);
  cv::Mat own = cv::Mat::zeros(blob.box.size(), CV_8U);
  ink(blob.box).copyTo(own, mask);
  return normalise_digit(own);
}

}  // namespace digits
