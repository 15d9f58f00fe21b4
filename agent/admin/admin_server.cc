#include "agent/admin/admin_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "agent/core/log.h"

namespace logship::admin {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kComponent = "admin";
constexpr std::string_view kResponsesMetric = "logship_admin_responses_total";
constexpr std::string_view kTimeoutsMetric = "logship_admin_timeouts_total";
constexpr std::string_view kLimitMetric = "logship_admin_connection_limit_reached_total";
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// After the response, the connection lingers this long (at most) reading and
// discarding whatever the client still sends: closing a socket with unread
// input makes the kernel send RST, which can destroy the response in flight.
constexpr milliseconds kMaxDrain{1000};
constexpr std::size_t kMaxDrainBytes = 64 * 1024;
// How long accepting pauses after accept() fails for lack of resources
// (EMFILE and friends); the listening socket would otherwise stay readable
// and spin the loop.
constexpr milliseconds kAcceptBackoff{100};
constexpr int kListenBacklog = 64;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

// The path of a request target: origin-form "/p?q" or absolute-form
// "http://host/p?q" (which RFC 9112 requires servers to accept). Empty if
// the target is neither.
std::string_view target_path(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.starts_with(scheme)) {
      target.remove_prefix(scheme.size());
      const auto slash = target.find('/');
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  if (!target.starts_with('/')) return {};
  return target.substr(0, target.find_first_of("?#"));
}

}  // namespace

/// One client connection, owned by the server thread.
struct AdminServer::Connection {
  enum class State { kReading, kWriting, kDraining, kClosed };
  int fd = -1;
  State state = State::kReading;
  std::string in;
  std::string out;
  std::size_t sent = 0;
  std::size_t drained = 0;
  Clock::time_point deadline;
};

AdminServer::AdminServer(Metrics& metrics, AdminOptions options) : metrics_(metrics), options_(options) {
  metrics_.describe(std::string(kResponsesMetric), "Admin endpoint HTTP responses by status code.",
                    Type::kCounter);
  metrics_.describe(std::string(kTimeoutsMetric),
                    "Admin connections dropped because the request or the response did not complete "
                    "within the read timeout.",
                    Type::kCounter);
  metrics_.describe(std::string(kLimitMetric),
                    "Times the admin endpoint reached its open-connection limit; further clients wait "
                    "in the accept queue.",
                    Type::kCounter);
  // Counters start at 0 rather than appearing on first increment, so rate()
  // sees the first event.
  metrics_.set(kTimeoutsMetric, 0);
  metrics_.set(kLimitMetric, 0);
}

AdminServer::~AdminServer() { stop(); }

Result<void> AdminServer::start(const std::string& host, uint16_t port) {
  if (started_) return fail(Errc::kInvalid, "admin server already started");

  const Listener::Options lo{
      .what = "admin", .backlog = kListenBacklog, .accept_address = nullptr, .refused_message = {}};
  last_heartbeat_ns_.store(now_ns(), std::memory_order_relaxed);
  if (auto r = listener_.start(host, port, lo, [this] { run(); }); !r) return r;
  started_ = true;
  log::info(kComponent, "admin endpoint listening", {{"address", listener_.describe()}});
  return {};
}

void AdminServer::stop() {
  if (listener_.stop()) log::info(kComponent, "admin endpoint stopped");
}

void AdminServer::heartbeat() { last_heartbeat_ns_.store(now_ns(), std::memory_order_relaxed); }

void AdminServer::set_ready(bool ready, std::string reason) {
  std::lock_guard lock(ready_mu_);
  ready_ = ready;
  not_ready_reason_ = std::move(reason);
}

AdminServer::Response AdminServer::healthz() const {
  const int64_t age_ns = now_ns() - last_heartbeat_ns_.load(std::memory_order_relaxed);
  const auto age = std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds(age_ns));
  if (age > options_.stale_after) {
    return {503, "text/plain; charset=utf-8",
            "unhealthy: no heartbeat for " + std::to_string(age.count()) + " ms\n", false};
  }
  return {200, "text/plain; charset=utf-8", "ok\n", false};
}

