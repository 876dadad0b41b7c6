#pragma once
// The HTTP server around Service, on libmicrohttpd. Event-driven (epoll) with a small thread
// pool, so idle or slow clients hold no thread; every connection's memory is bounded (headers
// included); bodies are refused before they are read when chunked or longer than the limit.

#include "http.hpp"

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace digits {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 5000;                              // 0: any free port (see Server::port)
  unsigned threads = 0;                         // event loops; 0: all cores
  std::size_t max_upload_bytes = 10u << 20;
  unsigned max_connections = 512;
  unsigned max_connections_per_ip = 128;
  unsigned idle_timeout_seconds = 10;           // a connection silent this long is closed
  std::size_t connection_memory_bytes = 64u << 10;  // per connection: request line and headers must fit
  std::function<void(const std::string&)> log = [](const std::string&) {};  // one line per request
};

class Server {
 public:
  // Starts listening at once; throws Error when it cannot (address in use, bad host).
  Server(Service& service, ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  int port() const;
  // Blocks until `stop` becomes true (polled), then stops accepting and closes connections.
  void run_until(const std::atomic<bool>& stop);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace digits
