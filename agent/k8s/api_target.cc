#include "agent/k8s/api_target.h"

namespace logship::k8s {
namespace {

std::string node_selector(std::string_view node) {
  return "fieldSelector=" + url_encode("spec.nodeName=" + std::string(node));
}

}  // namespace

std::string url_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string list_target(std::string_view node, uint32_t limit, std::string_view continue_token) {
  std::string target = "/api/v1/pods?" + node_selector(node) + "&limit=" + std::to_string(limit);
  if (!continue_token.empty()) target += "&continue=" + url_encode(continue_token);
  return target;
}

std::string watch_target(std::string_view node, std::string_view resource_version,
                         std::chrono::seconds timeout) {
  return "/api/v1/pods?" + node_selector(node) + "&watch=1&resourceVersion=" +
         url_encode(resource_version) + "&allowWatchBookmarks=true&timeoutSeconds=" +
         std::to_string(timeout.count());
}

std::string_view bare_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string host_header(std::string_view host, uint16_t port) {
  const std::string_view bare = bare_host(host);
  const bool v6 = bare.find(':') != std::string_view::npos;
  // Appends rather than operator+ chains: g++ 12 warns falsely (-Wrestrict)
  // on "literal" + std::string&&.
  std::string out;
  if (v6) out += '[';
  out.append(bare);
  if (v6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace logship::k8s
