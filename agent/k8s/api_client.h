#pragma once
// A minimal HTTPS client for the Kubernetes API server: GET requests over
// one keep-alive TLS connection, whole responses (lists) or streamed bodies
// (watches), every network step bounded by a deadline.
//
// - TLS: the server certificate must chain to `ca_file` and match `host`
//   (DNS name, or IP SAN for an IP literal); TLS 1.2 or later.
// - Auth: `Authorization: Bearer <token>`, the token read from `token_file`
//   at every new connection and again after a 401, since service-account
//   tokens rotate. The token is never logged or put in error messages.
//
// Threading: one thread drives the client (the PodWatcher's); only
// interrupt() may be called from another thread. Boost.Asio/Beast stay in
// the .cc file.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace logship::k8s {

struct ApiClientOptions {
  std::string host;  ///< DNS name or IP literal (IPv6 with or without brackets)
  uint16_t port = 443;
  std::string ca_file;
  std::string token_file;
  /// Resolve + TCP connect, and then the TLS handshake, each.
  std::chrono::milliseconds connect_timeout{10000};
};

struct ApiResponse {
  unsigned status = 0;
  std::string body;  ///< open_stream(): empty for 200 (read it with read_stream())
};

class ApiClient {
 public:
  explicit ApiClient(ApiClientOptions options);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  /// Checks what can be checked without the network: the CA file loads as
  /// PEM certificates and the token file is readable (kInvalid otherwise).
  [[nodiscard]] Result<void> validate() const;

  /// GET `target` and read the whole response, connecting first if needed.
  /// `timeout` bounds each step (send, receive); a body over `body_limit`
  /// fails. HTTP error statuses are not errors here: the caller looks at
  /// `status`. Errors: kUnavailable (network, TLS, timeout, bad HTTP),
  /// kClosed (interrupted).
  [[nodiscard]] Result<ApiResponse> get(std::string_view target, std::chrono::milliseconds timeout,
                                        size_t body_limit);

  /// GET `target` and read the response header. For 200 the body is left
  /// to read_stream(); for any other status the body (at most 64 KiB) is
  /// read into the response. Errors as get().
  [[nodiscard]] Result<ApiResponse> open_stream(std::string_view target,
                                                std::chrono::milliseconds timeout);

  /// Appends the next bytes of the body opened by open_stream() to `out`
  /// (chunked encoding already removed), waiting at most `idle_timeout` for
  /// them. Returns true after appending, false once the body has ended
  /// cleanly. A connection that drops or stays silent fails with
  /// kUnavailable and is closed.
  [[nodiscard]] Result<bool> read_stream(std::string& out, std::chrono::milliseconds idle_timeout);

  /// Closes the connection, e.g. to abandon a stream mid-body; the next
  /// request connects anew.
  void disconnect();

  /// Aborts the call in progress, and makes every later call fail with
  /// kClosed. Safe from any thread; not reversible.
  void interrupt();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logship::k8s
