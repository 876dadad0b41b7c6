#include "server.hpp"

#include "error.hpp"
#include "parallel.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <netdb.h>

#include <chrono>
#include <cstdarg>
#include <cstring>
#include <thread>

namespace digits {

// Everything the C callbacks need, reached through their `cls` pointer.
struct Server::Impl {
  Service& service;
  ServerOptions options;
  MHD_Daemon* daemon = nullptr;
  // Bytes of request bodies held in memory across all connections: a bound on upload memory
  // however many clients upload at once.
  std::atomic<std::size_t> buffered{0};
  std::size_t buffered_limit = 0;
  std::string startup_message;  // what libmicrohttpd said while starting, for our one error line
};

namespace {

using Clock = std::chrono::steady_clock;

// One request's state between libmicrohttpd's calls (headers, body pieces, end of body).
struct RequestState {
  Server::Impl* server = nullptr;
  Clock::time_point started = Clock::now();
  HttpRequest request;
  MHD_PostProcessor* post = nullptr;
  std::size_t received = 0;
  bool body_unread = false;  // answered before reading the body (chunked, or over the limit)
  bool responded = false;
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
                         const char* /*encoding*/, const char* data, uint64_t /*offset*/, size_t size) {
  auto& state = *static_cast<RequestState*>(cls);
  if (std::strcmp(key, "file") != 0) return MHD_YES;
  if (!state.request.file) state.request.file.emplace();
  state.request.file->append(data, size);
  return MHD_YES;
}

bool is_chunked(MHD_Connection* c) {
  std::string te = header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  for (auto& ch : te) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return te.find("chunked") != std::string::npos;
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char* /*version*/,
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
  if (state->responded) {
    *upload_size = 0;  // discard whatever follows an early answer
    return MHD_YES;
  }
  if (*upload_size > 0) {
    const std::size_t n = *upload_size;
    *upload_size = 0;
    if (state->received + n > server->options.max_upload_bytes ||
        server->buffered.fetch_add(n) + n > server->buffered_limit) {
      server->buffered -= n;
      state->body_unread = true;
      return send(c, *state, error_response(413, "upload over the limit, or the server is holding too many uploads"));
    }
    state->received += n;
    if (state->post != nullptr) {
      if (MHD_post_process(state->post, upload_data, n) != MHD_YES)
        return send(c, *state, error_response(400, "malformed multipart body"));
    } else {
      state->request.body.append(upload_data, n);
    }
    return MHD_YES;
  }
  HttpResponse response;
  try {
    response = server->service.handle(state->request);
  } catch (const std::exception& e) {
    server->options.log(fmt::format("internal error on {} {}: {}", state->request.method, state->request.path, e.what()));
    response = error_response(500, "internal error");
  }
  return send(c, *state, response);
}

void on_completed(void*, MHD_Connection*, void** request_cls, MHD_RequestTerminationCode) {
  std::unique_ptr<RequestState> done(static_cast<RequestState*>(*request_cls));
  *request_cls = nullptr;
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
      MHD_OPTION_NOTIFY_COMPLETED, &on_completed, nullptr,
      MHD_OPTION_END);
  if (impl_->daemon == nullptr)
    throw Error(fmt::format("cannot listen on {}:{}: {}", o.host, o.port,
                            impl_->startup_message.empty() ? "in use, or not an address of this machine" : impl_->startup_message));
}

Server::~Server() {
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
