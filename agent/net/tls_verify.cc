#include "agent/net/tls_verify.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

namespace logship::net {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Result<void> configure_client_context(SSL_CTX* ctx, bool verify, const std::optional<std::string>& ca_file) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return {};
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file->c_str(), nullptr)
                         : SSL_CTX_set_default_verify_paths(ctx);
  if (ok != 1) {
    return fail(Errc::kInvalid, ca_file ? "CA file " + *ca_file + ": cannot load certificates"
                                        : std::string("cannot load the system CA certificates"));
  }
  return {};
}

Result<void> expect_peer(SSL* ssl, const std::string& host, bool verify) {
  const bool ip = is_ip_literal(host);
  // SNI: virtual hosts and most proxies pick the certificate by it; it is
  // not sent for IP addresses.
  if (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return fail(Errc::kInvalid, "TLS: cannot set the server name " + host);
  }
  if (!verify) return {};
  // Hostname (or IP address) verification by OpenSSL during the handshake,
  // against the certificate's subjectAltName.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                    : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (ok != 1) return fail(Errc::kInvalid, "TLS: cannot verify against " + host);
  return {};
}

std::string handshake_error(const SSL* ssl, std::string_view fallback, std::string_view ca_hint) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_OK) return std::string(fallback);
  std::string out = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  if (!ca_hint.empty()) {
    out += ' ';
    out += ca_hint;
  }
  return out;
}

}  // namespace logship::net
