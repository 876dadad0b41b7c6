#pragma once
// What digits-serve answers, independent of sockets: a request in, a response out.
// The same recognition as digits-classify (classify.hpp); nothing here reads digits itself.

#include "recognise/classify.hpp"
#include "recognise/model.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace digits {

struct HttpRequest {
  std::string method;                           // "GET", "POST", ...
  std::string path;                             // without the query
  std::map<std::string, std::string> query;
  std::string content_type;                     // of the body, e.g. "image/png" or "multipart/form-data; ..."
  std::string body;                             // a raw upload
  std::optional<std::string> file;              // the multipart field "file", when there was one
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The server's answer, the seed's shape: {"success":true,"predictions":[...],"text":"..."}.
// `alternatives` > 0 adds that many alternatives per prediction.
nlohmann::ordered_json server_response(const ImageRecord& record, int alternatives = 0);
nlohmann::ordered_json server_error(std::string_view message);

HttpResponse json_response(int status, const nlohmann::ordered_json& body);
HttpResponse error_response(int status, std::string_view message);

struct ServiceOptions {
  SegmentOptions segment;
  ClassifyOptions classify;
  unsigned recognisers = 2;  // networks in the pool: requests recognised at the same time
  // Memory that the pictures being decoded and segmented may take together (see MemoryBudget);
  // a request that would pass it waits up to budget_wait_ms, then is answered 503.
  std::size_t memory_budget_bytes = std::size_t{1} << 30;
  unsigned budget_wait_ms = 2000;
  // CPU seconds reading one request's picture may take on its thread, decoding included (looked
  // at as segmentation goes); past it the answer is 413 (0: no limit). Pictures of writing take
  // well under a second; a page of noise is refused by segmentation's own bound on candidate
  // digits (SegmentOptions::max_judged) within about 6 s.
  double work_timeout_seconds = 10;
};

// Bytes shared by the requests in flight: each holds what its picture will cost before decoding
// it, so many large uploads at once wait their turn instead of growing the process without bound.
class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t total) : total_(total) {}
  class Hold {
   public:
    Hold(MemoryBudget& budget, std::size_t bytes) : budget_(&budget), bytes_(bytes) {}
    Hold(Hold&& other) noexcept : budget_(std::exchange(other.budget_, nullptr)), bytes_(other.bytes_) {}
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    Hold& operator=(Hold&&) = delete;
    ~Hold() {
      if (budget_ != nullptr) budget_->release(bytes_);
    }

   private:
    MemoryBudget* budget_;
    std::size_t bytes_;
  };
  // nullopt when `bytes` did not become free within `wait`; a request larger than the whole
  // budget waits until it is alone.
  std::optional<Hold> acquire(std::size_t bytes, std::chrono::milliseconds wait);
  std::size_t in_use() const;

 private:
  void release(std::size_t bytes);
  const std::size_t total_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::size_t used_ = 0;
};

// What decoding and segmenting a picture with this header is expected to take at its peak:
// measured with heaptrack on a 40 MP RGBA PNG (414 MB) and on photos; JPEGs are decoded reduced.
std::size_t expected_memory(std::string_view bytes, int working_side);

// Recognisers for concurrent requests: each request borrows one (networks are not reentrant).
class RecogniserPool {
 public:
  RecogniserPool(const Model& model, unsigned size);
  class Lease {
   public:
    Lease(RecogniserPool& pool, std::unique_ptr<Recogniser> r) : pool_(pool), recogniser_(std::move(r)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(recogniser_)); }
    Recogniser& operator*() { return *recogniser_; }

   private:
    RecogniserPool& pool_;
    std::unique_ptr<Recogniser> recogniser_;
  };
  Lease borrow();

 private:
  void give_back(std::unique_ptr<Recogniser> r);
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Recogniser>> free_;
};

class Service {
 public:
  Service(Model model, ServiceOptions options);
  HttpResponse handle(const HttpRequest& request);

  // Paths this service answers, with the methods each allows (for 405 versus 404).
  static std::optional<std::string> allowed_methods(const std::string& path);

 private:
  HttpResponse recognise(const HttpRequest& request);
  Model model_;
  ServiceOptions options_;
  RecogniserPool pool_;
  MemoryBudget budget_;
};

}  // namespace digits
