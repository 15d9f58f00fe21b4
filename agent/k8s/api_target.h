#pragma once
// Request targets and headers for the pods API: pure string building, kept
// apart from the transport so it is tested on its own.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace logship::k8s {

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters
/// stay as they are).
[[nodiscard]] std::string url_encode(std::string_view value);

/// `GET /api/v1/pods?fieldSelector=spec.nodeName%3D<node>&limit=<limit>`,
/// plus `&continue=<token>` for the pages after the first.
[[nodiscard]] std::string list_target(std::string_view node, uint32_t limit,
                                      std::string_view continue_token = {});

/// The watch that follows a list: from `resource_version`, with bookmarks,
/// ended by the server after `timeout`.
[[nodiscard]] std::string watch_target(std::string_view node, std::string_view resource_version,
                                       std::chrono::seconds timeout);

/// `host` without the brackets an IPv6 literal may come with ("[fd00::1]").
[[nodiscard]] std::string_view bare_host(std::string_view host);

/// The Host header: "host:port", with brackets for IPv6 literals.
[[nodiscard]] std::string host_header(std::string_view host, uint16_t port);

}  // namespace logship::k8s
