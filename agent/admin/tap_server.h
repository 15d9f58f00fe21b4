#pragma once
// The live tap's listener (LOGSHIP_TAP=on, LOGSHIP_TAP_LISTEN, default
// 127.0.0.1:2021): a streaming HTTP endpoint, loopback only, separate from
// the admin endpoint so that /metrics and the probes never carry records.
//
//   GET /tap?namespace=GLOB&pod=GLOB&container=GLOB&limit=N
//   -> 200, Content-Type: application/x-ndjson, one record per line as they
//      pass, until the client disconnects or N records were sent.
//   404 other paths, 405 other methods, 400 bad query, 503 too many clients.
//
// Operators reach it with `kubectl exec ... logship tap` or `kubectl
// port-forward`. A non-loopback listen address is refused at start.
//
// Same style as AdminServer: one thread, non-blocking sockets, poll(2), a
// deadline for the request, `Connection: close`. A client that reads slowly
// only loses records (Tap skips them); it never slows the pipeline.
//
// Lifecycle: construct, start() once, stop() (or destroy). The Tap must
// outlive the server.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "agent/admin/listener.h"
#include "agent/admin/tap.h"
#include "agent/core/result.h"

namespace logship::admin {

/// LOGSHIP_TAP_LISTEN's default.
inline constexpr std::string_view kDefaultTapListen = "127.0.0.1:2021";

struct TapListen {
  std::string host;  ///< IPv6 without brackets
  uint16_t port = 0;
};

/// True for 127.0.0.0/8, ::1, ::ffff:127.x.y.z and "localhost".
[[nodiscard]] bool is_loopback_host(std::string_view host);

/// Parses "host:port" or "[v6]:port" for LOGSHIP_TAP_LISTEN. kInvalid, with
/// the key and the reason, for a malformed value or a host that is not a
/// loopback address (the tap serves log content).
[[nodiscard]] Result<TapListen> parse_tap_listen(std::string_view text);

struct TapServerOptions {
  /// Time a client has to send its request.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(5)};
  /// Requests larger than this get 431.
  std::size_t max_request_bytes = 8 * 1024;
  /// How often client buffers are drained to their sockets.
  std::chrono::milliseconds tick{std::chrono::milliseconds(50)};
  /// Open connections (streaming or not) at once; more wait in the accept
  /// queue. Streaming clients are further bounded by Tap::Options.
  std::size_t max_connections = 16;
};

class TapServer {
 public:
  explicit TapServer(Tap& tap, TapServerOptions options = {});
  ~TapServer();

  TapServer(const TapServer&) = delete;
  TapServer& operator=(const TapServer&) = delete;

  /// Binds host:port (port 0: a free one, see port()) and starts the thread.
  /// kInvalid if `host` is not loopback or does not resolve to loopback
  /// addresses only; kIo if binding fails.
  [[nodiscard]] Result<void> start(const std::string& host, uint16_t port);

  [[nodiscard]] uint16_t port() const { return listener_.port(); }

  /// Closes every client and joins the thread. Idempotent.
  void stop();

 private:
  struct Connection;
  void run();

  Tap& tap_;
  const TapServerOptions options_;
  Listener listener_;
  bool started_ = false;
};

}  // namespace logship::admin
