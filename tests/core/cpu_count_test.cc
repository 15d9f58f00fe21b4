// The CPU count behind LOGSHIP_WORKERS=auto: cgroup v2 cpu.max and
// /proc/self/cgroup parsing, and the min with the affinity mask.

#include "agent/core/cpu_count.h"

#include <catch2/catch.hpp>

using namespace logship;

TEST_CASE("cpu count: cpu.max quota in CPUs", "[pipeline][cpu]") {
  CHECK_FALSE(parse_cpu_max("max 100000\n"));  // no cap
  CHECK(parse_cpu_max("100000 100000\n") == 1u);
  CHECK(parse_cpu_max("200000 100000") == 2u);
  CHECK(parse_cpu_max("150000 100000\n") == 2u);  // 1.5 CPUs: rounded up
  CHECK(parse_cpu_max("50000 100000\n") == 1u);   // half a CPU is still one worker
  CHECK(parse_cpu_max("  400000   100000  \n") == 4u);
  CHECK(parse_cpu_max("1 1000000") == 1u);
  // Not two positive integers: no cap rather than a made-up one.
  CHECK_FALSE(parse_cpu_max(""));
  CHECK_FALSE(parse_cpu_max("100000"));
  CHECK_FALSE(parse_cpu_max("0 100000"));
  CHECK_FALSE(parse_cpu_max("100000 0"));
  CHECK_FALSE(parse_cpu_max("-1 100000"));
  CHECK_FALSE(parse_cpu_max("abc 100000"));
  CHECK_FALSE(parse_cpu_max("100000 100000x"));
}

TEST_CASE("cpu count: the cgroup v2 path of the process", "[pipeline][cpu]") {
  CHECK(parse_cgroup_v2_path("0::/\n") == "/");
  CHECK(parse_cgroup_v2_path("0::/kubepods.slice/pod1/cri-abc.scope\n") == "/kubepods.slice/pod1/cri-abc.scope");
  // Hybrid hosts list v1 hierarchies too.
  CHECK(parse_cgroup_v2_path("12:cpu,cpuacct:/docker/x\n1:name=systemd:/x\n0::/user.slice\n") == "/user.slice");
  CHECK_FALSE(parse_cgroup_v2_path("12:cpu,cpuacct:/docker/x\n"));
  CHECK_FALSE(parse_cgroup_v2_path(""));
}

TEST_CASE("cpu count: cgroup v1 CFS quota and the cpu controller's path", "[pipeline][cpu]") {
  CHECK_FALSE(parse_cfs_quota("-1\n", "100000\n"));  // no cap
  CHECK(parse_cfs_quota("100000\n", "100000\n") == 1u);
  CHECK(parse_cfs_quota("250000\n", "100000\n") == 3u);
  CHECK_FALSE(parse_cfs_quota("100000", "0"));
  CHECK_FALSE(parse_cfs_quota("", "100000"));
  CHECK(parse_cgroup_v1_cpu_path("4:memory:/x\n2:cpu,cpuacct:/kubepods/pod1/c1\n0::/\n") == "/kubepods/pod1/c1");
  CHECK(parse_cgroup_v1_cpu_path("1:cpu:/\n2:cpuacct:/a\n") == "/");
  CHECK_FALSE(parse_cgroup_v1_cpu_path("2:cpuacct:/a\n3:cpuset:/b\n0::/\n"));
}

TEST_CASE("cpu count: affinity capped by the quota, at least one", "[pipeline][cpu]") {
  CHECK(usable_cpus(8, std::nullopt) == 8u);
  CHECK(usable_cpus(8, 2u) == 2u);
  CHECK(usable_cpus(2, 8u) == 2u);
  CHECK(usable_cpus(0, std::nullopt) == 1u);
  CHECK(usable_cpus(4, parse_cpu_max("100000 100000")) == 1u);
  CHECK(usable_cpus(4, parse_cpu_max("max 100000")) == 4u);
  // This process: whatever the machine, at least one.
  CHECK(detect_usable_cpus() >= 1u);
  CHECK(resolve_workers(0) >= 1u);
  CHECK(resolve_workers(0) <= 64u);
  CHECK(resolve_workers(3) == 3u);
}
