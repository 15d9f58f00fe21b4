#include "sinks/http/http_url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace logship::sinks::http {
namespace {

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
         });
}

}  // namespace

namespace {

// Appends piece by piece: g++ 12 warns falsely (-Wrestrict) on
// `"[" + host + "]"`.
void append_host(std::string& out, const std::string& host) {
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out.push_back('[');
  out.append(host);
  if (v6) out.push_back(']');
}

}  // namespace

std::string Url::host_header() const {
  std::string out;
  append_host(out, host);
  if (port != (tls ? 443 : 80)) {
    out.push_back(':');
    out.append(std::to_string(port));
  }
  return out;
}

std::string Url::origin() const {
  std::string out = tls ? "https://" : "http://";
  append_host(out, host);
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

Result<Url> parse_url(std::string_view text) {
  Url url;
  if (istarts_with(text, "https://")) {
    url.tls = true;
    text.remove_prefix(8);
  } else if (istarts_with(text, "http://")) {
    text.remove_prefix(7);
  } else {
    return fail(Errc::kInvalid, "the scheme must be http:// or https://");
  }
  if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
    return fail(Errc::kInvalid, "spaces or control characters in the URL");
  }
  if (const size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  const size_t path_at = std::min(text.find('/'), text.find('?'));
  std::string_view authority = text.substr(0, path_at);
  std::string_view target = path_at == std::string_view::npos ? std::string_view{} : text.substr(path_at);
  if (authority.find('@') != std::string_view::npos) {
    return fail(Errc::kInvalid, "credentials in the URL are not supported");
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return fail(Errc::kInvalid, "bad [IPv6] host");
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return fail(Errc::kInvalid, "bad [IPv6] host");
      port_text = after.substr(1);
      if (port_text.empty()) return fail(Errc::kInvalid, "empty port");
    }
    in6_addr a6;
    if (::inet_pton(AF_INET6, url.host.c_str(), &a6) != 1) return fail(Errc::kInvalid, "bad IPv6 address");
    url.host_is_ip = true;
  } else {
    const size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail(Errc::kInvalid, "empty port");
    }
    if (url.host.empty()) return fail(Errc::kInvalid, "missing host");
    in_addr a4;
    url.host_is_ip = ::inet_pton(AF_INET, url.host.c_str(), &a4) == 1;
  }
  if (port_text.empty()) {
    url.port = url.tls ? 443 : 80;
  } else {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return fail(Errc::kInvalid, "the port must be 1-65535");
    }
    url.port = static_cast<uint16_t>(port);
  }
  // "/" alone counts as no path, so the format's standard path applies to
  // "http://loki:3100/" as to "http://loki:3100".
  if (target == "/") target = {};
  if (target.starts_with('?')) url.target.push_back('/');
  url.target.append(target);
  return url;
}

}  // namespace logship::sinks::http
