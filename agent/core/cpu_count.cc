#include "agent/core/cpu_count.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace logship {
namespace {


std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<uint64_t> positive(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0) return std::nullopt;
  return v;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<uint32_t> parse_cpu_max(std::string_view text) {
  text = trim(text);
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view quota_text = text.substr(0, space);
  const std::string_view period_text = trim(text.substr(space + 1));
  if (quota_text == "max") return std::nullopt;
  const auto quota = positive(quota_text);
  const auto period = positive(period_text);
  if (!quota || !period) return std::nullopt;
  const uint64_t cpus = (*quota + *period - 1) / *period;
  return static_cast<uint32_t>(std::clamp<uint64_t>(cpus, 1, UINT32_MAX));
}

std::optional<uint32_t> parse_cfs_quota(std::string_view quota_text, std::string_view period_text) {
  const auto quota = positive(trim(quota_text));  // -1 (no cap) is not positive
  const auto period = positive(trim(period_text));
  if (!quota || !period) return std::nullopt;
  return static_cast<uint32_t>(std::clamp<uint64_t>((*quota + *period - 1) / *period, 1, UINT32_MAX));
}

std::optional<std::string> parse_cgroup_v1_cpu_path(std::string_view text) {
  // "id:controllers:path" with "cpu" among the comma-separated controllers.
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    const size_t c1 = line.find(':');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 != std::string_view::npos) {
      std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
      while (!controllers.empty()) {
        const size_t comma = controllers.find(',');
        if (controllers.substr(0, comma) == "cpu") return std::string(trim(line.substr(c2 + 1)));
        if (comma == std::string_view::npos) break;
        controllers.remove_prefix(comma + 1);
      }
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

std::optional<std::string> parse_cgroup_v2_path(std::string_view text) {
  // One line per hierarchy, "id:controllers:path"; v2's is "0::path".
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (line.starts_with("0::")) return std::string(trim(line.substr(3)));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

uint32_t usable_cpus(uint32_t affinity, std::optional<uint32_t> quota) {
  uint32_t n = affinity == 0 ? 1 : affinity;
  if (quota) n = std::min(n, *quota);
  return std::max<uint32_t>(n, 1);
}

uint32_t detect_usable_cpus() {
  uint32_t affinity = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) affinity = static_cast<uint32_t>(CPU_COUNT(&set));
  // The tightest quota on the way from the process's cgroup up to the root
  // (inside a container with its own cgroup namespace the path is "/").
  std::optional<uint32_t> quota;
  auto consider = [&](const std::string& dir) {
    if (auto text = read_file("/sys/fs/cgroup" + dir + "/cpu.max")) {
      if (auto q = parse_cpu_max(*text)) quota = quota ? std::min(*quota, *q) : *q;
    }
  };
  const auto self = read_file("/proc/self/cgroup");
  std::string path = "/";
  if (self) {
    if (auto p = parse_cgroup_v2_path(*self)) path = *p;
  }
  while (!path.empty() && path != "/") {
    consider(path);
    const size_t slash = path.rfind('/');
    path = slash == std::string::npos ? std::string() : path.substr(0, slash);
  }
  consider("");
  // cgroup v1: a container sees its own cgroup at the controller's mount
  // root, the host at the path /proc/self/cgroup names.
  if (auto v1 = self ? parse_cgroup_v1_cpu_path(*self) : std::nullopt) {
    for (const std::string mount : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
      for (const std::string& dir : {mount + (*v1 == "/" ? std::string() : *v1), mount}) {
        const auto q = read_file(dir + "/cpu.cfs_quota_us");
        const auto p = read_file(dir + "/cpu.cfs_period_us");
        if (!q || !p) continue;
        if (auto n = parse_cfs_quota(*q, *p)) quota = quota ? std::min(*quota, *n) : *n;
      }
    }
  }
  return usable_cpus(affinity, quota);
}

uint32_t resolve_workers(uint32_t configured) {
  if (configured != 0) return std::min(configured, kMaxWorkers);
  return std::min(detect_usable_cpus(), kMaxWorkers);
}

}  // namespace logship
