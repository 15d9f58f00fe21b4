#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "agent/admin/tap.h"
#include "agent/admin/tap_client.h"
#include "agent/admin/tap_server.h"

using namespace logship::admin;
using namespace std::chrono_literals;

namespace {

std::string record(int i, std::string_view ns = "shop") {
  return "{\"n\":" + std::to_string(i) + ",\"k8s\":{\"namespace\":\"" + std::string(ns) + "\"}}";
}

// Polls `cond` until it holds or the deadline passes (no timed assertions:
// the deadline only bounds a broken run).
template <typename F>
bool eventually(F cond, std::chrono::milliseconds deadline = 10s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

// A raw client socket that sends a request and then reads only when told.
struct RawClient {
  int fd = -1;
  explicit RawClient(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // A small receive buffer so a reader that does not read fills up fast.
    const int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~RawClient() { ::close(fd); }
  void send(std::string_view s) { REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size())); }
  std::string read_all() {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, size_t(n));
    return out;
  }
};

}  // namespace

TEST_CASE("tap filters are shell globs on namespace, pod and container") {
  TapFilter all;
  CHECK(all.matches("shop", "checkout-1", "app"));
  CHECK(all.matches("", "", ""));
  TapFilter f{"shop", "checkout-*", "a?p"};
  CHECK(f.matches("shop", "checkout-7d9f", "app"));
  CHECK_FALSE(f.matches("shop2", "checkout-7d9f", "app"));
  CHECK_FALSE(f.matches("shop", "cart-1", "app"));
  CHECK_FALSE(f.matches("shop", "checkout-1", "sidecar"));
  TapFilter set{"[ab]*", "*", "*"};
  CHECK(set.matches("billing", "p", "c"));
  CHECK_FALSE(set.matches("shop", "p", "c"));
}

TEST_CASE("offer without clients is a no-op; clients get matching records only") {
  Tap tap;
  CHECK_FALSE(tap.active());
  tap.offer("shop", "p", "c", record(0));
  CHECK(tap.stats().queued == 0);

  auto shop = tap.subscribe({"shop", "*", "*"}).value();
  auto ops = tap.subscribe({"ops", "db-*", "*"}).value();
  CHECK(tap.active());
  tap.offer("shop", "checkout-1", "app", record(1));
  tap.offer("ops", "db-0", "postgres", record(2, "ops"));
  tap.offer("ops", "web-0", "nginx", record(3, "ops"));
  std::string out;
  CHECK(shop->drain(out) == 1);
  CHECK(out == record(1) + "\n");
  out.clear();
  CHECK(ops->drain(out) == 1);
  CHECK(out == record(2, "ops") + "\n");
  out.clear();
  CHECK(ops->drain(out) == 0);
  CHECK(out.empty());
  CHECK(tap.stats().queued == 2);
  shop.reset();
  ops.reset();
  CHECK_FALSE(tap.active());
  CHECK(tap.stats().clients == 0);
}

TEST_CASE("a client that does not drain loses records, counted; offer stays bounded") {
  Tap tap(Tap::Options{.max_clients = 2, .buffer_bytes = 4096});
  auto slow = tap.subscribe({}).value();
  const std::string rec(100, 'x');
  for (int i = 0; i < 100000; ++i) tap.offer("shop", "p", "c", rec);  // returns: never waits for the reader
  const TapStats s = tap.stats();
  // 4096 bytes hold 40 records of 101 bytes; the rest were skipped.
  CHECK(s.queued == 40);
  CHECK(s.skipped_full == 100000 - 40);
  CHECK(slow->skipped() == 100000 - 40);
  std::string out;
  CHECK(slow->drain(out) == 40);
  CHECK(out.size() <= 4096);
  // Drained, it receives again.
  tap.offer("shop", "p", "c", rec);
  out.clear();
  CHECK(slow->drain(out) == 1);
}

TEST_CASE("a record larger than a client's buffer is skipped for that client") {
  Tap tap(Tap::Options{.max_clients = 1, .buffer_bytes = 64});
  auto c = tap.subscribe({}).value();
  tap.offer("a", "b", "c", std::string(100, 'y'));
  CHECK(tap.stats().skipped_full == 1);
}

TEST_CASE("clients beyond max_clients are refused") {
  Tap tap(Tap::Options{.max_clients = 1, .buffer_bytes = 1024});
  auto first = tap.subscribe({}).value();
  auto second = tap.subscribe({});
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code == logship::Errc::kUnavailable);
  first.reset();
  CHECK(tap.subscribe({}).has_value());
}

TEST_CASE("tap metrics count queued and skipped records and clients, never content") {
  Metrics m;
  Tap tap(Tap::Options{.max_clients = 1, .buffer_bytes = 64});
  const auto id = tap.register_metrics(m);
  auto c = tap.subscribe({}).value();
  tap.offer("a", "b", "c", "{\"secret\":\"hunter2\"}");
  tap.offer("a", "b", "c", std::string(100, 'y'));
  const std::string text = m.render();
  CHECK(text.find("logship_tap_records_total 1\n") != std::string::npos);
  CHECK(text.find("logship_tap_records_skipped_total 1\n") != std::string::npos);
  CHECK(text.find("logship_tap_clients 1\n") != std::string::npos);
  CHECK(text.find("hunter2") == std::string::npos);
  m.remove_collector(id);
}

