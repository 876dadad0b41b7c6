#include "serve/service.hpp"

#include "base/error.hpp"
#include "io/image.hpp"
#include "serve/web_assets.hpp"

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include <charconv>
#include <cmath>

namespace digits {

using json = nlohmann::ordered_json;

json server_response(const ImageRecord& record, int alternatives) {
  json predictions = json::array();
  for (const auto& d : record.digits) {
    json p{{"digit", d.digit.value_or(-1)},
           {"probability", round_probability(d.probability.value_or(0.0))},
           {"box", box_json(d.box)},
           {"line", d.line}};
    if (d.uncertain) p["uncertain"] = true;
    if (alternatives > 0) p["alternatives"] = alternatives_json(d.alternatives, static_cast<std::size_t>(alternatives));
    predictions.push_back(std::move(p));
  }
  return {{"success", true}, {"predictions", std::move(predictions)}, {"text", record.text.value_or("")}};
}

json server_error(std::string_view message) { return {{"success", false}, {"error", message}}; }

HttpResponse json_response(int status, const json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

HttpResponse error_response(int status, std::string_view message) { return json_response(status, server_error(message)); }

RecogniserPool::RecogniserPool(const Model& model, unsigned size) {
  for (unsigned i = 0; i < std::max(1u, size); ++i) free_.push_back(std::make_unique<Recogniser>(model));
}

RecogniserPool::Lease RecogniserPool::borrow() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !free_.empty(); });
  auto r = std::move(free_.back());
  free_.pop_back();
  return {*this, std::move(r)};
}

void RecogniserPool::give_back(std::unique_ptr<Recogniser> r) {
  {
    const std::scoped_lock lock(mutex_);
    free_.push_back(std::move(r));
  }
  available_.notify_one();
}

std::optional<MemoryBudget::Hold> MemoryBudget::acquire(std::size_t bytes, std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  const auto fits = [&] { return used_ == 0 || bytes <= total_ - std::min(total_, used_); };
  if (!freed_.wait_for(lock, wait, fits)) return std::nullopt;
  used_ += bytes;
  return std::optional<Hold>(std::in_place, *this, bytes);
}

std::size_t MemoryBudget::in_use() const {
  const std::scoped_lock lock(mutex_);
  return used_;
}

void MemoryBudget::release(std::size_t bytes) {
  {
    const std::scoped_lock lock(mutex_);
    used_ -= bytes;
  }
  freed_.notify_all();
}

std::size_t expected_memory(std::string_view bytes, int working_side) {
  // Segmentation's planes at the working size (and its zoomed pass) cost about this whatever the
  // picture; decoding adds about 8 bytes a decoded pixel (a transparent PNG: its RGBA rows and
  // the grey).
  constexpr std::size_t segmentation_bytes = std::size_t{96} << 20;
  constexpr std::size_t bytes_per_pixel = 8;
  const auto header = read_image_header(bytes);
  if (!header) return segmentation_bytes;
  const std::int64_t reduction = decode_reduction(*header, working_side);
  const std::int64_t pixels = std::int64_t{std::max(header->width, 0)} * std::max(header->height, 0) / (reduction * reduction);
  return segmentation_bytes + static_cast<std::size_t>(pixels) * bytes_per_pixel;
}

Service::Service(Model model, ServiceOptions options)
    : model_(std::move(model)), options_(options), pool_(model_, options.recognisers),
      budget_(options.memory_budget_bytes) {}

std::optional<std::string> Service::allowed_methods(const std::string& path) {
  if (path == "/api/digit_recognize") return "POST";
  if (path == "/" || path == "/healthz" || path == "/api/model") return "GET, HEAD";
  for (const auto& asset : web_assets())
    if (asset.path == path) return "GET, HEAD";
  return std::nullopt;
}

