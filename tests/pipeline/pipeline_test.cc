#include "agent/pipeline/pipeline.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

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

pipeline::Options options(const std::string& glob) {
  pipeline::Options o;
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
