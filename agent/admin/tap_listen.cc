#include "agent/admin/tap_listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace logship::admin {

bool is_loopback_address(const sockaddr* sa) {
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

std::string loopback_refusal(std::string_view host) {
  return "LOGSHIP_TAP_LISTEN: " + std::string(host) +
         " is not a loopback address; the tap serves log content and listens on 127.0.0.1 or ::1 only "
         "(reach it with kubectl exec or kubectl port-forward)";
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  const std::string h(host);
  // sockaddr_storage: large enough for either family (and no false
  // out-of-bounds warning once is_loopback_address is inlined).
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, h.c_str(), &in->sin_addr) == 1) {
    ss.ss_family = AF_INET;
  } else if (::inet_pton(AF_INET6, h.c_str(), &in6->sin6_addr) == 1) {
    ss.ss_family = AF_INET6;
  } else {
    return false;
  }
  return is_loopback_address(reinterpret_cast<const sockaddr*>(&ss));
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
  if (!is_loopback_host(out.host)) return fail(Errc::kInvalid, loopback_refusal(out.host));
  return out;
}

}  // namespace logship::admin
