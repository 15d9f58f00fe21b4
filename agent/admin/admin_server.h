#pragma once
// The admin HTTP endpoint on LOGSHIP_LISTEN: GET/HEAD /healthz, /readyz and
// /metrics for kubelet probes and Prometheus scrapes.
//
// A deliberately small HTTP/1.1 server: one thread, non-blocking sockets and
// poll(2), one request per connection (`Connection: close`). Every
// connection has a deadline and a request size cap, and the number of open
// connections is bounded, so a slow or hostile client costs one slot for at
// most `read_timeout` and never delays another client's probe.
//
// Lifecycle: construct, start() once, stop() (or destroy). Not restartable.
// Threading: start() and stop() are called by the owner (not concurrently
// with each other); heartbeat(), set_ready() and port() are safe from any
// thread. Metrics::render() and therefore the metric collectors run on the
// server thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "agent/admin/listener.h"
#include "agent/admin/metrics.h"
#include "agent/core/result.h"

namespace logship::admin {

/// Tunables; the defaults suit production, tests shorten the timeouts.
struct AdminOptions {
  /// /healthz fails once the last heartbeat() is older than this.
  std::chrono::milliseconds stale_after{std::chrono::seconds(10)};
  /// Time a client has to send its whole request, and then to take the
  /// whole response, before the connection is dropped.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(5)};
  /// Requests (request line plus headers) larger than this get 431.
  std::size_t max_request_bytes = 8 * 1024;
  /// Open connections beyond this wait in the kernel's accept queue.
  std::size_t max_connections = 32;
};

class AdminServer {
 public:
  /// `metrics` must outlive the server. The server describes its own
  /// families in it (logship_admin_*) at construction.
  explicit AdminServer(Metrics& metrics, AdminOptions options = {});
  /// Stops the server (see stop()).
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Resolves `host` (numeric IPv4/IPv6 without brackets, or a name), binds
  /// the first address that works with SO_REUSEADDR, listens and starts the
  /// server thread. `port` 0 picks a free port; see port(). The heartbeat
  /// clock starts here, so /healthz is healthy for `stale_after` even before
  /// the first heartbeat(). Fails with kIo (resolution, bind, listen) or
  /// kInvalid (already started).
  [[nodiscard]] Result<void> start(const std::string& host, uint16_t port);

  /// The bound port once start() succeeded (the real one when asked for 0),
  /// 0 before.
  [[nodiscard]] uint16_t port() const { return listener_.port(); }

  /// Records that the owner's event loop is alive. Cheap (one relaxed store);
  /// call it from the loop that /healthz vouches for.
  void heartbeat();

  /// Sets the /readyz state; `reason` is shown in the 503 body while not
  /// ready. Initially not ready with reason "starting".
  void set_ready(bool ready, std::string reason = {});

  /// Stops accepting, closes every connection and joins the thread.
  /// Idempotent; a no-op if start() never succeeded.
  void stop();

 private:
  struct Connection;
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    bool allow_header = false;  // 405 carries "Allow: GET, HEAD"
  };

  void run();
  [[nodiscard]] Response handle(std::string_view method, std::string_view path);
  [[nodiscard]] Response healthz() const;
  [[nodiscard]] Response readyz();
  void count_response(int status);
  void count_timeout();
  void count_connection_limit();

  Metrics& metrics_;
  const AdminOptions options_;

  std::atomic<int64_t> last_heartbeat_ns_{0};  // steady_clock since epoch

  std::mutex ready_mu_;
  bool ready_ = false;
  std::string not_ready_reason_ = "starting";

  Listener listener_;
  bool started_ = false;

  // Server-thread-only counters, pushed into metrics_ when they change.
  std::map<int, uint64_t> responses_;  // status code -> count
  uint64_t timeouts_ = 0;
  uint64_t connection_limit_hits_ = 0;
};

}  // namespace logship::admin