namespace {

std::optional<double> number_parameter(const HttpRequest& r, const std::string& name) {
  const auto it = r.query.find(name);
  if (it == r.query.end()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  // from_chars takes "nan" and "inf"; neither is a count or a probability.
  if (ec != std::errc() || end != it->second.data() + it->second.size() || !std::isfinite(value))
    throw UsageError(fmt::format("query parameter {}={} is not a number", name, it->second));
  return value;
}

HttpResponse asset_response(std::string_view path) {
  for (const auto& asset : web_assets()) {
    if (asset.path == path) {
      HttpResponse r{200, std::string(asset.content_type), std::string(asset.body), {}};
      r.headers = {{"Cache-Control", "no-cache"},
                   {"Content-Security-Policy",
                    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
                    "connect-src 'self'; frame-ancestors 'none'"}};
      return r;
    }
  }
  return error_response(404, fmt::format("no such page: {}", path));
}

}  // namespace

HttpResponse Service::handle(const HttpRequest& request) {
  const auto allowed = allowed_methods(request.path);
  if (!allowed) return error_response(404, fmt::format("no such path: {}", request.path));
  const bool get = request.method == "GET" || request.method == "HEAD";
  if ((request.path == "/api/digit_recognize" && request.method != "POST") || (request.path != "/api/digit_recognize" && !get)) {
    HttpResponse r = error_response(405, fmt::format("{} is not allowed on {} (use {})", request.method, request.path, *allowed));
    r.headers.emplace_back("Allow", *allowed);
    return r;
  }
  if (request.path == "/api/digit_recognize") return recognise(request);
  if (request.path == "/healthz") return json_response(200, {{"status", "ok"}, {"model", model_.info.value("name", model_.architecture)}});
  if (request.path == "/api/model") {
    json summary{{"architecture_name", model_.architecture}, {"parameters", model_.parameter_count()}};
    summary.update(model_.info);
    return json_response(200, summary);
  }
  return asset_response(request.path == "/" ? "/index.html" : request.path);
}

HttpResponse Service::recognise(const HttpRequest& request) {
  ClassifyOptions classify = options_.classify;
  try {
    if (const auto k = number_parameter(request, "alternatives")) {
      if (*k < 0 || *k > 10) throw UsageError("alternatives must be between 0 and 10");
      classify.alternatives = std::max(1, static_cast<int>(*k));
    }
    if (const auto p = number_parameter(request, "min_probability")) {
      if (*p < 0 || *p > 1) throw UsageError("min_probability must be between 0 and 1");
      classify.min_probability = *p;
    }
  } catch (const UsageError& e) {
    return error_response(400, e.what());
  }
  const int alternatives = request.query.contains("alternatives") ? classify.alternatives : 0;

  const std::string* image = nullptr;
  if (request.file) {
    image = &*request.file;
  } else if (request.content_type.starts_with("multipart/form-data")) {
    return error_response(400, "no file in the request: send the image as the multipart field \"file\"");
  } else if (request.content_type.starts_with("image/") || request.content_type.starts_with("application/octet-stream")) {
    image = &request.body;
  } else if (request.body.empty()) {
    return error_response(400, "no file in the request: send the image as the multipart field \"file\" or as an image/* body");
  } else {
    return error_response(400, fmt::format("not an image: content type \"{}\"", request.content_type));
  }
  if (image->empty()) return error_response(400, "no file in the request: the uploaded file is empty");

  const auto held = budget_.acquire(expected_memory(*image, options_.segment.working_side),
                                    std::chrono::milliseconds(options_.budget_wait_ms));
  if (!held) {
    HttpResponse busy = error_response(503, "the server is decoding as many pictures as its memory allows: try again shortly");
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  }
  try {
    auto lease = pool_.borrow();
    // The work's clock starts here, on the thread that does all of it: waiting above for memory
    // or for a network is no work.
    SegmentOptions segment = options_.segment;
    if (options_.work_timeout_seconds > 0) segment.deadline = Deadline(options_.work_timeout_seconds);
    const ImageRecord record = recognise_bytes(*image, *lease, segment, classify);
    return json_response(200, server_response(record, alternatives));
  } catch (const TooLarge& e) {
    // Over a size limit, or more work than a request may have (its CPU time, its candidate
    // digits), like a JPEG with too many scans: the content is too large to take, and sending it
    // again would not help (not 503), nor would sending it faster (not 408).
    return error_response(413, e.what());
  } catch (const Error& e) {
    return error_response(400, e.what());
  } catch (const cv::Exception& e) {
    return error_response(400, fmt::format("image processing failed: {}", e.err));
  }
}

}  // namespace digits
