#pragma once
// How many CPUs the process may use, for LOGSHIP_WORKERS=auto: the CPUs of
// its affinity mask, capped by its cgroup v2 CPU quota (cpu.max), at least 1.
// A container limited to one core then runs one worker instead of several
// threads thrashing on one core's quota. In core because the pipeline's
// workers and the HTTP sink's encoding threads size themselves by it.
//
// The parsing is pure (text in, numbers out) so tests feed it file contents.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace logship {

/// The CPU cap in a cgroup v2 `cpu.max` file ("$MAX $PERIOD"):
/// ceil(quota / period), at least 1; nullopt for "max" (no cap) or text that
/// is not two positive integers (an unreadable quota does not limit).
[[nodiscard]] std::optional<uint32_t> parse_cpu_max(std::string_view text);

/// The CPU cap of cgroup v1's cpu.cfs_quota_us / cpu.cfs_period_us (older
/// nodes): ceil(quota / period); nullopt for quota -1 (no cap) or bad text.
[[nodiscard]] std::optional<uint32_t> parse_cfs_quota(std::string_view quota, std::string_view period);

/// The process's cgroup v1 path of the cpu controller ("4:cpu,cpuacct:/a"
/// -> "/a"); nullopt without one.
[[nodiscard]] std::optional<std::string> parse_cgroup_v1_cpu_path(std::string_view proc_self_cgroup);

/// The process's cgroup v2 path from /proc/self/cgroup ("0::/a/b" -> "/a/b");
/// nullopt without a v2 entry.
[[nodiscard]] std::optional<std::string> parse_cgroup_v2_path(std::string_view proc_self_cgroup);

/// min(affinity, quota), at least 1 (affinity 0: unknown).
[[nodiscard]] uint32_t usable_cpus(uint32_t affinity, std::optional<uint32_t> quota);

/// usable_cpus() for this process: sched_getaffinity, and the smallest
/// cpu.max quota of its cgroup and the cgroups above it under /sys/fs/cgroup
/// (cgroup v1: the cpu controller's CFS quota of its cgroup, or of the
/// controller's root as a container sees it).
[[nodiscard]] uint32_t detect_usable_cpus();

/// The most workers (LOGSHIP_WORKERS) or encoding threads anything starts.
inline constexpr uint32_t kMaxWorkers = 64;

/// LOGSHIP_WORKERS as configured (0: auto) -> the worker count to run.
[[nodiscard]] uint32_t resolve_workers(uint32_t configured);

}  // namespace logship
