#pragma once
// The HTTP server around Service, on libmicrohttpd. Event-driven (epoll) with a small thread
// pool, so idle or slow clients hold no thread; every connection's memory is bounded (headers
// included); bodies are refused before they are read when chunked or longer than the limit.

#include "serve/service.hpp"

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
  // One address can hold a few dozen connections, so that several addresses trickling bytes
  // (slowloris) still leave most of the slots to everyone else.
  unsigned max_connections = 1024;
  unsigned max_connections_per_ip = 32;
  unsigned idle_timeout_seconds = 10;           // a connection silent this long is closed
  // Deadlines a trickle of bytes cannot push back, unlike the idle timeout: a request's headers
  // must be complete this long after the connection opened (or the previous answer was sent),
  // and its body this long after the headers (60 s: 10 MB at 1.4 Mbit/s). Past the first the
  // connection is closed; past the second the answer is 408.
  unsigned header_timeout_seconds = 10;
  unsigned upload_timeout_seconds = 60;
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
