// digits-serve over real sockets: the seed's curl contract, raw uploads, every error status,
// concurrency, and clients that trickle or overreach.

#include <doctest/doctest.h>

#include "base/files.hpp"
#include "support.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <sstream>

using namespace digits;
using nlohmann::json;

namespace {

struct Served {
  std::unique_ptr<test::Background> process;
  int port = 0;
  std::string url(const std::string& path) const { return fmt::format("http://127.0.0.1:{}{}", port, path); }
};

Served start_server(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{(test::bin_dir / "digits-serve").string(), "--port", "0", "--model",
                                (test::source_dir / "models" / "digits-cnn.model").string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Served s;
  s.process = std::make_unique<test::Background>(argv);
  REQUIRE(s.process->wait_for("/ (Ctrl-C stops)", 20));
  std::smatch m;
  const std::string err = s.process->err();
  REQUIRE(std::regex_search(err, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)")));
  s.port = std::stoi(m[1]);
  return s;
}

// curl's arguments for a multipart field "file" and for a raw body read from a file.
std::string upload(const fs::path& file, const char* field = "file") { return fmt::format("{}=@{}", field, file.string()); }
std::string body_of(const fs::path& file) { return fmt::format("@{}", file.string()); }

struct Reply {
  int status = 0;
  std::string body;
};

// curl prints the body, then the status on a line of its own.
Reply curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"curl", "-s", "-S", "--max-time", "20", "-w", "\n%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_process(argv);
  REQUIRE(r.exit_code == 0);
  const auto cut = r.out.rfind('\n');
  return {std::stoi(r.out.substr(cut + 1)), r.out.substr(0, cut)};
}

std::pair<std::string, std::string> generated_image(const fs::path& dir, int seed) {
  const auto r = run_process({(test::bin_dir / "digits-gen-images").string(), "--mnist",
                              (test::source_dir / "data" / "mnist").string(), "--out", dir.string(), "--class", "clean",
                              "--count", "1", "--seed", std::to_string(seed), "--digits", "5"});
  REQUIRE(r.exit_code == 0);
  const json truth = json::parse(read_file(dir / "truth.jsonl"));
  return {(dir / truth["image"].get<std::string>()).string(), truth["text"].get<std::string>()};
}

// A picture of three lines of digits (the generator's "multiline" class makes two to four) and its
// truth: the lines' digits joined by "\n", as the server answers them.
std::pair<std::string, std::string> three_line_image(const fs::path& dir) {
  const auto r = run_process({(test::bin_dir / "digits-gen-images").string(), "--mnist",
                              (test::source_dir / "data" / "mnist").string(), "--out", dir.string(), "--class", "multiline",
                              "--count", "6", "--seed", "3"});
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(read_file(dir / "truth.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    const json truth = json::parse(line);
    if (truth["lines"].back() == 2) return {(dir / truth["image"].get<std::string>()).string(), truth["text"].get<std::string>()};
  }
  FAIL("no three-line image among the generated ones");
  return {};
}

// A connection to the server from `source`: any 127.x.y.z is this machine, and the server counts
// each as another client address.
int connect_to(int port, const char* source = "127.0.0.1") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  REQUIRE(::inet_pton(AF_INET, source, &from.sin_addr) == 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

}  // namespace

TEST_SUITE("serve-cli") {
  TEST_CASE("the seed's curl contract and a raw image body both read the digits") {
    const TempDir tmp;
    const auto [image, text] = generated_image(tmp.path(), 21);
    const Served s = start_server();
    const Reply multipart = curl({"-X", "POST", "-F", upload(image), s.url("/api/digit_recognize")});
    CHECK(multipart.status == 200);
    const json j = json::parse(multipart.body);
    CHECK(j["success"] == true);
    CHECK(j["text"] == text);
    REQUIRE(j["predictions"].size() == text.size());
    for (const auto& p : j["predictions"]) {
      for (const char* key : {"digit", "probability", "box", "line"}) CHECK(p.contains(key));
      CHECK_FALSE(p.contains("alternatives"));
    }
    const Reply raw = curl({"-H", "Content-Type: image/png", "--data-binary", body_of(image),
                            s.url("/api/digit_recognize?alternatives=3")});
    CHECK(raw.status == 200);
    const json r = json::parse(raw.body);
    CHECK(r["text"] == text);
    CHECK(r["predictions"][0]["alternatives"].size() == 3);
    CHECK(s.process->err().find("POST /api/digit_recognize 200") != std::string::npos);
  }

  TEST_CASE("a three-line image is answered with its lines joined by a newline, as digits-classify prints them") {
    const TempDir tmp;
    const auto [image, text] = three_line_image(tmp.path());
    REQUIRE(std::ranges::count(text, '\n') == 2);
    const Served s = start_server();
    const Reply reply = curl({"-F", upload(image), s.url("/api/digit_recognize")});
    CHECK(reply.status == 200);
    const json j = json::parse(reply.body);
    CHECK(j["success"] == true);
    CHECK(j["text"] == text);
    // The seed's fields, the lines in each prediction, a newline wherever the line changes.
    std::string rebuilt;
    int line = -1;
    for (const auto& p : j["predictions"]) {
      for (const char* key : {"digit", "probability", "box", "line"}) CHECK(p.contains(key));
      if (line >= 0 && p["line"] != line) rebuilt += '\n';
      line = p["line"].get<int>();
      rebuilt += static_cast<char>('0' + p["digit"].get<int>());
    }
    CHECK(rebuilt == j["text"]);
    CHECK(line == 2);
    const auto classified = test::run_binary("digits-classify", {"--model", (test::source_dir / "models" / "digits-cnn.model").string(), image});
    REQUIRE(classified.exit_code == 0);
    CHECK(json::parse(classified.out)["text"] == j["text"]);
  }

  TEST_CASE("a blank canvas gives no predictions rather than a guess") {
    const TempDir tmp;
    cv::imwrite((tmp.path() / "blank.png").string(), cv::Mat(300, 400, CV_8UC1, cv::Scalar(255)));
    const Served s = start_server();
    const Reply r = curl({"-F", upload(tmp.path() / "blank.png"), s.url("/api/digit_recognize")});
    CHECK(r.status == 200);
    CHECK(json::parse(r.body) == json{{"success", true}, {"predictions", json::array()}, {"text", ""}});
  }

  TEST_CASE("every error has its status and a JSON message") {
    const TempDir tmp;
    write_file_atomic(tmp.path() / "notes.txt", "not an image at all");
    write_file_atomic(tmp.path() / "big.bin", std::string(3u << 20, 'x'));
    // A PNG whose header claims 30000x30000: refused from the header, never decoded.
    std::vector<unsigned char> png;
    cv::imencode(".png", cv::Mat(16, 16, CV_8UC1, cv::Scalar(255)), png);
    for (int i = 0; i < 2; ++i) {
      png[16 + 4 * i] = 0, png[17 + 4 * i] = 0, png[18 + 4 * i] = 0x75, png[19 + 4 * i] = 0x30;
    }
    write_file_atomic(tmp.path() / "huge.png", std::string(png.begin(), png.end()));
    const Served s = start_server({"--max-upload-mb", "2"});
    const auto expect = [&](const Reply& r, int status, std::string_view words) {
      CAPTURE(r.body);
      CHECK(r.status == status);
      const json j = json::parse(r.body);
      CHECK(j["success"] == false);
      CHECK(j["error"].get<std::string>().find(words) != std::string::npos);
    };
    expect(curl({"-X", "POST", s.url("/api/digit_recognize")}), 400, "no file");
    expect(curl({"-F", upload(tmp.path() / "notes.txt", "other"), s.url("/api/digit_recognize")}), 400, "no file");
    expect(curl({"-F", upload(tmp.path() / "notes.txt"), s.url("/api/digit_recognize")}), 400, "not a supported image");
    expect(curl({"-H", "Content-Type: text/plain", "--data-binary", "hello", s.url("/api/digit_recognize")}), 400, "not an image");
    expect(curl({"-F", upload(tmp.path() / "huge.png"), s.url("/api/digit_recognize")}), 413, "MP");
    expect(curl({"-F", upload(tmp.path() / "notes.txt"), "-F", upload(tmp.path() / "huge.png"), s.url("/api/digit_recognize")}),
           400, "more than one");
    expect(curl({"-H", "Content-Type: image/png", "--data-binary", body_of(tmp.path() / "big.bin"),
                 s.url("/api/digit_recognize")}), 413, "limit");
    expect(curl({"-H", "Content-Type: image/png", "-H", "Transfer-Encoding: chunked", "--data-binary", body_of(tmp.path() / "notes.txt"),
                 s.url("/api/digit_recognize")}), 411, "chunked");
    expect(curl({s.url("/api/digit_recognize")}), 405, "not allowed");
    expect(curl({"-X", "DELETE", s.url("/healthz")}), 405, "not allowed");
    expect(curl({s.url("/no/such/thing")}), 404, "no such path");
    expect(curl({s.url("/api/digit_recognize?alternatives=lots"), "-F", upload(tmp.path() / "notes.txt")}), 400,
           "not a number");
    // from_chars reads these as numbers; they are not counts.
    for (const char* query : {"alternatives=nan", "alternatives=inf", "min_probability=-nan"})
      expect(curl({s.url(fmt::format("/api/digit_recognize?{}", query)), "-F", upload(tmp.path() / "notes.txt")}), 400,
             "not a number");
    // Still healthy after all of it.
    const Reply health = curl({s.url("/healthz")});
    CHECK(health.status == 200);
    CHECK(json::parse(health.body)["status"] == "ok");
  }

  TEST_CASE("a picture of noise is refused with 413 within the work bound, and the server goes on") {
    const TempDir tmp;
    // Uniform noise: thousands of specks, each a candidate digit (one second of CPU is a third
    // of what this one takes to read).
    cv::Mat noise(750, 1000, CV_8U);
    cv::RNG(1).fill(noise, cv::RNG::UNIFORM, 0, 256);
    cv::imwrite((tmp.path() / "noise.png").string(), noise);
    const auto refused = [&](const Served& s, std::string_view words) {
      const auto start = std::chrono::steady_clock::now();
      const Reply r = curl({"-F", upload(tmp.path() / "noise.png"), s.url("/api/digit_recognize")});
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      CAPTURE(r.body);
      CHECK(r.status == 413);
      const json j = json::parse(r.body);
      CHECK(j["success"] == false);
      CHECK(j["error"].get<std::string>().find(words) != std::string::npos);
      CHECK(seconds < 15);  // a few seconds of CPU, on a loaded machine
      CHECK(curl({s.url("/healthz")}).status == 200);
    };
    refused(start_server({"--work-timeout", "1"}), "CPU time");
    // Without a tighter deadline, the bound on candidate digits refuses it first.
    refused(start_server(), "candidate digits");
  }

  TEST_CASE("the page and the model summary are served") {
    const Served s = start_server();
    const Reply page = curl({s.url("/")});
    CHECK(page.status == 200);
    CHECK(page.body.find("<canvas") != std::string::npos);
    CHECK(curl({s.url("/app.js")}).status == 200);
    // Browsers ask for /favicon.ico on every page: a small icon (web/favicon.ico), not a 404.
    const Reply icon = curl({"-D", "-", s.url("/favicon.ico")});
    CHECK(icon.status == 200);
    CHECK(icon.body.find("Content-Type: image/x-icon\r\n") != std::string::npos);
    CHECK(icon.body.find(std::string("\r\n\r\n\0\0\1\0", 8)) != std::string::npos);   // headers, then an ICO
    const json model = json::parse(curl({s.url("/api/model")}).body);
    CHECK(model["test_accuracy"].get<double>() >= 0.994);
    CHECK(model["parameters"].get<int>() > 0);
  }

  TEST_CASE("32 concurrent requests are all answered correctly") {
    const TempDir tmp;
    const auto [image, text] = generated_image(tmp.path(), 33);
    const Served s = start_server();
    const std::string field = fmt::format("file=@{}", image);
    std::vector<std::string> args{"-Z", "--parallel-max", "32", "--parallel-immediate", "-s", "-F", field};
    for (int i = 0; i < 32; ++i) {
      args.push_back(s.url("/api/digit_recognize"));
      if (i + 1 < 32) args.insert(args.end(), {"--next", "-F", field});
    }
    std::vector<std::string> argv{"curl", "--max-time", "60"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run_process(argv);
    REQUIRE(r.exit_code == 0);
    // The answers arrive back to back: split them at each new object.
    std::size_t answers = 0, right = 0;
    for (std::size_t at = r.out.find("{\"success\""); at != std::string::npos;) {
      const std::size_t next = r.out.find("{\"success\"", at + 1);
      const json j = json::parse(r.out.substr(at, next == std::string::npos ? std::string::npos : next - at));
      ++answers;
      right += j["success"] == true && j["text"] == text;
      at = next;
    }
    CHECK(answers == 32);
    CHECK(right == 32);
  }

  TEST_CASE("clients trickling headers or holding idle connections do not starve the others") {
    const TempDir tmp;
    const auto [image, text] = generated_image(tmp.path(), 8);
    const Served s = start_server({"--threads", "2"});
    std::vector<int> slow;
    for (int i = 0; i < 40; ++i) {
      // From another address than curl's: one address may hold only 32 connections.
      const int fd = connect_to(s.port, "127.0.0.2");
      const std::string start = "POST /api/digit_recognize HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      REQUIRE(::send(fd, start.data(), start.size(), MSG_NOSIGNAL) > 0);
      slow.push_back(fd);
    }
    const auto begin = std::chrono::steady_clock::now();
    const Reply r = curl({"-F", upload(image), s.url("/api/digit_recognize")});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["text"] == text);
    CHECK(seconds < 5);
    // A header section larger than the per-connection memory is refused, not buffered.
    const int fd = connect_to(s.port);
    const std::string huge = fmt::format("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", std::string(200000, 'a'));
    ::send(fd, huge.data(), huge.size(), MSG_NOSIGNAL);
    std::array<char, 256> buffer{};
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    CHECK((n <= 0 || std::string(buffer.data(), n).find(" 200 ") == std::string::npos));
    ::close(fd);
    for (const int f : slow) ::close(f);
    CHECK(curl({s.url("/healthz")}).status == 200);
  }

  TEST_CASE("a trickle cannot hold a connection past its deadline and refusals in the body reach the client") {
    const Served s = start_server({"--header-timeout", "2", "--upload-timeout", "3"});
    // Seconds until the server closes a connection that sends `start`, then a byte every 200 ms.
    const auto held_for = [&](const std::string& start, const char* source) {
      const int fd = connect_to(s.port, source);
      const timeval wait{0, 200'000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
      const auto begin = std::chrono::steady_clock::now();
      const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count(); };
      ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
      std::array<char, 512> buffer{};
      while (elapsed() < 10) {
        if (::send(fd, "a", 1, MSG_NOSIGNAL) < 0) break;
        if (::recv(fd, buffer.data(), buffer.size(), 0) == 0) break;  // closed (a timeout is -1)
      }
      ::close(fd);
      return elapsed();
    };
    const double headers = held_for("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", "127.0.0.2");
    CHECK(headers > 1.5);
    CHECK(headers < 4);
    const double body = held_for("POST /api/digit_recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                                 "Content-Length: 100000\r\n\r\n", "127.0.0.3");
    CHECK(body > 2.5);
    CHECK(body < 5);
    CHECK(curl({s.url("/healthz")}).status == 200);

    // Refused once the body is arriving: the answer still comes, as JSON, after the body.
    const auto raw = [&](const std::string& request) {
      const int fd = connect_to(s.port);
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
      std::string reply;
      std::array<char, 4096> buffer{};
      for (ssize_t n; (n = ::recv(fd, buffer.data(), buffer.size(), 0)) > 0;) reply.append(buffer.data(), n);
      ::close(fd);
      return reply;
    };
    const std::string form = "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n" +
                             std::string(1000, 'p') + "\r\n--YY--" + std::string(5000, 'z');
    const std::string malformed = raw(fmt::format("POST /api/digit_recognize HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                                  "Content-Type: multipart/form-data; boundary=XX\r\n"
                                                  "Content-Length: {}\r\n\r\n{}", form.size(), form));
    CHECK(malformed.starts_with("HTTP/1.1 400 "));
    CHECK(malformed.find("\"success\":false") != std::string::npos);
    // Framing that two readers could take differently is refused.
    const std::string two_lengths = raw("POST /api/digit_recognize HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                        "Content-Length: 50\r\n\r\nhello");
    CHECK(two_lengths.starts_with("HTTP/1.1 400 "));
    CHECK(two_lengths.find("Content-Length") != std::string::npos);
    const std::string no_host = raw("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
    CHECK(no_host.starts_with("HTTP/1.1 400 "));
    CHECK(no_host.find("Host") != std::string::npos);
  }

  TEST_CASE("a busy port or a bad model is one error line and exit 1") {
    const Served s = start_server();
    const auto busy = test::run_binary("digits-serve", {"--port", std::to_string(s.port), "--model",
                                                        (test::source_dir / "models" / "digits-cnn.model").string()});
    CHECK(busy.exit_code == 1);
    CHECK(test::error_lines(busy.err, "digits-serve") == 1);
    CHECK(test::line_count(busy.err) == 1);
    const auto bad = test::run_binary("digits-serve", {"--port", "0", "--model", "/nonexistent.model"});
    CHECK(bad.exit_code == 1);
    CHECK(test::error_lines(bad.err, "digits-serve") == 1);
  }
}
