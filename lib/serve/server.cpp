#include "serve/server.hpp"

#include "base/error.hpp"
#include "base/parallel.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace digits {

// Everything the C callbacks need, reached through their `cls` pointer.
struct Server::Impl {
  // A constructor of its own: clang 14 (the fuzz build) has no C++20 aggregate init with ().
  Impl(Service& s, ServerOptions o) : service(s), options(std::move(o)) {}
  Service& service;
  ServerOptions options;
  MHD_Daemon* daemon = nullptr;
  // Bytes of request bodies held in memory across all connections: a bound on upload memory
  // however many clients upload at once.
  std::atomic<std::size_t> buffered{0};
  std::size_t buffered_limit = 0;
  std::string startup_message;  // what libmicrohttpd said while starting, for our one error line

  // Every open connection's socket and the time by which it must have moved on: its headers
  // complete, or its body read. A watchdog shuts down the sockets that miss theirs, since
  // libmicrohttpd's own timeout is an idle timer that any byte resets.
  struct Watched {
    int fd = -1;
    std::chrono::steady_clock::time_point deadline;
  };
  std::mutex watched_mutex;
  std::unordered_map<MHD_Connection*, Watched> watched;
  std::mutex stop_mutex;
  std::condition_variable stop_signal;
  bool stopping = false;
  std::thread watchdog;

  void set_deadline(MHD_Connection* c, std::chrono::steady_clock::time_point deadline) {
    const std::lock_guard lock(watched_mutex);
    if (const auto it = watched.find(c); it != watched.end()) it->second.deadline = deadline;
  }
};

namespace {

using Clock = std::chrono::steady_clock;

Clock::duration seconds(unsigned n) { return std::chrono::seconds(n); }

// One request's state between libmicrohttpd's calls (headers, body pieces, end of body).
struct RequestState {
  Server::Impl* server = nullptr;
  Clock::time_point started = Clock::now();
  HttpRequest request;
  MHD_PostProcessor* post = nullptr;
  std::size_t received = 0;
  bool body_unread = false;  // answered before reading the body (chunked, or over the limit)
  bool responded = false;
  // Refused while its body was arriving (the upload cap, a malformed form): libmicrohttpd can
  // only answer once the body is in, so the rest of it is read and dropped, then this is sent.
  std::optional<HttpResponse> refusal;
  ~RequestState() {
    if (post != nullptr) MHD_destroy_post_processor(post);
    server->buffered -= received;
  }
};

std::string header(MHD_Connection* c, const char* name) {
  const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
  return v != nullptr ? v : "";
}

MHD_Result collect_query(void* cls, MHD_ValueKind, const char* key, const char* value) {
  static_cast<HttpRequest*>(cls)->query[key] = value != nullptr ? value : "";
  return MHD_YES;
}

MHD_Result send(MHD_Connection* c, RequestState& state, const HttpResponse& r) {
  MHD_Response* response = MHD_create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()),
                                                           MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", r.content_type.c_str());
  MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : r.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
  // An answer given before the body was read leaves the rest of it in the socket: close.
  if (state.body_unread) MHD_add_response_header(response, "Connection", "close");
  const MHD_Result queued = MHD_queue_response(c, static_cast<unsigned>(r.status), response);
  MHD_destroy_response(response);
  state.responded = true;
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - state.started).count();
  state.server->options.log(fmt::format("{:%Y-%m-%dT%H:%M:%SZ} {} {} {} {}B {:.1f}ms",
                                        fmt::gmtime(std::time(nullptr)), state.request.method, state.request.path,
                                        r.status, r.body.size(), ms));
  return queued;
}

MHD_Result on_post_field(void* cls, MHD_ValueKind, const char* key, const char* /*filename*/, const char* /*type*/,
                         const char* /*encoding*/, const char* data, uint64_t offset, size_t size) {
  auto& state = *static_cast<RequestState*>(cls);
  if (std::strcmp(key, "file") != 0 || state.refusal) return MHD_YES;
  if (!state.request.file) {
    state.request.file.emplace();
  } else if (offset == 0 && size > 0) {
    // A second "file" part: which one was meant is not ours to guess, nor to glue them together.
    state.request.file.reset();
    state.refusal = error_response(400, "more than one \"file\" part in the form: send one picture a request");
    return MHD_YES;
  }
  state.request.file->append(data, size);
  return MHD_YES;
}

bool is_chunked(MHD_Connection* c) {
  std::string te = header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  for (auto& ch : te) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return te.find("chunked") != std::string::npos;
}

