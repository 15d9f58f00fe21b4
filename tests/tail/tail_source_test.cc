// The tail source on its own: a temp dir, a fake output and a fake clock for
// the rotate wait. Rotation by rename, copytruncate, deletion while open,
// and a rotation that happened while logship was down.
#include "agent/tail/tail_source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/fakes/temp_dir.h"

using namespace logship;
using testing::TempDir;
using testing::write_file;

namespace {

using Clock = std::chrono::steady_clock;

std::string cri(const std::string& msg) { return "2026-11-26T23:08:04.000000001Z stdout F " + msg + "\n"; }

/// Collects what the source hands over. Thread-safe: the test reads while
/// the source runs on its own thread.
class FakeOutput final : public SourceOutput {
 public:
  struct Closed {
    uint32_t id;
    FilePosition position;
  };
  void on_source_opened(uint32_t id, const std::string& path, bool) override {
    std::lock_guard lock(mu_);
    paths_[id] = path;
  }
  void on_record(uint32_t, Record& r) override {
    std::lock_guard lock(mu_);
    records_.emplace_back(r.payload);
  }
  void on_position(const FilePosition& p) override {
    std::lock_guard lock(mu_);
    positions_.push_back(p);
  }
  void on_source_closed(uint32_t id, const FilePosition& p) override {
    std::lock_guard lock(mu_);
    closed_.push_back(Closed{id, p});
  }
  void on_tick() override {}
  Clock::time_point next_deadline() const override { return Clock::time_point::max(); }
  bool should_stop() const override { return stop.load(); }

  std::vector<std::string> records() {
    std::lock_guard lock(mu_);
    return records_;
  }
  std::vector<Closed> closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }
  FilePosition last_position(uint32_t id) {
    std::lock_guard lock(mu_);
    FilePosition out;
    for (const auto& p : positions_) {
      if (p.file_id == id) out = p;
    }
    return out;
  }
  std::atomic<bool> stop{false};

 private:
  std::mutex mu_;
  std::map<uint32_t, std::string> paths_;
  std::vector<std::string> records_;
  std::vector<FilePosition> positions_;
  std::vector<Closed> closed_;
};

template <typename Pred>
bool eventually(Pred pred) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

struct Follow {
  Follow(const std::string& dir, checkpoint::CheckpointStore& store, Stats& stats) {
    tail::Options o;
    o.input_paths = {dir + "/*.log"};
    o.follow = true;
    o.rescan_interval = std::chrono::milliseconds(50);
    o.rotate_wait = std::chrono::hours(1);  // only the fake clock lets it pass
    o.clock = [this] { return Clock::time_point(std::chrono::milliseconds(fake_ms.load())); };
    source = std::make_unique<tail::TailSource>(std::move(o), store, stats);
    thread = std::thread([this] { result = source->run(out); });
  }
  ~Follow() {
    out.stop = true;
    source->wake();
    thread.join();
  }
  std::atomic<int64_t> fake_ms{1'000'000};
  FakeOutput out;
  std::unique_ptr<tail::TailSource> source;
  Result<void> result;
  std::thread thread;
};

}  // namespace

TEST_CASE("tail source: rename rotation reads late writes, then the new file; closes after the rotate wait",
          "[tail]") {
  TempDir dir;
  auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
  REQUIRE(store);
  Stats stats;
  write_file(dir.path + "/a.log", cri("one") + cri("two"));
  Follow f(dir.path, **store, stats);
  REQUIRE(eventually([&] { return f.out.records().size() == 2; }));
  REQUIRE(std::rename((dir.path + "/a.log").c_str(), (dir.path + "/a.log.1").c_str()) == 0);
  write_file(dir.path + "/a.log.1", cri("late"), /*append=*/true);  // the writer had it open
  write_file(dir.path + "/a.log", cri("new"));
  REQUIRE(eventually([&] { return f.out.records().size() == 4; }));
  const auto recs = f.out.records();
  CHECK(std::count(recs.begin(), recs.end(), "late") == 1);
  CHECK(std::count(recs.begin(), recs.end(), "new") == 1);
  CHECK(stats.rotations.load() == 1);
  // Still open for late writes until the rotate wait passes on the fake clock.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(f.out.closed().empty());
  f.fake_ms += 3'600'001;
  REQUIRE(eventually([&] { return f.out.closed().size() == 1; }));
  CHECK_FALSE(f.out.closed()[0].position.prune);  // renamed, not deleted: kept until it is gone
}

