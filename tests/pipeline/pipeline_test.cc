#include "agent/pipeline/pipeline.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>
#include <thread>

#include "tests/fakes/fake_sink.h"
#include "tests/fakes/temp_dir.h"

using namespace logship;
using testing::FakeSink;
using testing::TempDir;
using testing::write_file;

namespace {

std::string cri_lines(int n, int width = 40) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "2026-11-26T23:08:04.000000001Z stdout F {\"i\":" + std::to_string(i) + ",\"pad\":\"" +
           std::string(width, 'p') + "\"}\n";
  }
  return out;
}

/// LOGSHIP_WORKERS for the test case running (set from GENERATE: every
/// case runs with encoding on the worker thread and on a pool).
uint32_t g_workers = 1;

pipeline::Options options(const std::string& glob) {
  pipeline::Options o;
  o.workers = g_workers;
  o.input_paths = {glob};
  o.batch_max_bytes = 4096;
  o.memory_limit = 64 << 10;
  o.retry_initial = std::chrono::milliseconds(1);
  o.retry_max = std::chrono::milliseconds(5);
  return o;
}

Result<void> run(const pipeline::Options& o, FakeSink::Shared& shared, const std::string& state,
                 pipeline::Stats* stats_out = nullptr) {
  auto store = checkpoint::CheckpointStore::open(state);
  REQUIRE(store);
  pipeline::Pipeline p(o, std::make_unique<FakeSink>(shared), std::move(*store));
  auto r = p.run_oneshot();
  if (stats_out) {
    stats_out->records_sent = p.stats().records_sent.load();
    stats_out->peak_in_flight_bytes = p.stats().peak_in_flight_bytes.load();
    stats_out->sink_retries = p.stats().sink_retries.load();
  }
  return r;
}

}  // namespace

TEST_CASE("pipeline: every record delivered in order; a rerun ships nothing", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 3u);
  TempDir dir;
  write_file(dir.path + "/a.log", cri_lines(500));
  write_file(dir.path + "/b.log", cri_lines(300));
  FakeSink::Shared shared;
  REQUIRE(run(options(dir.path + "/*.log"), shared, dir.path + "/state"));
  REQUIRE(shared.records.size() == 800);
  CHECK(shared.records[0] ==
        "{\"ts\":\"2026-11-26T23:08:04.000000001Z\",\"stream\":\"stdout\",\"log\":{\"i\":0,\"pad\":\"" +
            std::string(40, 'p') + "\"}}");
  CHECK(shared.records[499].find("{\"i\":499,") != std::string::npos);
  CHECK(shared.records[500].find("{\"i\":0,") != std::string::npos);

  FakeSink::Shared again;
  REQUIRE(run(options(dir.path + "/*.log"), again, dir.path + "/state"));
  CHECK(again.records.empty());

  // Appended lines are shipped from the checkpoint on.
  write_file(dir.path + "/a.log", cri_lines(2), true);
  FakeSink::Shared third;
  REQUIRE(run(options(dir.path + "/*.log"), third, dir.path + "/state"));
  REQUIRE(third.records.size() == 2);
}

TEST_CASE("pipeline: retryable failures are retried until delivered", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 3u);
  TempDir dir;
  write_file(dir.path + "/a.log", cri_lines(100));
  FakeSink::Shared shared;
  shared.fail_first = 3;
  pipeline::Stats stats;
  REQUIRE(run(options(dir.path + "/*.log"), shared, dir.path + "/state", &stats));
  CHECK(shared.records.size() == 100);
  CHECK(stats.sink_retries.load() == 3);
}

TEST_CASE("pipeline: a fatal failure fails the run and commits nothing after it", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 3u);
  TempDir dir;
  write_file(dir.path + "/a.log", cri_lines(100));
  FakeSink::Shared shared;
  shared.fail_first = 1;
  shared.fail_status = DeliveryStatus::kFatal;
  auto r = run(options(dir.path + "/*.log"), shared, dir.path + "/state");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("injected failure") != std::string::npos);

  // The first batch failed, so nothing may be committed: a rerun ships all.
  FakeSink::Shared again;
  REQUIRE(run(options(dir.path + "/*.log"), again, dir.path + "/state"));
  CHECK(again.records.size() == 100);
}

TEST_CASE("pipeline: retries give up after max attempts in oneshot", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 3u);
  TempDir dir;
  write_file(dir.path + "/a.log", cri_lines(10));
  FakeSink::Shared shared;
  shared.fail_first = 1000;
  auto o = options(dir.path + "/*.log");
  o.max_attempts = 3;
  REQUIRE_FALSE(run(o, shared, dir.path + "/state"));
  CHECK(shared.sends.load() == 3);
}

TEST_CASE("pipeline: in-flight bytes stay under the memory limit with a slow sink", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 3u);
  TempDir dir;
  write_file(dir.path + "/a.log", cri_lines(5000, 100));
  FakeSink::Shared shared;
  shared.delay = std::chrono::milliseconds(1);
  auto o = options(dir.path + "/*.log");
  o.memory_limit = 400 << 10;  // the reader's chunk plus a few batches
  pipeline::Stats stats;
  REQUIRE(run(o, shared, dir.path + "/state", &stats));
  CHECK(shared.records.size() == 5000);
  CHECK(stats.peak_in_flight_bytes.load() > 0);
  CHECK(stats.peak_in_flight_bytes.load() <= o.memory_limit);
}

