#include "agent/enrich/k8s_path.h"

#include <vector>

#include "agent/core/json_string.h"

namespace logship::enrich {
namespace {

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

/// Splits "a_b_c" into exactly three non-empty parts. Kubernetes names
/// (DNS-1123) never contain '_', so '_' is an unambiguous separator.
bool split3(std::string_view s, std::string_view out[3]) {
  const size_t a = s.find('_');
  if (a == std::string_view::npos) return false;
  const size_t b = s.find('_', a + 1);
  if (b == std::string_view::npos || s.find('_', b + 1) != std::string_view::npos) return false;
  out[0] = s.substr(0, a);
  out[1] = s.substr(a + 1, b - a - 1);
  out[2] = s.substr(b + 1);
  return !out[0].empty() && !out[1].empty() && !out[2].empty();
}

/// The last `n` components of `path` (fewer if the path is shorter).
std::vector<std::string_view> tail_components(std::string_view path, size_t n) {
  std::vector<std::string_view> parts;
  while (!path.empty() && parts.size() < n) {
    const size_t slash = path.rfind('/');
    const std::string_view comp = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (!comp.empty()) parts.insert(parts.begin(), comp);
    if (slash == std::string_view::npos) break;
    path = path.substr(0, slash);
  }
  return parts;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<K8sMeta> from_containers(const std::vector<std::string_view>& c) {
  // .../containers/<pod>_<namespace>_<container>-<64 hex>.log
  if (c.size() < 2 || c[c.size() - 2] != "containers") return std::nullopt;
  std::string_view name = c.back();
  if (!ends_with(name, ".log")) return std::nullopt;
  name.remove_suffix(4);
  if (name.size() < 66 || name[name.size() - 65] != '-') return std::nullopt;
  const std::string_view id = name.substr(name.size() - 64);
  if (!is_hex(id)) return std::nullopt;
  std::string_view parts[3];
  if (!split3(name.substr(0, name.size() - 65), parts)) return std::nullopt;
  return K8sMeta{std::string(parts[1]), std::string(parts[0]), {}, std::string(parts[2]),
                 std::string(id)};
}

std::optional<K8sMeta> from_pods(const std::vector<std::string_view>& c) {
  // .../pods/<namespace>_<pod>_<uid>/<container>/<n>.log
  if (c.size() < 4 || c[c.size() - 4] != "pods") return std::nullopt;
  std::string_view file = c.back();
  if (!ends_with(file, ".log")) return std::nullopt;
  std::string_view parts[3];
  if (!split3(c[c.size() - 3], parts)) return std::nullopt;
  return K8sMeta{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                 std::string(c[c.size() - 2]), {}};
}

void append_member(std::string& out, bool& first, std::string_view key, const std::string& v) {
  if (v.empty()) return;
  if (!first) out += ',';
  first = false;
  json::append_string(out, key);
  out += ':';
  json::append_string(out, v);
}

void append_map(std::string& out, bool& first, std::string_view key,
                const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) return;
  if (!first) out += ',';
  first = false;
  json::append_string(out, key);
  out += ":{";
  bool first_entry = true;
  for (const auto& [k, v] : entries) {
    if (!first_entry) out += ',';
    first_entry = false;
    json::append_string(out, k);
    out += ':';
    json::append_string(out, v);
  }
  out += '}';
}

}  // namespace

std::optional<K8sMeta> parse_k8s_path(std::string_view path) {
  const auto comps = tail_components(path, 4);
  if (auto m = from_containers(comps)) return m;
  return from_pods(comps);
}

std::string encode_k8s_member(const K8sMeta& meta, const PodDetails* details) {
  std::string out = "\"k8s\":{";
  bool first = true;
  append_member(out, first, "namespace", meta.namespace_name);
  append_member(out, first, "pod", meta.pod);
  append_member(out, first, "pod_uid", meta.pod_uid.empty() && details ? details->pod_uid : meta.pod_uid);
  append_member(out, first, "container", meta.container);
  append_member(out, first, "container_id", meta.container_id);
  if (details) {
    append_member(out, first, "node", details->node);
    append_member(out, first, "image", details->image);
    append_map(out, first, "labels", details->labels);
    append_map(out, first, "annotations", details->annotations);
  }
  out += '}';
  return out;
}

}  // namespace logship::enrich