// How many times a header appears (libmicrohttpd keeps them all; lookups see only the first).
std::size_t header_count(MHD_Connection* c, const char* name) {
  struct Count {
    const char* name;
    std::size_t n = 0;
  } count{name};
  MHD_get_connection_values(
      c, MHD_HEADER_KIND,
      [](void* cls, MHD_ValueKind, const char* key, const char*) {
        auto* counting = static_cast<Count*>(cls);
        if (strcasecmp(key, counting->name) == 0) ++counting->n;
        return MHD_YES;
      },
      &count);
  return count.n;
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char* version,
                      const char* upload_data, size_t* upload_size, void** request_cls) {
  auto* server = static_cast<Server::Impl*>(cls);
  auto* state = static_cast<RequestState*>(*request_cls);
  if (state == nullptr) {
    // Headers are in, no body read yet: everything about the body's size is decided here.
    auto fresh = std::make_unique<RequestState>();
    fresh->server = server;
    fresh->request.method = method;
    fresh->request.path = url;
    fresh->request.content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &fresh->request);
    state = fresh.release();  // owned by libmicrohttpd until on_completed
    *request_cls = state;
    // The body has its own deadline from now; a silent client is closed by the idle timeout
    // first, a trickling one is answered 408 below (the watchdog's is a last resort).
    server->set_deadline(c, state->started + seconds(server->options.upload_timeout_seconds + 5));

    // Ambiguous framing is refused rather than guessed: two lengths may be read differently by a
    // proxy in front of us (request smuggling), and HTTP/1.1 requires Host.
    if (header_count(c, MHD_HTTP_HEADER_CONTENT_LENGTH) > 1) {
      state->body_unread = true;
      return send(c, *state, error_response(400, "more than one Content-Length header"));
    }
    if (std::strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && header_count(c, MHD_HTTP_HEADER_HOST) != 1) {
      state->body_unread = true;
      return send(c, *state, error_response(400, "an HTTP/1.1 request needs exactly one Host header"));
    }

    const std::string length = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (is_chunked(c)) {
      state->body_unread = true;
      return send(c, *state, error_response(411, "chunked uploads are not accepted: send a Content-Length"));
    }
    if (!length.empty()) {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(length.c_str(), &end, 10);
      if (end == length.c_str() || *end != '\0' || n > server->options.max_upload_bytes) {
        state->body_unread = true;
        return send(c, *state, error_response(413, fmt::format("upload over the limit of {} MB",
                                                               server->options.max_upload_bytes >> 20)));
      }
    }
    if (state->request.method == "POST" && state->request.content_type.starts_with("multipart/form-data"))
      state->post = MHD_create_post_processor(c, 64 * 1024, on_post_field, state);
    return MHD_YES;
  }
  if (*upload_size > 0 && Clock::now() - state->started > seconds(server->options.upload_timeout_seconds)) {
    // No answer can be queued in the middle of a body, and waiting for the rest of a trickle is
    // what the deadline is there to stop: the connection is closed.
    server->options.log(fmt::format("{} {}: body not in after {} s, connection closed", state->request.method,
                                    state->request.path, server->options.upload_timeout_seconds));
    return MHD_NO;
  }
  if (state->responded) {
    *upload_size = 0;  // drop whatever follows an early answer
    return MHD_YES;
  }
  if (state->refusal) {
    if (*upload_size == 0) return send(c, *state, *state->refusal);  // the body is in: answer now
    *upload_size = 0;
    return MHD_YES;
  }
  if (*upload_size > 0) {
    const std::size_t n = *upload_size;
    *upload_size = 0;
    if (state->received + n > server->options.max_upload_bytes ||
        server->buffered.fetch_add(n) + n > server->buffered_limit) {
      server->buffered -= n;
      state->refusal = error_response(413, "upload over the limit, or the server is holding too many uploads");
      return MHD_YES;
    }
    state->received += n;
    if (state->post != nullptr) {
      if (MHD_post_process(state->post, upload_data, n) != MHD_YES)
        state->refusal = error_response(400, "malformed multipart body");
    } else {
      state->request.body.append(upload_data, n);
    }
    return MHD_YES;
  }
  // Answering: the watchdog must not cut the connection under a request being read.
  server->set_deadline(c, Clock::time_point::max());
  HttpResponse response;
  try {
    response = server->service.handle(state->request);
  } catch (const std::exception& e) {
    server->options.log(fmt::format("internal error on {} {}: {}", state->request.method, state->request.path, e.what()));
    response = error_response(500, "internal error");
  }
  return send(c, *state, response);
}

void on_completed(void* cls, MHD_Connection* c, void** request_cls, MHD_RequestTerminationCode) {
  std::unique_ptr<RequestState> done(static_cast<RequestState*>(*request_cls));
  *request_cls = nullptr;
  // A kept-alive connection now waits for its next request's headers, on a fresh deadline.
  auto* server = static_cast<Server::Impl*>(cls);
  server->set_deadline(c, Clock::now() + seconds(server->options.header_timeout_seconds));
}

