#pragma once
// The listening socket and poll thread that the admin endpoint and the live
// tap share: resolve, bind the first acceptable address, listen, an eventfd
// that stop() writes to end the poll loop, and the thread's start and join.
// One copy, so both servers bind, report and stop the same way.
//
// Threading: start() and stop() are called by the owner's thread; `run`
// executes on the listener's own thread and must return once wake_fd()
// becomes readable. fd() and wake_fd() are valid between a successful start()
// and stop().

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "agent/core/result.h"

namespace logship::admin {

class Listener {
 public:
  struct Options {
    /// Prefix of error messages and the thread's purpose ("admin", "tap").
    std::string_view what;
    int backlog = 64;
    /// Addresses for which this returns false are skipped, with this error
    /// text if none is left (e.g. the tap: loopback addresses only). Null:
    /// every address.
    bool (*accept_address)(const sockaddr*) = nullptr;
    std::string refused_message;
  };

  Listener() = default;
  ~Listener() { stop(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// Binds host:port (empty host: every local address; port 0: a free one)
  /// and starts `run` on a new thread. A name may resolve to several
  /// addresses; the first one that binds wins, as with most servers.
  [[nodiscard]] Result<void> start(const std::string& host, uint16_t port, const Options& options,
                                   std::function<void()> run);

  /// Wakes the loop (wake_fd() becomes readable), joins the thread and
  /// closes both descriptors. Idempotent; true if it stopped a running thread.
  bool stop();

  [[nodiscard]] bool running() const { return thread_.joinable(); }
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] int wake_fd() const { return wake_fd_; }
  /// The bound port (the real one when 0 was asked for); 0 before start().
  [[nodiscard]] uint16_t port() const { return port_.load(std::memory_order_acquire); }
  /// "127.0.0.1:2020" or "[::1]:2020" for the bound socket, for log lines.
  [[nodiscard]] std::string describe() const;

 private:
  int fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<uint16_t> port_{0};
  std::thread thread_;
};

/// Sends what is left of `out` from `sent` on a non-blocking socket,
/// advancing `sent`. kDone: all sent; kPending: the socket is full (wait for
/// POLLOUT); kClosed: the peer is gone or the socket failed. MSG_NOSIGNAL: a
/// client that went away must not SIGPIPE the agent.
enum class SendState { kDone, kPending, kClosed };
[[nodiscard]] SendState send_pending(int fd, std::string_view out, std::size_t& sent);

}  // namespace logship::admin
