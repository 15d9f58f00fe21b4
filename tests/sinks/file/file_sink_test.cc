#include "sinks/file/file_sink.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "tests/fakes/temp_dir.h"

using namespace logship;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

namespace {

/// Collects delivery reports.
class Listener final : public DeliveryListener {
 public:
  void on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) override {
    std::lock_guard lock(mu);
    statuses.push_back(status);
    errors.emplace_back(error);
    seqs.push_back(batch->seq);
    cv.notify_all();
  }
  void wait_for(size_t n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return statuses.size() >= n; });
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<DeliveryStatus> statuses;
  std::vector<std::string> errors;
  std::vector<uint64_t> seqs;
};

BatchPtr batch(uint64_t seq, const std::vector<std::string>& records) {
  auto b = std::make_unique<Batch>();
  b->seq = seq;
  for (const auto& r : records) {
    b->data() += r;
    b->end_record();
  }
  return b;
}

}  // namespace

TEST_CASE("file sink: appends batches in order and acknowledges each", "[sinks]") {
  TempDir dir;
  const std::string path = dir.path + "/out.ndjson";
  write_file(path, "{\"earlier\":1}\n");
  Listener l;
  auto sink = sinks::FileSink::to_file(path);
  REQUIRE(sink->start(l));
  for (uint64_t i = 0; i < 20; ++i) sink->send(batch(i, {"{\"n\":" + std::to_string(i) + "}"}));
  sink->send(batch(20, {}));  // positions only: still acknowledged, in order
  sink->stop();
  REQUIRE(l.statuses.size() == 21);
  for (size_t i = 0; i < 21; ++i) {
    CHECK(l.statuses[i] == DeliveryStatus::kOk);
    CHECK(l.seqs[i] == i);
  }
  std::string expected = "{\"earlier\":1}\n";
  for (int i = 0; i < 20; ++i) expected += "{\"n\":" + std::to_string(i) + "}\n";
  CHECK(read_file(path) == expected);
}

TEST_CASE("file sink: a torn last record from a crash is removed at start", "[sinks]") {
  TempDir dir;
  const std::string path = dir.path + "/out.ndjson";
  write_file(path, "{\"a\":1}\n{\"b\":");
  Listener l;
  auto sink = sinks::FileSink::to_file(path);
  REQUIRE(sink->start(l));
  sink->send(batch(0, {"{\"b\":2}"}));
  sink->stop();
  CHECK(read_file(path) == "{\"a\":1}\n{\"b\":2}\n");
}

TEST_CASE("file sink: a full device is a retryable error naming the cause", "[sinks]") {
  Listener l;
  auto sink = sinks::FileSink::to_file("/dev/full");
  REQUIRE(sink->start(l));
  sink->send(batch(0, {"{}"}));
  l.wait_for(1);
  sink->stop();
  CHECK(l.statuses[0] == DeliveryStatus::kRetry);
  CHECK(l.errors[0].find("No space left on device") != std::string::npos);
}

TEST_CASE("file sink: an unusable path fails at start", "[sinks]") {
  TempDir dir;
  Listener l;
  auto sink = sinks::FileSink::to_file(dir.path);  // a directory
  auto r = sink->start(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("LOGSHIP_FILE_PATH") != std::string::npos);
}