TEST_CASE("tail source: copytruncate is read again from the start", "[tail]") {
  TempDir dir;
  auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
  REQUIRE(store);
  Stats stats;
  write_file(dir.path + "/a.log", cri("first-1") + cri("first-2") + cri("first-3"));
  Follow f(dir.path, **store, stats);
  REQUIRE(eventually([&] { return f.out.records().size() == 3; }));
  write_file(dir.path + "/a.log", cri("after"));  // truncate + shorter content
  REQUIRE(eventually([&] { return f.out.records().size() == 4; }));
  CHECK(f.out.records()[3] == "after");
  CHECK(stats.truncations.load() == 1);
}

TEST_CASE("tail source: a file deleted while open is read to its end, closed and pruned", "[tail]") {
  TempDir dir;
  auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
  REQUIRE(store);
  Stats stats;
  write_file(dir.path + "/a.log", cri("x") + cri("y"));
  Follow f(dir.path, **store, stats);
  REQUIRE(eventually([&] { return f.out.records().size() == 2; }));
  REQUIRE(::unlink((dir.path + "/a.log").c_str()) == 0);
  REQUIRE(eventually([&] { return stats.rotations.load() == 1; }));
  f.fake_ms += 3'600'001;
  REQUIRE(eventually([&] { return f.out.closed().size() == 1; }));
  CHECK(f.out.closed()[0].position.prune);
  CHECK(f.out.closed()[0].position.offset == cri("x").size() + cri("y").size());
}

TEST_CASE("tail source: a file renamed while logship was down is found by inode and read to its end",
          "[tail]") {
  TempDir dir;
  const std::string line1 = cri("a1"), line2 = cri("a2");
  write_file(dir.path + "/0.log", line1);
  {
    auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
    REQUIRE(store);
    Stats stats;
    tail::Options o;
    o.input_paths = {dir.path + "/*.log"};
    tail::TailSource src(o, **store, stats);
    FakeOutput out;
    REQUIRE(src.run(out));
    REQUIRE(out.records().size() == 1);
    const FilePosition pos = out.last_position(0);
    REQUIRE(src.commit(std::span<const FilePosition>(&pos, 1)));
  }
  // Down: the writer adds a line, kubelet rotates, the new file gets one.
  write_file(dir.path + "/0.log", line2, /*append=*/true);
  REQUIRE(std::rename((dir.path + "/0.log").c_str(), (dir.path + "/0.log.20261201-000000").c_str()) == 0);
  write_file(dir.path + "/0.log", cri("b1"));
  auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
  REQUIRE(store);
  Stats stats;
  tail::Options o;
  o.input_paths = {dir.path + "/*.log"};
  tail::TailSource src(o, **store, stats);
  FakeOutput out;
  REQUIRE(src.run(out));
  const auto recs = out.records();
  CHECK(std::count(recs.begin(), recs.end(), "a2") == 1);  // the rotated tail
  CHECK(std::count(recs.begin(), recs.end(), "b1") == 1);
  CHECK(std::count(recs.begin(), recs.end(), "a1") == 0);  // already delivered
  // The rotated file, read to its end, is pruned once that is delivered.
  bool pruned = false;
  for (const auto& c : out.closed()) pruned = pruned || c.position.prune;
  CHECK(pruned);
  CHECK(stats.files_lost.load() == 0);
}

TEST_CASE("tail source: a checkpointed file deleted while logship was down is counted lost and pruned",
          "[tail]") {
  TempDir dir;
  write_file(dir.path + "/0.log", cri("a1"));
  {
    auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
    REQUIRE(store);
    Stats stats;
    tail::Options o;
    o.input_paths = {dir.path + "/*.log"};
    tail::TailSource src(o, **store, stats);
    FakeOutput out;
    REQUIRE(src.run(out));
    const FilePosition pos = out.last_position(0);
    REQUIRE(src.commit(std::span<const FilePosition>(&pos, 1)));
  }
  // More was written than was read, then the file went away.
  write_file(dir.path + "/0.log", cri("unread"), /*append=*/true);
  {
    auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
    REQUIRE(store);
    auto c = (*store)->all();
    REQUIRE(c.size() == 1);
    c[0].size = c[0].offset + cri("unread").size();  // what a follow run would have seen
    (*store)->put(c[0]);
    REQUIRE((*store)->flush());
  }
  REQUIRE(::unlink((dir.path + "/0.log").c_str()) == 0);
  auto store = checkpoint::CheckpointStore::open(dir.path + "/state");
  REQUIRE(store);
  Stats stats;
  tail::Options o;
  o.input_paths = {dir.path + "/*.log"};
  tail::TailSource src(o, **store, stats);
  FakeOutput out;
  REQUIRE(src.run(out));
  CHECK(stats.files_lost.load() == 1);
  CHECK(stats.checkpoints_pruned.load() == 1);
  CHECK((*store)->all().empty());
}