AdminServer::Response AdminServer::readyz() {
  std::lock_guard lock(ready_mu_);
  if (ready_) return {200, "text/plain; charset=utf-8", "ok\n", false};
  std::string body = "not ready";
  if (!not_ready_reason_.empty()) body += ": " + not_ready_reason_;
  body += '\n';
  return {503, "text/plain; charset=utf-8", std::move(body), false};
}

AdminServer::Response AdminServer::handle(std::string_view method, std::string_view path) {
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
  // 404 before 405: 405 claims the resource exists (RFC 9110 15.5.6).
  if (!known) return {404, "text/plain; charset=utf-8", "not found\n", false};
  if (method != "GET" && method != "HEAD") {
    return {405, "text/plain; charset=utf-8", "method not allowed\n", true};
  }
  if (path == "/healthz") return healthz();
  if (path == "/readyz") return readyz();
  return {200, std::string(kMetricsContentType), metrics_.render(), false};
}

void AdminServer::count_response(int status) {
  const uint64_t n = ++responses_[status];
  metrics_.set(kResponsesMetric, "code", std::to_string(status), static_cast<double>(n));
}

void AdminServer::count_timeout() { metrics_.set(kTimeoutsMetric, static_cast<double>(++timeouts_)); }

void AdminServer::count_connection_limit() {
  metrics_.set(kLimitMetric, static_cast<double>(++connection_limit_hits_));
}

