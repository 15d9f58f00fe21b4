#include "agent/admin/admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

using namespace logship::admin;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A plain blocking socket to the server, with a receive timeout so a broken
// server fails the test instead of hanging it.
struct Client {
  explicit Client(uint16_t port, const char* ip = "127.0.0.1", std::chrono::milliseconds timeout = 5s) {
    const bool v6 = std::string_view(ip).find(':') != std::string_view::npos;
    fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{};
    tv.tv_sec = timeout.count() / 1000;
    tv.tv_usec = (timeout.count() % 1000) * 1000;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int rc = -1;
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      ::inet_pton(AF_INET6, ip, &a.sin6_addr);
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      ::inet_pton(AF_INET, ip, &a.sin_addr);
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    connected = rc == 0;
  }
  ~Client() {
    if (fd >= 0) ::close(fd);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool send_all(std::string_view data) const {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Everything until EOF; `eof` tells whether the server closed (rather than
  // the receive timeout expiring or an error).
  std::string read_all(bool* eof = nullptr) const {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (eof != nullptr) *eof = n == 0;
      return out;
    }
  }

  int fd = -1;
  bool connected = false;
};

struct Reply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;

  std::string header(std::string_view name) const {
    const std::string key = "\r\n" + std::string(name) + ": ";
    const auto pos = head.find(key);
    if (pos == std::string::npos) return "<missing>";
    const auto start = pos + key.size();
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

Reply parse(const std::string& raw) {
  Reply r;
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos || !raw.starts_with("HTTP/1.1 ")) return r;
  r.head = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  r.status = std::stoi(raw.substr(9, 3));
  return r;
}

Reply request(uint16_t port, std::string_view raw) {
  Client c(port);
  if (!c.connected || !c.send_all(raw)) return {};
  return parse(c.read_all());
}

Reply get(uint16_t port, const std::string& path, const std::string& method = "GET") {
  return request(port, method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n");
}

AdminOptions fast_options() {
  AdminOptions o;
  o.read_timeout = 300ms;
  return o;
}

}  // namespace

TEST_CASE("admin: healthz, readyz and metrics on an ephemeral port", "[admin]") {
  Metrics metrics;
  metrics.describe("logship_test_value", "A test value.", Type::kGauge);
  metrics.set("logship_test_value", 42);
  AdminServer server(metrics);
  CHECK(server.port() == 0);
  REQUIRE(server.start("127.0.0.1", 0));
  REQUIRE(server.port() != 0);

  const Reply health = get(server.port(), "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK(health.header("Content-Length") == "3");
  CHECK(health.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(health.header("Connection") == "close");

  const Reply ready = get(server.port(), "/readyz");
  CHECK(ready.status == 503);
  CHECK(ready.body == "not ready: starting\n");

  const Reply m = get(server.port(), "/metrics");
  CHECK(m.status == 200);
  CHECK(m.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(m.header("Content-Length") == std::to_string(m.body.size()));
  CHECK(m.body.starts_with("# HELP logship_test_value A test value.\n"
                           "# TYPE logship_test_value gauge\n"
                           "logship_test_value 42\n"));
  // The server's own counters: the two earlier responses are counted.
  CHECK(m.body.find("# TYPE logship_admin_responses_total counter\n") != std::string::npos);
  CHECK(m.body.find("logship_admin_responses_total{code=\"200\"} 1\n") != std::string::npos);
  CHECK(m.body.find("logship_admin_responses_total{code=\"503\"} 1\n") != std::string::npos);
  CHECK(m.body.find("logship_admin_timeouts_total 0\n") != std::string::npos);
  CHECK(m.body.ends_with("logship_metrics_series_dropped_total 0\n"));
}

TEST_CASE("admin: readiness flips with set_ready", "[admin]") {
  Metrics metrics;
  AdminServer server(metrics);
  REQUIRE(server.start("127.0.0.1", 0));
  server.set_ready(true);
  Reply r = get(server.port(), "/readyz");
  CHECK(r.status == 200);
  CHECK(r.body == "ok\n");
  server.set_ready(false, "sink not accepting");
  r = get(server.port(), "/readyz");
  CHECK(r.status == 503);
  CHECK(r.body == "not ready: sink not accepting\n");
  server.set_ready(false);
  r = get(server.port(), "/readyz");
  CHECK(r.status == 503);
  CHECK(r.body == "not ready\n");
  server.set_ready(true, "ignored while ready");
  CHECK(get(server.port(), "/readyz").status == 200);
}

TEST_CASE("admin: healthz goes 503 when heartbeats stop and recovers", "[admin]") {
  Metrics metrics;
  AdminOptions options;
  options.stale_after = 150ms;
  AdminServer server(metrics, options);
  REQUIRE(server.start("127.0.0.1", 0));
  // Healthy from start() even before the first heartbeat.
  CHECK(get(server.port(), "/healthz").status == 200);
  std::this_thread::sleep_for(300ms);
  const Reply stale = get(server.port(), "/healthz");
  CHECK(stale.status == 503);
  CHECK(stale.body.starts_with("unhealthy: no heartbeat for "));
  CHECK(stale.body.ends_with(" ms\n"));
  server.heartbeat();
  const Reply fresh = get(server.port(), "/healthz");
  CHECK(fresh.status == 200);
  CHECK(fresh.body == "ok\n");
}

TEST_CASE("admin: 404, 405, HEAD, query strings, bad requests", "[admin]") {
  Metrics metrics;
  AdminServer server(metrics);
  REQUIRE(server.start("127.0.0.1", 0));
  const uint16_t port = server.port();

  Reply r = get(port, "/nope");
  CHECK(r.status == 404);
  CHECK(r.body == "not found\n");
  CHECK(get(port, "/").status == 404);
  CHECK(get(port, "/healthz/extra").status == 404);
  CHECK(get(port, "/nope", "POST").status == 404);

  for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
    r = get(port, path, "POST");
    CHECK(r.status == 405);
    CHECK(r.header("Allow") == "GET, HEAD");
  }
  CHECK(get(port, "/healthz", "DELETE").status == 405);
  CHECK(get(port, "/healthz", "get").status == 405);  // methods are case-sensitive

  r = get(port, "/healthz", "HEAD");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Length") == "3");
  CHECK(r.body.empty());
  r = get(port, "/metrics", "HEAD");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.header("Content-Length") != "0");
  CHECK(r.body.empty());
  r = get(port, "/nope", "HEAD");
  CHECK(r.status == 404);
  CHECK(r.body.empty());

  CHECK(get(port, "/healthz?verbose=1").status == 200);
  CHECK(get(port, "http://localhost:2020/healthz").status == 200);  // absolute-form
  // HTTP/1.0, bare LF line endings, and a request split over several writes.
  CHECK(request(port, "GET /healthz HTTP/1.0\r\n\r\n").status == 200);
  CHECK(request(port, "GET /healthz HTTP/1.1\nHost: x\n\n").status == 200);
  {
    Client c(port);
    REQUIRE(c.connected);
    REQUIRE(c.send_all("GET /hea"));
    std::this_thread::sleep_for(50ms);
    REQUIRE(c.send_all("lthz HTTP/1.1\r\nHo"));
    std::this_thread::sleep_for(50ms);
    REQUIRE(c.send_all("st: x\r\n\r\n"));
    r = parse(c.read_all());
    CHECK(r.status == 200);
    CHECK(r.body == "ok\n");
  }

  CHECK(request(port, "garbage\r\n\r\n").status == 400);
  CHECK(request(port, "GET /healthz\r\n\r\n").status == 400);              // no version
  CHECK(request(port, "GET /healthz HTTP/2.0\r\n\r\n").status == 400);     // not HTTP/1.x
  CHECK(request(port, "GET  /healthz HTTP/1.1\r\n\r\n").status == 400);    // double space
  CHECK(request(port, "GET healthz HTTP/1.1\r\n\r\n").status == 400);      // not a path
  CHECK(request(port, "GET /healthz HTTP/1.1 x\r\n\r\n").status == 400);   // extra token
}

TEST_CASE("admin: requests over the size cap get 431", "[admin]") {
  Metrics metrics;
  AdminOptions options;
  options.max_request_bytes = 8 * 1024;
  AdminServer server(metrics, options);
  REQUIRE(server.start("127.0.0.1", 0));

  // Headers that never end: answered as soon as the cap is passed.
  const std::string endless = "GET /healthz HTTP/1.1\r\nX-Filler: " + std::string(9000, 'a');
  Reply r = request(server.port(), endless);
  CHECK(r.status == 431);
  // A complete request just over the cap.
  const std::string prefix = "GET /healthz HTTP/1.1\r\nX: ";
  const std::string over = prefix + std::string(8 * 1024 - prefix.size() - 3, 'b') + "\r\n\r\n";
  REQUIRE(over.size() == 8 * 1024 + 1);
  CHECK(request(server.port(), over).status == 431);
  // Exactly at the cap is fine.
  const std::string at = prefix + std::string(8 * 1024 - prefix.size() - 4, 'c') + "\r\n\r\n";
  REQUIRE(at.size() == 8 * 1024);
  CHECK(request(server.port(), at).status == 200);
  // Still serving afterwards.
  CHECK(get(server.port(), "/healthz").status == 200);
}

TEST_CASE("admin: a silent client neither blocks others nor stays forever", "[admin]") {
  Metrics metrics;
  AdminOptions options;
  options.read_timeout = 1s;  // long enough that "at once" is unambiguous on a loaded machine
  AdminServer server(metrics, options);
  REQUIRE(server.start("127.0.0.1", 0));

  Client silent(server.port());
  REQUIRE(silent.connected);
  Client partial(server.port());
  REQUIRE(partial.connected);
  REQUIRE(partial.send_all("GET /healthz HTTP/1.1\r\nHost:"));

  // Another client is served at once, not after the idle ones time out.
  const auto t0 = Clock::now();
  const Reply r = get(server.port(), "/healthz");
  const auto served_in = Clock::now() - t0;
  CHECK(r.status == 200);
  CHECK(served_in < 500ms);

  // The idle connections are closed by the server after the read timeout.
  bool eof = false;
  CHECK(silent.read_all(&eof).empty());
  CHECK(eof);
  eof = false;
  CHECK(partial.read_all(&eof).empty());
  CHECK(eof);
  const auto closed_after = Clock::now() - t0;
  CHECK(closed_after >= 500ms);
  CHECK(closed_after < 4s);

  const Reply m = get(server.port(), "/metrics");
  CHECK(m.body.find("logship_admin_timeouts_total 2\n") != std::string::npos);
}

TEST_CASE("admin: connections beyond the limit wait until a slot frees", "[admin]") {
  Metrics metrics;
  AdminOptions options = fast_options();
  options.max_connections = 2;
  AdminServer server(metrics, options);
  REQUIRE(server.start("127.0.0.1", 0));

  Client idle1(server.port());
  Client idle2(server.port());
  REQUIRE(idle1.connected);
  REQUIRE(idle2.connected);
  std::this_thread::sleep_for(100ms);  // let the server accept both

  // The third connection sits in the accept queue until an idle one times
  // out (300 ms after it was accepted), then gets its answer.
  const auto t0 = Clock::now();
  const Reply r = get(server.port(), "/healthz");
  const auto waited = Clock::now() - t0;
  CHECK(r.status == 200);
  CHECK(waited >= 100ms);
  CHECK(waited < 3s);

  const Reply m = get(server.port(), "/metrics");
  CHECK(m.body.find("logship_admin_connection_limit_reached_total 1\n") != std::string::npos);
}

TEST_CASE("admin: a client that sends a body or keeps writing still gets its response", "[admin]") {
  Metrics metrics;
  AdminServer server(metrics, fast_options());
  REQUIRE(server.start("127.0.0.1", 0));
  // Unread input at close would make the kernel reset the connection; the
  // server drains it so the response arrives intact.
  Client c(server.port());
  REQUIRE(c.connected);
  REQUIRE(c.send_all("POST /readyz HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + std::string(20000, 'x')));
  const Reply r = parse(c.read_all());
  CHECK(r.status == 405);
  CHECK(r.body == "method not allowed\n");
}

TEST_CASE("admin: collectors run on each scrape", "[admin]") {
  Metrics metrics;
  metrics.describe("logship_scrapes", "Collector calls.", Type::kCounter);
  int calls = 0;
  const auto id = metrics.add_collector([&](Metrics& m) { m.set("logship_scrapes", ++calls); });
  AdminServer server(metrics);
  REQUIRE(server.start("127.0.0.1", 0));
  CHECK(get(server.port(), "/metrics").body.find("logship_scrapes 1\n") != std::string::npos);
  CHECK(get(server.port(), "/metrics").body.find("logship_scrapes 2\n") != std::string::npos);
  CHECK(get(server.port(), "/healthz").status == 200);  // other endpoints do not collect
  CHECK(get(server.port(), "/metrics").body.find("logship_scrapes 3\n") != std::string::npos);
  server.stop();
  metrics.remove_collector(id);
  CHECK(calls == 3);
}

TEST_CASE("admin: IPv6 loopback and host names", "[admin]") {
  Metrics metrics;
  {
    AdminServer server(metrics);
    auto started = server.start("::1", 0);
    if (!started) {
      // Containers without IPv6 cannot bind ::1; nothing to test then.
      WARN("IPv6 loopback unavailable: " << started.error().message);
    } else {
      Client c(server.port(), "::1");
      REQUIRE(c.connected);
      REQUIRE(c.send_all("GET /healthz HTTP/1.1\r\nHost: [::1]\r\n\r\n"));
      CHECK(parse(c.read_all()).status == 200);
    }
  }
  {
    AdminServer server(metrics);
    REQUIRE(server.start("localhost", 0));
    // "localhost" may resolve to ::1 first; try both loopbacks.
    Client v4(server.port(), "127.0.0.1");
    Client v6(server.port(), "::1");
    REQUIRE((v4.connected || v6.connected));
    const Client& c = v4.connected ? v4 : v6;
    REQUIRE(c.send_all("GET /healthz HTTP/1.1\r\n\r\n"));
    CHECK(parse(c.read_all()).status == 200);
  }
}

TEST_CASE("admin: start errors and stop idempotence", "[admin]") {
  Metrics metrics;
  AdminServer first(metrics);
  REQUIRE(first.start("127.0.0.1", 0));

  SECTION("a port already listening cannot be taken, even with SO_REUSEADDR") {
    AdminServer second(metrics);
    auto r = second.start("127.0.0.1", first.port());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == logship::Errc::kIo);
    CHECK(r.error().message.find("bind") != std::string::npos);
    CHECK(second.port() == 0);
  }
  SECTION("an unresolvable host") {
    AdminServer second(metrics);
    auto r = second.start("no-such-host.invalid", 0);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("no-such-host.invalid") != std::string::npos);
  }
  SECTION("a non-local address") {
    AdminServer second(metrics);
    CHECK_FALSE(second.start("192.0.2.1", 0));  // TEST-NET-1: not ours
  }
  SECTION("starting twice") {
    auto r = first.start("127.0.0.1", 0);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == logship::Errc::kInvalid);
  }
  SECTION("stop is idempotent and closes the port") {
    const uint16_t port = first.port();
    first.stop();
    first.stop();
    Client c(port);
    CHECK_FALSE(c.connected);
  }
  SECTION("stop without start") {
    AdminServer never(metrics);
    never.stop();
    never.stop();
  }
  SECTION("stop with connections open") {
    Client idle(first.port());
    REQUIRE(idle.connected);
    std::this_thread::sleep_for(50ms);
    const auto t0 = Clock::now();
    first.stop();
    CHECK(Clock::now() - t0 < 1s);
    bool eof = false;
    idle.read_all(&eof);
    CHECK(eof);
  }
}
