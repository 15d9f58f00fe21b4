#include "agent/checkpoint/checkpoint_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace logship::checkpoint;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/logship-cp-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("checkpoint store: put, flush, reload", "[checkpoint]") {
  TempDir dir;
  const std::string log = dir.path + "/a.log";
  write_file(log, "line one\nline two\n");
  const int fd = ::open(log.c_str(), O_RDONLY);
  auto id = identify(fd);
  REQUIRE(id);
  CHECK(id->fingerprint_len == 18);
  {
    auto store = CheckpointStore::open(dir.path + "/state");
    REQUIRE(store);
    (*store)->put(Checkpoint{log, *id, 9});
    REQUIRE((*store)->flush());
  }
  auto store = CheckpointStore::open(dir.path + "/state");
  REQUIRE(store);
  auto cp = (*store)->find(id->dev, id->ino);
  REQUIRE(cp);
  CHECK(cp->offset == 9);
  CHECK(cp->path == log);
  CHECK(cp->identity == *id);
  CHECK(resume_offset(*cp, fd, *id, 18) == 9);
  ::close(fd);
}

TEST_CASE("checkpoint store: growth keeps the offset; rewrite or truncation restarts", "[checkpoint]") {
  TempDir dir;
  const std::string log = dir.path + "/a.log";
  write_file(log, "first\n");
  int fd = ::open(log.c_str(), O_RDONLY);
  auto id = identify(fd);
  REQUIRE(id);
  Checkpoint cp{log, *id, 6};
  ::close(fd);

  std::ofstream(log, std::ios::app) << "second\n";
  fd = ::open(log.c_str(), O_RDONLY);
  auto grown = identify(fd);
  REQUIRE(grown);
  CHECK(resume_offset(cp, fd, *grown, 13) == 6);
  ::close(fd);

  // Same inode, different first bytes: a reused inode or a rewrite.
  write_file(log, "other\nsecond\n");
  fd = ::open(log.c_str(), O_RDONLY);
  auto changed = identify(fd);
  REQUIRE(changed);
  CHECK(resume_offset(cp, fd, *changed, 13) == 0);
  // Shorter than the offset: copytruncate.
  CHECK(resume_offset(Checkpoint{log, *changed, 100}, fd, *changed, 13) == 0);
  // Another inode.
  logship::FileIdentity other = *changed;
  other.ino += 1;
  CHECK(resume_offset(cp, fd, other, 13) == 0);
  ::close(fd);
}

TEST_CASE("checkpoint store: the state directory is locked", "[checkpoint]") {
  TempDir dir;
  auto first = CheckpointStore::open(dir.path);
  REQUIRE(first);
  auto second = CheckpointStore::open(dir.path);
  REQUIRE_FALSE(second);
  CHECK(second.error().message.find("in use by another logship") != std::string::npos);
}

TEST_CASE("checkpoint store: corrupt file is an error, erase prunes", "[checkpoint]") {
  TempDir dir;
  write_file(dir.path + "/checkpoints.json", "{not json");
  auto bad = CheckpointStore::open(dir.path);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("checkpoints.json") != std::string::npos);

  fs::remove(dir.path + "/checkpoints.json");
  auto store = CheckpointStore::open(dir.path);
  REQUIRE(store);
  logship::FileIdentity id{1, 2, 3, 4};
  (*store)->put(Checkpoint{"x", id, 5});
  REQUIRE((*store)->flush());
  (*store)->erase(1, 2);
  REQUIRE((*store)->flush());
  CHECK_FALSE((*store)->find(1, 2));
  CHECK((*store)->all().empty());
  CHECK_FALSE(fs::exists(dir.path + "/checkpoints.json.tmp"));
}
