#pragma once
// What digits-serve answers, independent of sockets: a request in, a response out.
// The same recognition as digits-classify (classify.hpp); nothing here reads digits itself.

#include "classify.hpp"
#include "model.hpp"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
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

HttpResponse json_response(int status, const nlohmann::ordered_json& body);
HttpResponse error_response(int status, std::string_view message);

struct ServiceOptions {
  SegmentOptions segment;
  ClassifyOptions classify;
  unsigned recognisers = 2;  // networks in the pool: requests recognised at the same time
};

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
};

}  // namespace digits
