#pragma once
// LOGSHIP_TAP_LISTEN: its syntax and the loopback-only rule (the tap serves
// log content). Shared by the config check, the tap server and `logship
// tap`; no sockets here, so the config build links it alone.

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

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

/// True for a resolved IPv4 127.0.0.0/8 or IPv6 ::1 / ::ffff:127.x.y.z address.
[[nodiscard]] bool is_loopback_address(const sockaddr* sa);

/// The error for a non-loopback tap address, naming the key.
[[nodiscard]] std::string loopback_refusal(std::string_view host);

}  // namespace logship::admin