TEST_CASE("LOGSHIP_TAP_LISTEN accepts loopback addresses only") {
  CHECK(parse_tap_listen(kDefaultTapListen).value().port == 2021);
  CHECK(parse_tap_listen("[::1]:2021").value().host == "::1");
  CHECK(parse_tap_listen("localhost:0").value().host == "localhost");
  CHECK(parse_tap_listen("127.1.2.3:9").has_value());
  for (const char* bad : {"0.0.0.0:2021", "10.0.0.5:2021", "[::]:2021", "example.com:2021", "[fe80::1]:2021"}) {
    const auto r = parse_tap_listen(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("LOGSHIP_TAP_LISTEN") != std::string::npos);
    CHECK(r.error().message.find("not a loopback address") != std::string::npos);
  }
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "::1:2021", "[::1]2021"}) {
    CHECK_FALSE(parse_tap_listen(bad).has_value());
  }
}

TEST_CASE("the tap server refuses a non-loopback listen address") {
  Tap tap;
  for (const char* host : {"0.0.0.0", "::", "192.0.2.1"}) {
    TapServer server(tap);
    const auto r = server.start(host, 0);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == logship::Errc::kInvalid);
    CHECK(r.error().message.find("not a loopback address") != std::string::npos);
    CHECK(server.port() == 0);
  }
}

TEST_CASE("logship tap sees live records through the server, with its filters and limit") {
  Tap tap;
  TapServer server(tap, {.tick = 5ms});
  REQUIRE(server.start("127.0.0.1", 0).has_value());
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  const std::vector<std::string_view> args = {"--namespace", "shop", "--pod=checkout-*", "--limit", "3",
                                              "--address", address};
  std::atomic<int> rc{-1};
  std::thread client([&] { rc = tap_main(args, "", pipe_fds[1], 2); });
  REQUIRE(eventually([&] { return tap.active(); }));
  // Offer until the client has its three records and returns.
  for (int i = 0; rc.load() < 0 && i < 100000; ++i) {
    tap.offer("ops", "checkout-1", "app", record(i, "ops"));    // other namespace
    tap.offer("shop", "cart-1", "app", record(i));               // other pod
    tap.offer("shop", "checkout-1", "app", record(i));           // match
    std::this_thread::sleep_for(1ms);
  }
  client.join();
  ::close(pipe_fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  ::close(pipe_fds[0]);
  CHECK(rc == 0);
  // Exactly three lines, each a matching record (consecutive: the client
  // connected before the first).
  std::vector<std::string> lines;
  for (size_t pos = 0, nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    lines.push_back(out.substr(pos, nl - pos));
  }
  REQUIRE(lines.size() == 3);
  for (const auto& l : lines) CHECK(l.find("\"namespace\":\"shop\"") != std::string::npos);
  // The server closed the client's subscription after the limit.
  CHECK(eventually([&] { return !tap.active(); }));
}

TEST_CASE("a tap client that never reads does not slow offer()") {
  Tap tap(Tap::Options{.max_clients = 1, .buffer_bytes = 64 * 1024});
  TapServer server(tap, {.tick = 1ms});
  REQUIRE(server.start("127.0.0.1", 0).has_value());
  RawClient slow(server.port());
  slow.send("GET /tap HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(eventually([&] { return tap.active(); }));
  // 200 MB offered; the client reads nothing. offer() returns every time
  // (bounded buffer); what the socket cannot take is skipped and counted.
  const std::string rec(1000, 'z');
  for (int i = 0; i < 200000; ++i) tap.offer("shop", "p", "c", rec);
  const TapStats s = tap.stats();
  CHECK(s.skipped_full + s.skipped_busy > 100000);
  CHECK(s.queued + s.skipped_full + s.skipped_busy == 200000);
}

TEST_CASE("the tap server answers errors for other paths, methods, bad queries and too many clients") {
  Tap tap(Tap::Options{.max_clients = 1, .buffer_bytes = 1024});
  TapServer server(tap, {.tick = 5ms});
  REQUIRE(server.start("127.0.0.1", 0).has_value());
  {
    RawClient c(server.port());
    c.send("GET /metrics HTTP/1.1\r\n\r\n");
    CHECK(c.read_all().starts_with("HTTP/1.1 404"));
  }
  {
    RawClient c(server.port());
    c.send("POST /tap HTTP/1.1\r\n\r\n");
    CHECK(c.read_all().starts_with("HTTP/1.1 405"));
  }
  {
    RawClient c(server.port());
    c.send("GET /tap?limit=soon HTTP/1.1\r\n\r\n");
    CHECK(c.read_all().starts_with("HTTP/1.1 400"));
  }
  RawClient first(server.port());
  first.send("GET /tap HTTP/1.1\r\n\r\n");
  REQUIRE(eventually([&] { return tap.active(); }));
  RawClient second(server.port());
  second.send("GET /tap HTTP/1.1\r\n\r\n");
  CHECK(second.read_all().starts_with("HTTP/1.1 503"));
}

TEST_CASE("logship tap reports a missing tap and bad arguments") {
  int err[2];
  REQUIRE(::pipe(err) == 0);
  // A port nothing listens on: bind one and close it.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(probe);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  const std::vector<std::string_view> none;
  CHECK(tap_main(none, address, 1, err[1]) == 1);
  const std::vector<std::string_view> bad = {"--limit", "0"};
  CHECK(tap_main(bad, address, 1, err[1]) == 2);
  const std::vector<std::string_view> unknown = {"--follow"};
  CHECK(tap_main(unknown, address, 1, err[1]) == 2);
  ::close(err[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;) text.append(buf, size_t(n));
  ::close(err[0]);
  CHECK(text.find("LOGSHIP_TAP=on") != std::string::npos);
  CHECK(text.find("--limit") != std::string::npos);
  CHECK(text.find("unknown argument --follow") != std::string::npos);
  const auto parsed = parse_tap_args(std::vector<std::string_view>{"--container=app"}, "");
  REQUIRE(parsed.has_value());
  CHECK(parsed->address == kDefaultTapListen);
  CHECK(parsed->filter.container_glob == "app");
  CHECK(parsed->limit == 0);
}
