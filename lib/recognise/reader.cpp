#include "recognise/reader.hpp"

#include "io/image.hpp"
#include "recognise/classify.hpp"
#include "recognise/inference.hpp"
#include "recognise/model.hpp"

namespace digits {

struct Reader::Impl {
  Impl(Model m, ReaderOptions o) : model(std::move(m)), options(std::move(o)), recogniser(model) {}
  Model model;
  ReaderOptions options;
  Recogniser recogniser;
  ClassifyOptions classify() const { return {options.alternatives, options.min_probability}; }
};

Reader::Reader(const std::filesystem::path& model, ReaderOptions options)
    : impl_(std::make_unique<Impl>(load_model(model.empty() ? default_model_path() : model), std::move(options))) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

ImageRecord Reader::segment(std::string_view bytes) {
  return segment_bytes(bytes, impl_->options.segment, &impl_->recogniser);
}

ImageRecord Reader::read(std::string_view bytes) {
  return recognise_bytes(bytes, impl_->recogniser, impl_->options.segment, impl_->classify());
}

ImageRecord Reader::read_file(const std::filesystem::path& image) {
  ImageRecord record = read(read_image_file(image, impl_->options.segment.max_pixels));
  record.image = image.string();
  return record;
}

void Reader::classify(ImageRecord& record) { classify_record(record, impl_->recogniser, impl_->classify()); }

}  // namespace digits