void on_connection(void* cls, MHD_Connection* c, void**, MHD_ConnectionNotificationCode code) {
  auto* server = static_cast<Server::Impl*>(cls);
  const std::lock_guard lock(server->watched_mutex);
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    // libmicrohttpd tells us before it closes the socket, so the watchdog (holding this mutex)
    // never shuts down a descriptor number already reused by another connection.
    server->watched.erase(c);
    return;
  }
  const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info == nullptr) return;
  server->watched[c] = {info->connect_fd, Clock::now() + seconds(server->options.header_timeout_seconds)};
}

// Shuts down the sockets past their deadline, a few times a second, until the server stops.
void watch_deadlines(Server::Impl& server) {
  std::unique_lock stop_lock(server.stop_mutex);
  while (!server.stop_signal.wait_for(stop_lock, std::chrono::milliseconds(250), [&] { return server.stopping; })) {
    const auto now = Clock::now();
    std::size_t closed = 0;
    {
      const std::lock_guard lock(server.watched_mutex);
      for (auto& [connection, w] : server.watched) {
        if (now < w.deadline) continue;
        // libmicrohttpd sees the end of the stream and closes the connection itself.
        ::shutdown(w.fd, SHUT_RDWR);
        w.deadline = Clock::time_point::max();
        ++closed;
      }
    }
    if (closed > 0)
      server.options.log(fmt::format("closed {} connection(s) whose request did not arrive in time", closed));
  }
}

// Room for every connection the server may hold, within what the system allows this process.
void allow_descriptors(std::size_t connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(connections) + 64;
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

void on_mhd_log(void* cls, const char* format, va_list args) {
  std::array<char, 512> line{};
  std::vsnprintf(line.data(), line.size(), format, args);
  std::string text = line.data();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto* server = static_cast<Server::Impl*>(cls);
  if (server->daemon == nullptr) {
    server->startup_message = text;
  } else {
    server->options.log("libmicrohttpd: " + text);
  }
}

// The listening address: an IPv4 or IPv6 literal, or a name such as localhost.
sockaddr_storage resolve(const std::string& host, int port, bool& ipv6) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    throw Error(fmt::format("--host {}: {}", host, gai_strerror(rc)));
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  ipv6 = found->ai_family == AF_INET6;
  freeaddrinfo(found);
  return address;
}

}  // namespace

Server::Server(Service& service, ServerOptions options) : impl_(std::make_unique<Impl>(service, std::move(options))) {
  const ServerOptions& o = impl_->options;
  if (o.port < 0 || o.port > 65535) throw UsageError(fmt::format("--port {} is not a TCP port", o.port));
  impl_->buffered_limit = std::max<std::size_t>(256u << 20, o.max_upload_bytes * 4);
  bool ipv6 = false;
  sockaddr_storage address = resolve(o.host, o.port, ipv6);
  const unsigned threads = worker_count(o.threads);
  allow_descriptors(o.max_connections);
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
  if (ipv6) flags |= MHD_USE_IPv6;
  impl_->daemon = MHD_start_daemon(
      flags, static_cast<uint16_t>(o.port), nullptr, nullptr, &on_request, impl_.get(),
      MHD_OPTION_EXTERNAL_LOGGER, &on_mhd_log, impl_.get(),  // first, so MHD never prints on its own
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&address),
      MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_CONNECTION_LIMIT, o.max_connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, o.max_connections_per_ip,
      MHD_OPTION_CONNECTION_TIMEOUT, o.idle_timeout_seconds,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, o.connection_memory_bytes,
      MHD_OPTION_NOTIFY_COMPLETED, &on_completed, impl_.get(),
      MHD_OPTION_NOTIFY_CONNECTION, &on_connection, impl_.get(),
      MHD_OPTION_END);
  if (impl_->daemon == nullptr)
    throw Error(fmt::format("cannot listen on {}:{}: {}", o.host, o.port,
                            impl_->startup_message.empty() ? "in use, or not an address of this machine" : impl_->startup_message));
  impl_->watchdog = std::thread(watch_deadlines, std::ref(*impl_));
}

Server::~Server() {
  {
    const std::lock_guard lock(impl_->stop_mutex);
    impl_->stopping = true;
  }
  impl_->stop_signal.notify_all();
  if (impl_->watchdog.joinable()) impl_->watchdog.join();
  if (impl_->daemon != nullptr) MHD_stop_daemon(impl_->daemon);
}

int Server::port() const {
  const MHD_DaemonInfo* info = MHD_get_daemon_info(impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info != nullptr ? info->port : impl_->options.port;
}

void Server::run_until(const std::atomic<bool>& stop) {
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace digits
