// The service's request handling (lib/http.hpp), behind libmicrohttpd's parsing: the input is
//   METHOD \n PATH \n QUERY \n CONTENT-TYPE \n BODY
// with QUERY as name=value pairs joined by '&' (already decoded, as libmicrohttpd hands them
// over). A multipart content type with a body stands for an upload in the field "file". The
// Service runs the shipped model; every request must be answered with a status we mean and JSON.

#include "fuzz.hpp"

#include "recognise/model.hpp"
#include "serve/service.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

using namespace digits;

namespace {

std::unique_ptr<Service> service;

std::string_view next_line(std::string_view& rest) {
  const std::size_t end = rest.find('\n');
  const std::string_view line = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_opencv();
  ServiceOptions options;
  options.recognisers = 1;
  service = std::make_unique<Service>(load_model(DIGITS_SOURCE_DIR "/models/digits-cnn.model"), options);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest = fuzz::bytes_of(data, size);
  HttpRequest request;
  request.method = next_line(rest);
  request.path = next_line(rest);
  std::string_view query = next_line(rest);
  while (!query.empty()) {
    const std::size_t end = query.find('&');
    const std::string_view pair = query.substr(0, end);
    const std::size_t eq = pair.find('=');
    request.query[std::string(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    query.remove_prefix(end == std::string_view::npos ? query.size() : end + 1);
  }
  request.content_type = next_line(rest);
  if (request.content_type.starts_with("multipart/form-data") && !rest.empty())
    request.file = std::string(rest);
  else
    request.body = rest;

  const HttpResponse response = service->handle(request);
  FUZZ_CHECK(response.status == 200 || response.status == 400 || response.status == 404 || response.status == 405 ||
             response.status == 413 || response.status == 503);
  if (response.content_type == "application/json") {
    const auto json = nlohmann::json::parse(response.body, nullptr, false);
    FUZZ_CHECK(!json.is_discarded() && json.is_object());
    // A refusal says so, in the seed's shape: {"success":false,"error":"..."}.
    if (response.status != 200) FUZZ_CHECK(json.value("success", true) == false && json.contains("error"));
  } else {
    FUZZ_CHECK(response.status == 200);
  }
  return 0;
}