void AdminServer::run() {
  using State = Connection::State;
  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  Clock::time_point accept_resume{};  // accepting pauses until then after resource errors
  bool at_limit = false;              // for counting limit hits once per episode

  // Moves a connection to writing with `response` and tries to send at once;
  // the whole response usually fits in the socket buffer.
  auto respond = [&](Connection& c, const Response& r, bool head) {
    count_response(r.status);
    std::string& out = c.out;
    out = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason_phrase(r.status)) + "\r\n";
    out += "Content-Type: " + r.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    if (r.allow_header) out += "Allow: GET, HEAD\r\n";
    out += "Connection: close\r\n\r\n";
    if (!head) out += r.body;
    c.state = State::kWriting;
    c.sent = 0;
    // A fresh deadline for the response: a big /metrics body to a slow
    // reader gets the same allowance the request had.
    c.deadline = Clock::now() + options_.read_timeout;
  };

  auto on_readable = [&](Connection& c) {
    char buf[4096];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) c.state = State::kClosed;
      return;
    }
    if (n == 0) {  // the client gave up before a complete request
      c.state = State::kClosed;
      return;
    }
    c.in.append(buf, static_cast<std::size_t>(n));
    // Bare LF line endings are tolerated (RFC 9112 2.2), hence two patterns.
    std::size_t end = c.in.find("\r\n\r\n");
    std::size_t term = 4;
    if (const std::size_t lf = c.in.find("\n\n"); lf != std::string::npos && lf < end) {
      end = lf;
      term = 2;
    }
    if (end == std::string::npos) {
      if (c.in.size() >= options_.max_request_bytes) {
        respond(c, {431, "text/plain; charset=utf-8", "request too large\n", false}, false);
      }
      return;
    }
    if (end + term > options_.max_request_bytes) {
      respond(c, {431, "text/plain; charset=utf-8", "request too large\n", false}, false);
      return;
    }
    // Request line: METHOD SP request-target SP HTTP-version. Headers are not
    // needed: no endpoint takes a body, and every response closes.
    std::string_view line(c.in.data(), c.in.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    const Response bad{400, "text/plain; charset=utf-8", "bad request\n", false};
    if (sp2 == std::string_view::npos || sp1 == 0 || line.find(' ', sp2 + 1) != std::string_view::npos) {
      respond(c, bad, false);
      return;
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view path = target_path(line.substr(sp1 + 1, sp2 - sp1 - 1));
    const std::string_view version = line.substr(sp2 + 1);
    if (path.empty() || !version.starts_with("HTTP/1.")) {
      respond(c, bad, false);
      return;
    }
    respond(c, handle(method, path), method == "HEAD");
  };

  auto on_writable = [&](Connection& c) {
    const SendState sent = send_pending(c.fd, c.out, c.sent);
    if (sent != SendState::kDone) {
      if (sent == SendState::kClosed) c.state = State::kClosed;
      return;
    }
    // All sent: half-close so the client sees EOF, then linger to drain.
    ::shutdown(c.fd, SHUT_WR);
    c.out = std::string();
    c.in = std::string();
    c.state = State::kDraining;
    c.deadline = Clock::now() + std::min(options_.read_timeout, kMaxDrain);
  };

  auto on_drain = [&](Connection& c) {
    char buf[4096];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      c.state = State::kClosed;
      return;
    }
    c.drained += static_cast<std::size_t>(n);
    if (c.drained > kMaxDrainBytes) c.state = State::kClosed;
  };

  auto accept_all = [&] {
    while (conns.size() < options_.max_connections) {
      const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        // The connection died in the queue, or a signal: try the next one.
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
        // Out of descriptors or memory: existing connections will finish and
        // free some, so back off rather than fail.
        log::warn(kComponent, "admin accept failed", {{"error", errno_message("accept")}});
        accept_resume = Clock::now() + kAcceptBackoff;
        return;
      }
      Connection c;
      c.fd = fd;
      c.deadline = Clock::now() + options_.read_timeout;
      conns.push_back(std::move(c));
    }
  };

  for (;;) {
    auto now = Clock::now();
    const bool full = conns.size() >= options_.max_connections;
    if (full && !at_limit) count_connection_limit();
    at_limit = full;
    const bool accepting = !full && now >= accept_resume;

    fds.clear();
    fds.push_back({listener_.wake_fd(), POLLIN, 0});
    fds.push_back({accepting ? listener_.fd() : -1, POLLIN, 0});  // fd -1 is skipped by poll
    Clock::time_point next = Clock::time_point::max();
    if (!full && !accepting) next = accept_resume;
    for (const Connection& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.state == State::kWriting ? POLLOUT : POLLIN), 0});
      next = std::min(next, c.deadline);
    }
    int timeout_ms = -1;
    if (next != Clock::time_point::max()) {
      // Round up so a wake-up never comes just before the deadline it waits for.
      const auto wait = std::chrono::ceil<milliseconds>(next - now).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(wait, 0, 60'000));
    }

    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      // Only EINVAL/ENOMEM are possible here; retry rather than lose health.
      log::error(kComponent, "admin poll failed", {{"error", errno_message("poll")}});
      std::this_thread::sleep_for(kAcceptBackoff);
      continue;
    }
    if (fds[0].revents != 0) break;  // stop()

    for (std::size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      const short ev = fds[i + 2].revents;
      if (ev == 0) continue;
      switch (c.state) {
        case State::kReading:
          on_readable(c);
          // Usually the response fits at once; no need to wait for POLLOUT.
          if (c.state == State::kWriting) on_writable(c);
          break;
        case State::kWriting: on_writable(c); break;
        case State::kDraining: on_drain(c); break;
        case State::kClosed: break;
      }
      // POLLERR/POLLHUP with nothing left to read or write ends it too; the
      // calls above have seen the error or the EOF if there was one.
      if ((ev & POLLNVAL) != 0) c.state = State::kClosed;
    }

    now = Clock::now();
    for (Connection& c : conns) {
      if (c.state == State::kClosed || now < c.deadline) continue;
      // Draining past its deadline is normal lingering, not a client fault.
      if (c.state != State::kDraining) count_timeout();
      c.state = State::kClosed;
    }
    std::erase_if(conns, [](Connection& c) {
      if (c.state != State::kClosed) return false;
      ::close(c.fd);
      return true;
    });

    if (fds[1].revents != 0) accept_all();
  }

  for (Connection& c : conns) ::close(c.fd);
}

}  // namespace logship::admin