TEST_CASE("pipeline: unreadable input fails the run but ships the rest", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 3u);
  TempDir dir;
  write_file(dir.path + "/a.log", cri_lines(3));
  write_file(dir.path + "/b.log", cri_lines(3));
  REQUIRE(::chmod((dir.path + "/b.log").c_str(), 0) == 0);
  if (::access((dir.path + "/b.log").c_str(), R_OK) == 0) {
    SUCCEED("running as a user that ignores file modes (root): nothing to check");
    return;
  }
  FakeSink::Shared shared;
  REQUIRE_FALSE(run(options(dir.path + "/*.log"), shared, dir.path + "/state"));
  CHECK(shared.records.size() == 3);
}

namespace {

bool wait_until(const std::function<bool()>& cond, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

size_t delivered(FakeSink::Shared& s) {
  std::lock_guard lock(s.mu);
  return s.records.size();
}

pipeline::Options follow_options(const std::string& glob) {
  auto o = options(glob);
  o.max_attempts = 0;
  o.batch_timeout = std::chrono::milliseconds(10);
  o.rescan_interval = std::chrono::milliseconds(20);
  // Long enough that the test's own append to the renamed file (below)
  // lands before the wait ends even on a loaded machine: lines written
  // after rotate_wait are not read, by design (as Fluent Bit's rotate_wait).
  o.rotate_wait = std::chrono::milliseconds(500);
  o.shutdown_timeout = std::chrono::milliseconds(2000);
  return o;
}

}  // namespace

TEST_CASE("pipeline: follow mode ships appends and rotations, drains on stop", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 3u);
  TempDir dir;
  const std::string log = dir.path + "/a.log";
  write_file(log, cri_lines(10));
  FakeSink::Shared shared;
  auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
  REQUIRE(store);
  pipeline::Pipeline p(follow_options(dir.path + "/*.log"), std::make_unique<FakeSink>(shared), std::move(*store));
  Result<void> result;
  std::thread runner([&] { result = p.run_follow(); });

  CHECK(wait_until([&] { return delivered(shared) == 10; }));
  write_file(log, cri_lines(5), true);
  CHECK(wait_until([&] { return delivered(shared) == 15; }));
  // Rename rotation: the old file keeps its name elsewhere, a new one appears.
  REQUIRE(::rename(log.c_str(), (dir.path + "/a.log.1").c_str()) == 0);
  write_file(dir.path + "/a.log.1", cri_lines(2), true);
  write_file(log, cri_lines(3));
  CHECK(wait_until([&] { return delivered(shared) == 20; }));
  CHECK(wait_until([&] { return p.stats().rotations.load() == 1 && p.stats().files_open.load() == 1; }));

  p.request_stop();
  runner.join();
  CHECK(result.has_value());
  CHECK(delivered(shared) == 20);
}

TEST_CASE("pipeline: follow mode stop with a stalled sink fails at the deadline", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 3u);
  TempDir dir;
  write_file(dir.path + "/a.log", cri_lines(50));
  FakeSink::Shared shared;
  shared.fail_first = 1 << 30;  // never accepts
  auto o = follow_options(dir.path + "/*.log");
  o.shutdown_timeout = std::chrono::milliseconds(200);
  auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
  REQUIRE(store);
  pipeline::Pipeline p(o, std::make_unique<FakeSink>(shared), std::move(*store));
  Result<void> result;
  std::thread runner([&] { result = p.run_follow(); });
  CHECK(wait_until([&] { return p.stats().sink_retries.load() >= 1; }));
  p.request_stop();
  runner.join();
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message.find("shutdown timeout") != std::string::npos);
}

TEST_CASE("pipeline: many files, every record once and in per-file order, a rerun ships nothing", "[pipeline]") {
  g_workers = GENERATE(1u, 2u, 4u);
  TempDir dir;
  const int files = 7;
  for (int f = 0; f < files; ++f) {
    write_file(dir.path + "/f" + std::to_string(f) + ".log", cri_lines(1500 + 300 * f, 10 + 20 * f));
  }
  FakeSink::Shared shared;
  auto o = options(dir.path + "/*.log");
  o.batch_max_bytes = 64 << 10;
  o.memory_limit = 8 << 20;
  REQUIRE(run(o, shared, dir.path + "/state"));
  size_t expected = 0;
  for (int f = 0; f < files; ++f) expected += 1500 + 300 * f;
  REQUIRE(shared.records.size() == expected);
  // Files are read one after another in oneshot: each file's records are a
  // run with "i" counting up from 0.
  size_t at = 0;
  for (int f = 0; f < files; ++f) {
    for (int i = 0; i < 1500 + 300 * f; ++i, ++at) {
      if (shared.records[at].find("{\"i\":" + std::to_string(i) + ",") == std::string::npos) {
        FAIL("record " << at << " is not i=" << i << " of file " << f << ": " << shared.records[at]);
      }
    }
  }
  FakeSink::Shared again;
  REQUIRE(run(o, again, dir.path + "/state"));
  CHECK(again.records.empty());
}
