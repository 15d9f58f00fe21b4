#include "agent/admin/listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace logship::admin {
namespace {

uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

}  // namespace

Result<void> Listener::start(const std::string& host, uint16_t port, const Options& options,
                             std::function<void()> run) {
  const std::string what(options.what);
  if (running()) return fail(Errc::kInvalid, what + " listener already started");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  // An empty host means every local address (AI_PASSIVE with no node).
  const int gai = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (gai != 0) {
    if (gai == EAI_SYSTEM) return fail_errno("resolve " + what + " listen host " + host);
    return fail(Errc::kIo, "resolve " + what + " listen host " + host + ": " + ::gai_strerror(gai));
  }

  Error last{Errc::kIo, "resolve " + what + " listen host " + host + ": no addresses", 0};
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (options.accept_address != nullptr && !options.accept_address(ai->ai_addr)) {
      last = Error{Errc::kInvalid, options.refused_message, 0};
      continue;
    }
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = fail_errno(what + " socket").error();
      continue;
    }
    const int one = 1;
    // SO_REUSEADDR so a restarted agent can bind while old connections of the
    // previous process sit in TIME_WAIT.
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      last = fail_errno(what + " setsockopt SO_REUSEADDR").error();
    } else if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last = fail_errno(what + " bind " + host + ":" + service).error();
    } else if (::listen(fd, options.backlog) != 0) {
      last = fail_errno(what + " listen " + host + ":" + service).error();
    } else {
      break;
    }
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return std::unexpected(std::move(last));

  const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    auto err = fail_errno(what + " eventfd");
    ::close(fd);
    return err;
  }
  fd_ = fd;
  wake_fd_ = wake;
  port_.store(local_port(fd), std::memory_order_release);
  try {
    thread_ = std::thread(std::move(run));
  } catch (const std::system_error& e) {
    // Thread creation is the one call here that reports by exception.
    ::close(fd_);
    ::close(wake_fd_);
    fd_ = wake_fd_ = -1;
    return fail(Errc::kIo, what + " thread: " + e.what());
  }
  return {};
}

bool Listener::stop() {
  if (!thread_.joinable()) return false;
  const uint64_t one = 1;
  // An eventfd write only fails when the counter would overflow, which
  // cannot happen with one write per stop.
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(fd_);
  ::close(wake_fd_);
  fd_ = wake_fd_ = -1;
  return true;
}

SendState send_pending(int fd, std::string_view out, std::size_t& sent) {
  while (sent < out.size()) {
    const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? SendState::kPending : SendState::kClosed;
    }
    sent += static_cast<std::size_t>(n);
  }
  return SendState::kDone;
}

std::string Listener::describe() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  // Built by appending: `"[" + std::string(...)` trips g++ 12's false
  // -Wrestrict positive at -O3.
  std::string out;
  if (ss.ss_family == AF_INET6) out += '[';
  out += host;
  if (ss.ss_family == AF_INET6) out += ']';
  out += ':';
  out += serv;
  return out;
}

}  // namespace logship::admin
