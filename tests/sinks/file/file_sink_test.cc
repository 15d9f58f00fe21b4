#include "sinks/file/file_sink.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

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

TEST_CASE("file sink: a full device is retried until stop, then reported kRetry naming the cause", "[sinks]") {
  Listener l;
  auto sink = sinks::FileSink::to_file("/dev/full");
  REQUIRE(sink->start(l));
  sink->send(batch(0, {"{}"}));
  sink->send(batch(1, {"{}"}));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!sink->unavailable_reason() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(sink->unavailable_reason());
  CHECK(sink->unavailable_reason()->find("No space left on device") != std::string::npos);
  CHECK(sink->redelivers_internally());
  sink->stop();  // must not hang on a device that stays full
  REQUIRE(l.statuses.size() == 2);
  CHECK(l.statuses[0] == DeliveryStatus::kRetry);
  CHECK(l.statuses[1] == DeliveryStatus::kRetry);
  CHECK(l.errors[0].find("No space left on device") != std::string::npos);
  CHECK(l.seqs == std::vector<uint64_t>{0, 1});
}

TEST_CASE("file sink: an unusable path fails at start", "[sinks]") {
  TempDir dir;
  Listener l;
  auto sink = sinks::FileSink::to_file(dir.path);  // a directory
  auto r = sink->start(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("LOGSHIP_FILE_PATH") != std::string::npos);
}

namespace {

/// A disk that can be made full: while `full`, the first writev writes only
/// `partial` bytes (a short write, as the kernel does when space runs out
/// mid-buffer) and later ones fail with ENOSPC. fdatasync can be failed too.
struct FaultyDisk {
  std::atomic<bool> full{false};
  std::atomic<size_t> partial{0};
  std::atomic<int> failed_writes{0};
  std::atomic<int> sync_failures_left{0};
  std::atomic<int> failed_syncs{0};

  sinks::FileSink::Io io() {
    sinks::FileSink::Io io;
    io.writev = [this](int fd, const iovec* iov, int cnt) -> ssize_t {
      if (full.load()) {
        const size_t p = partial.exchange(0);
        if (p > 0 && cnt > 0) {
          iovec first{iov[0].iov_base, std::min(p, iov[0].iov_len)};
          return ::writev(fd, &first, 1);
        }
        failed_writes.fetch_add(1);
        errno = ENOSPC;
        return -1;
      }
      return ::writev(fd, iov, cnt);
    };
    io.fdatasync = [this](int fd) {
      if (sync_failures_left.load() > 0) {
        sync_failures_left.fetch_sub(1);
        failed_syncs.fetch_add(1);
        errno = EIO;
        return -1;
      }
      return ::fdatasync(fd);
    };
    io.retry_min = std::chrono::milliseconds(1);
    io.retry_max = std::chrono::milliseconds(4);
    return io;
  }
};

/// Polls `pred` until it holds or 20 s pass (a deadline, not a timing assertion).
template <typename Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string rec(int i) { return "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(40, 'x') + "\"}"; }

}  // namespace

TEST_CASE("file sink: a full disk holds later batches and resumes mid-write, keeping order", "[sinks]") {
  TempDir dir;
  const std::string path = dir.path + "/out.ndjson";
  FaultyDisk disk;
  Listener l;
  auto sink = sinks::FileSink::to_file(path, disk.io());
  REQUIRE(sink->start(l));
  sink->send(batch(0, {rec(0)}));
  l.wait_for(1);
  // The disk fills in the middle of batch 1's first record.
  disk.partial = 7;
  disk.full = true;
  sink->send(batch(1, {rec(1), rec(2)}));
  REQUIRE(eventually([&] { return disk.failed_writes.load() >= 3; }));
  // Later batches arrive while batch 1 waits: none may overtake it.
  for (int i = 2; i < 10; ++i) sink->send(batch(static_cast<uint64_t>(i), {rec(i * 2 - 1), rec(i * 2)}));
  const int seen = disk.failed_writes.load();
  REQUIRE(eventually([&] { return disk.failed_writes.load() >= seen + 3; }));
  {
    std::lock_guard lock(l.mu);
    CHECK(l.statuses.size() == 1);  // nothing reported while the disk is full
  }
  CHECK(sink->unavailable_reason());
  disk.full = false;
  l.wait_for(10);
  CHECK_FALSE(sink->unavailable_reason());
  sink->stop();
  REQUIRE(l.statuses.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    CHECK(l.statuses[i] == DeliveryStatus::kOk);
    CHECK(l.seqs[i] == i);
  }
  std::string expected;
  for (int i = 0; i < 19; ++i) expected += rec(i) + "\n";
  CHECK(read_file(path) == expected);  // in order, nothing twice, no torn line
}

TEST_CASE("file sink: a failed fdatasync writes the group again without duplicating it", "[sinks]") {
  TempDir dir;
  const std::string path = dir.path + "/out.ndjson";
  FaultyDisk disk;
  disk.sync_failures_left = 2;
  Listener l;
  auto sink = sinks::FileSink::to_file(path, disk.io());
  REQUIRE(sink->start(l));
  for (int i = 0; i < 5; ++i) sink->send(batch(static_cast<uint64_t>(i), {rec(i)}));
  l.wait_for(5);
  sink->stop();
  CHECK(disk.failed_syncs.load() == 2);
  for (size_t i = 0; i < 5; ++i) {
    CHECK(l.statuses[i] == DeliveryStatus::kOk);
    CHECK(l.seqs[i] == i);
  }
  std::string expected;
  for (int i = 0; i < 5; ++i) expected += rec(i) + "\n";
  CHECK(read_file(path) == expected);
}

TEST_CASE("file sink: stop while the disk stays full reports kRetry and leaves no torn line", "[sinks]") {
  TempDir dir;
  const std::string path = dir.path + "/out.ndjson";
  write_file(path, rec(0) + "\n");
  FaultyDisk disk;
  disk.partial = 5;
  disk.full = true;
  Listener l;
  auto sink = sinks::FileSink::to_file(path, disk.io());
  REQUIRE(sink->start(l));
  sink->send(batch(1, {rec(1)}));
  sink->send(batch(2, {rec(2)}));
  REQUIRE(eventually([&] { return disk.failed_writes.load() >= 2; }));
  sink->stop();
  REQUIRE(l.statuses.size() == 2);
  CHECK(l.statuses[0] == DeliveryStatus::kRetry);
  CHECK(l.statuses[1] == DeliveryStatus::kRetry);
  CHECK(read_file(path) == rec(0) + "\n");  // the 5 partial bytes were taken back
}

TEST_CASE("file sink: with give_up_after, a disk that stays full fails the batch and every later one", "[sinks]") {
  TempDir dir;
  const std::string path = dir.path + "/out.ndjson";
  FaultyDisk disk;
  disk.full = true;
  auto io = disk.io();
  io.give_up_after = std::chrono::milliseconds(20);
  Listener l;
  auto sink = sinks::FileSink::to_file(path, io);
  REQUIRE(sink->start(l));
  sink->send(batch(0, {rec(0)}));
  l.wait_for(1);
  disk.full = false;  // too late: batch 0 was given up, so batch 1 must not be written before it
  sink->send(batch(1, {rec(1)}));
  l.wait_for(2);
  sink->stop();
  CHECK(l.statuses[0] == DeliveryStatus::kFatal);
  CHECK(l.statuses[1] == DeliveryStatus::kFatal);
  CHECK(l.errors[0].find("No space left on device") != std::string::npos);
  CHECK(read_file(path).empty());
}
