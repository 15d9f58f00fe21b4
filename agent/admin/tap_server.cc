#include "agent/admin/tap_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>
#include <vector>

#include "agent/core/log.h"

namespace logship::admin {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kComponent = "tap";
constexpr int kListenBacklog = 16;

bool loopback_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

std::string refuse_message(std::string_view host) {
  return "LOGSHIP_TAP_LISTEN: " + std::string(host) +
         " is not a loopback address; the tap serves log content and listens on 127.0.0.1 or ::1 only "
         "(reach it with kubectl exec or kubectl port-forward)";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding of one query component ('+' is a space). False on a
// broken escape.
bool url_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return true;
}

struct TapQuery {
  TapFilter filter;
  uint64_t limit = 0;  // 0: no limit
};

// "namespace=a*&pod=b&limit=3" -> TapQuery; an error text otherwise.
Result<TapQuery> parse_query(std::string_view query) {
  TapQuery q;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    std::string value;
    if (eq == std::string_view::npos || !url_decode(item.substr(eq + 1), value)) {
      return fail(Errc::kInvalid, "bad query parameter " + std::string(key));
    }
    if (key == "namespace") {
      q.filter.namespace_glob = value.empty() ? "*" : value;
    } else if (key == "pod") {
      q.filter.pod_glob = value.empty() ? "*" : value;
    } else if (key == "container") {
      q.filter.container_glob = value.empty() ? "*" : value;
    } else if (key == "limit") {
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), q.limit);
      if (ec != std::errc() || p != value.data() + value.size() || q.limit == 0) {
        return fail(Errc::kInvalid, "limit must be a positive integer");
      }
    } else {
      return fail(Errc::kInvalid, "unknown query parameter " + std::string(key));
    }
  }
  return q;
}

std::string simple_response(int status, std::string_view reason, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Length: " + std::to_string(body.size() + 1) + "\r\n";
  if (status == 405) out += "Allow: GET\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  out += '\n';
  return out;
}

constexpr std::string_view kStreamHeader =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/x-ndjson\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Connection: close\r\n\r\n";

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  const std::string h(host);
  in_addr a4{};
  if (::inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (::inet_pton(AF_INET6, h.c_str(), &a6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
  }
  return false;
}

Result<TapListen> parse_tap_listen(std::string_view text) {
  TapListen out;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail(Errc::kInvalid, "LOGSHIP_TAP_LISTEN: \"" + std::string(text) + "\" is not [IPv6]:port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.substr(0, colon).find(':') != std::string_view::npos) {
      return fail(Errc::kInvalid, "LOGSHIP_TAP_LISTEN: \"" + std::string(text) + "\" is not host:port");
    }
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value > 65535) {
    return fail(Errc::kInvalid, "LOGSHIP_TAP_LISTEN: port \"" + std::string(port) + "\" is not 0-65535");
  }
  out.port = static_cast<uint16_t>(value);
  if (!is_loopback_host(out.host)) return fail(Errc::kInvalid, refuse_message(out.host));
  return out;
}

struct TapServer::Connection {
  enum class State { kReading, kReplying, kStreaming, kClosed };
  int fd = -1;
  State state = State::kReading;
  std::string in;
  std::string out;
  std::size_t sent = 0;
  Clock::time_point deadline;
  std::unique_ptr<Tap::Subscription> sub;
  uint64_t limit = 0;
  uint64_t records_sent = 0;
  bool last = false;  // close once `out` is sent
};

TapServer::TapServer(Tap& tap, TapServerOptions options) : tap_(tap), options_(options) {}

TapServer::~TapServer() { stop(); }

Result<void> TapServer::start(const std::string& host, uint16_t port) {
  if (started_) return fail(Errc::kInvalid, "tap server already started");
  if (!is_loopback_host(host)) return fail(Errc::kInvalid, refuse_message(host));
  // A name (localhost) must not lead to a non-loopback address.
  const Listener::Options lo{.what = "tap",
                             .backlog = kListenBacklog,
                             .accept_address = loopback_sockaddr,
                             .refused_message = refuse_message(host)};
  if (auto r = listener_.start(host, port, lo, [this] { run(); }); !r) return r;
  started_ = true;
  log::info(kComponent, "live tap listening", {{"host", host}, {"port", static_cast<unsigned>(listener_.port())}});
  return {};
}

void TapServer::stop() { listener_.stop(); }

