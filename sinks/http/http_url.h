#pragma once
// The parts of LOGSHIP_HTTP_URL the client needs: scheme, host, port and the
// request target (path and query). No userinfo (credentials come from files,
// never from a URL that ends up in logs) and no fragment.

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace logship::sinks::http {

struct Url {
  bool tls = false;     ///< https
  std::string host;     ///< as written, without IPv6 brackets
  uint16_t port = 0;    ///< explicit, or 80 / 443
  std::string target;   ///< path and query; "" when the URL has no path (or only "/")
  bool host_is_ip = false;  ///< IPv4 or IPv6 literal: no SNI, IP-address verification

  /// The Host header: host[:port] (port omitted when it is the scheme's
  /// default), IPv6 literals in brackets.
  [[nodiscard]] std::string host_header() const;
  /// scheme://host:port (no path): for logs and readiness messages.
  [[nodiscard]] std::string origin() const;
};

/// Parses an http:// or https:// URL. Errors name the reason, not the key.
[[nodiscard]] Result<Url> parse_url(std::string_view text);

}  // namespace logship::sinks::http
