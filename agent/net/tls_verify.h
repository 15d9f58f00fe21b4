#pragma once
// The one copy of TLS peer verification, shared by the HTTP sink and the
// Kubernetes API client: how a client connection checks who it talks to.
// A small utility library (logship_net) with OpenSSL in its interface, so it
// stays out of agent/core; sinks and k8s depend on it, never the reverse.
//
// Pure functions on OpenSSL handles; thread-safe for distinct handles.

#include <openssl/ssl.h>

#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace logship::net {

/// Client context defaults: TLS 1.2 or later; with `verify`, peer
/// verification against `ca_file` (or the system CAs when nullopt).
[[nodiscard]] Result<void> configure_client_context(SSL_CTX* ctx, bool verify, const std::optional<std::string>& ca_file);

/// Sets up one connection to `host` (a DNS name or an IP literal, without
/// brackets): SNI for names, and, with `verify`, the name (DNS SAN, no
/// partial wildcards) or address (IP SAN) that OpenSSL checks during the
/// handshake.
[[nodiscard]] Result<void> expect_peer(SSL* ssl, const std::string& host, bool verify);

/// Why a handshake failed: the certificate verification error when there is
/// one (with `ca_hint` appended, e.g. "(CA file /x)"), else `fallback`.
[[nodiscard]] std::string handshake_error(const SSL* ssl, std::string_view fallback, std::string_view ca_hint);

/// Whether `host` is an IPv4 or IPv6 literal.
[[nodiscard]] bool is_ip_literal(const std::string& host);

}  // namespace logship::net