void TapServer::run() {
  using State = Connection::State;
  std::vector<Connection> conns;
  std::vector<pollfd> fds;

  auto on_writable = [&](Connection& c) {
    const SendState sent = send_pending(c.fd, c.out, c.sent);
    if (sent != SendState::kDone) {
      if (sent == SendState::kClosed) c.state = State::kClosed;
      return;
    }
    c.out.clear();
    c.sent = 0;
    if (c.last) {
      ::shutdown(c.fd, SHUT_WR);
      c.state = State::kClosed;
    }
  };

  auto reply = [&](Connection& c, int status, std::string_view reason, std::string_view body) {
    c.out = simple_response(status, reason, body);
    c.sent = 0;
    c.state = State::kReplying;
    c.last = true;
    on_writable(c);  // small: usually sent at once
  };

  // Request line only: no endpoint takes a body and every response closes.
  auto on_request = [&](Connection& c) {
    std::string_view line(c.in.data(), c.in.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return reply(c, 400, "Bad Request", "bad request");
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto qmark = target.find('?');
    const std::string_view path = target.substr(0, qmark);
    if (path != "/tap") return reply(c, 404, "Not Found", "not found; the tap is GET /tap");
    if (method != "GET") return reply(c, 405, "Method Not Allowed", "method not allowed");
    auto query = parse_query(qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1));
    if (!query) return reply(c, 400, "Bad Request", query.error().message);
    auto sub = tap_.subscribe(std::move(query->filter));
    if (!sub) return reply(c, 503, "Service Unavailable", sub.error().message);
    c.sub = std::move(*sub);
    c.limit = query->limit;
    c.out = std::string(kStreamHeader);
    c.sent = 0;
    c.state = State::kStreaming;
    on_writable(c);
  };

  auto on_readable = [&](Connection& c) {
    char buf[4096];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) c.state = State::kClosed;
      return;
    }
    if (n == 0) {  // the client went away (a tap client stops with Ctrl-C)
      c.state = State::kClosed;
      return;
    }
    if (c.state != State::kReading) return;  // input after the request is ignored
    c.in.append(buf, static_cast<std::size_t>(n));
    const bool complete = c.in.find("\r\n\r\n") != std::string::npos || c.in.find("\n\n") != std::string::npos;
    if (c.in.size() > options_.max_request_bytes) {
      reply(c, 431, "Request Header Fields Too Large", "request too large");
    } else if (complete) {
      on_request(c);
    }
  };

  // Moves what the client's buffer holds into its output, cut at its limit.
  auto refill = [&](Connection& c) {
    if (c.state != State::kStreaming || c.last || !c.out.empty()) return;
    std::size_t n = c.sub->drain(c.out);
    if (c.limit != 0 && c.records_sent + n >= c.limit) {
      std::size_t keep = static_cast<std::size_t>(c.limit - c.records_sent);
      std::size_t pos = 0;
      for (std::size_t i = 0; i < keep; ++i) pos = c.out.find('\n', pos) + 1;
      c.out.resize(pos);
      n = keep;
      c.last = true;
    }
    c.records_sent += n;
    if (!c.out.empty() || c.last) on_writable(c);
  };

  for (;;) {
    const auto now = Clock::now();
    fds.clear();
    fds.push_back({listener_.wake_fd(), POLLIN, 0});
    const bool accepting = conns.size() < options_.max_connections;
    fds.push_back({listener_.fd(), static_cast<short>(accepting ? POLLIN : 0), 0});
    int timeout = -1;
    for (const Connection& c : conns) {
      short events = POLLIN;
      if (c.sent < c.out.size()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
      const auto wait = c.state == State::kStreaming
                            ? options_.tick
                            : std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - now);
      const int ms = static_cast<int>(std::max<int64_t>(0, wait.count()));
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      log::error(kComponent, "tap poll failed", {{"error", errno_message("poll")}});
      break;
    }
    if (fds[0].revents & POLLIN) break;
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      const short re = fds[i + 2].revents;
      if (re & POLLIN) on_readable(c);
      if (c.state != State::kClosed && (re & (POLLERR | POLLHUP)) && !(re & POLLIN)) c.state = State::kClosed;
      if (c.state != State::kClosed && (re & POLLOUT)) on_writable(c);
      if (c.state == State::kStreaming) refill(c);
      if ((c.state == State::kReading || c.state == State::kReplying) && Clock::now() >= c.deadline) {
        c.state = State::kClosed;
      }
    }
    std::erase_if(conns, [](Connection& c) {
      if (c.state != State::kClosed) return false;
      ::close(c.fd);
      return true;  // the subscription ends with the connection
    });
    if (accepting && (fds[1].revents & POLLIN)) {
      while (conns.size() < options_.max_connections) {
        const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        Connection c;
        c.fd = fd;
        c.deadline = Clock::now() + options_.read_timeout;
        conns.push_back(std::move(c));
      }
    }
  }
  for (Connection& c : conns) ::close(c.fd);
}

}  // namespace logship::admin
