#include "agent/checkpoint/checkpoint_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

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

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const char* kOldFile =  // as written before "size" existed
    "{\"version\":1,\"files\":[\n{\"path\":\"/var/log/a.log\",\"dev\":1,\"ino\":2,"
    "\"fingerprint\":\"00000000000000ff\",\"fingerprint_len\":10,\"offset\":7}\n]}\n";

}  // namespace

TEST_CASE("checkpoint store: unknown or missing version is rejected with a way out", "[checkpoint]") {
  TempDir dir;
  const std::string file = dir.path + "/checkpoints.json";
  for (const char* text : {"{\"version\":2,\"files\":[]}", "{\"version\":0,\"files\":[]}",
                           "{\"version\":\"1\",\"files\":[]}", "{\"files\":[]}"}) {
    write_file(file, text);
    auto store = CheckpointStore::open(dir.path);
    REQUIRE_FALSE(store);
    CHECK(store.error().message.find(file) != std::string::npos);
    CHECK(store.error().message.find("--reset-checkpoints") != std::string::npos);
  }
  write_file(file, "{\"version\":2,\"files\":[]}");
  CHECK(CheckpointStore::open(dir.path).error().message.find("version 2 is not supported") != std::string::npos);
}

TEST_CASE("checkpoint store: the last seen size is stored; files without it still load", "[checkpoint]") {
  TempDir dir;
  write_file(dir.path + "/checkpoints.json", kOldFile);
  {
    auto store = CheckpointStore::open(dir.path);
    REQUIRE(store);
    auto cp = (*store)->find(1, 2);
    REQUIRE(cp);
    CHECK(cp->offset == 7);
    CHECK(cp->size == 0);  // unknown
    CHECK(cp->identity.fingerprint == 0xff);
    Checkpoint next = *cp;
    next.size = 4096;
    (*store)->put(next);
    REQUIRE((*store)->flush());
    // A size change alone is worth writing.
    next.size = 8192;
    (*store)->put(next);
    REQUIRE((*store)->flush());
  }
  CHECK(read_all(dir.path + "/checkpoints.json").find("\"size\":8192") != std::string::npos);
  auto store = CheckpointStore::open(dir.path);
  REQUIRE(store);
  CHECK((*store)->find(1, 2)->size == 8192);

  write_file(dir.path + "/checkpoints.json",
             "{\"version\":1,\"files\":[{\"path\":\"a\",\"dev\":1,\"ino\":2,\"fingerprint\":\"0\","
             "\"fingerprint_len\":0,\"offset\":7,\"size\":\"big\"}]}");
  store = CheckpointStore::open(dir.path);
  CHECK_FALSE(store);
}

TEST_CASE("checkpoint store: reset moves the file aside and starts empty", "[checkpoint]") {
  TempDir dir;
  const std::string file = dir.path + "/checkpoints.json";
  write_file(file, "{corrupt");
  auto store = CheckpointStore::open(dir.path, /*reset=*/true);
  REQUIRE(store);
  CHECK((*store)->all().empty());
  const std::string moved = (*store)->reset_to();
  CHECK(moved.starts_with(file + ".reset-"));
  CHECK(read_all(moved) == "{corrupt");
  CHECK_FALSE(fs::exists(file));
  store = {};  // release the lock

  // A second reset in the same second keeps the first moved file.
  write_file(file, kOldFile);
  auto again = CheckpointStore::open(dir.path, true);
  REQUIRE(again);
  CHECK((*again)->reset_to() != moved);
  CHECK(read_all(moved) == "{corrupt");
  CHECK(read_all((*again)->reset_to()) == kOldFile);
  again = {};

  // Nothing to move: fine, and nothing reported.
  auto empty = CheckpointStore::open(dir.path, true);
  REQUIRE(empty);
  CHECK((*empty)->reset_to().empty());
}

TEST_CASE("checkpoint store: a directory where checkpoints cannot be written fails at open", "[checkpoint]") {
  TempDir dir;
  {
    auto store = CheckpointStore::open(dir.path);  // creates the lock file
    REQUIRE(store);
  }
  // Works for root too (which ignores permission bits): the temp file's
  // name is taken by a directory, so it cannot be created.
  fs::create_directory(dir.path + "/checkpoints.json.tmp");
  auto store = CheckpointStore::open(dir.path);
  REQUIRE_FALSE(store);
  CHECK(store.error().message.find("cannot write checkpoints") != std::string::npos);
  CHECK(store.error().message.find(dir.path) != std::string::npos);
  fs::remove(dir.path + "/checkpoints.json.tmp");

  if (::geteuid() != 0) {  // permission bits only bind non-root users
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    auto ro = CheckpointStore::open(dir.path);
    fs::permissions(dir.path, fs::perms::owner_all);
    REQUIRE_FALSE(ro);
    CHECK(ro.error().message.find("Permission denied") != std::string::npos);
  }
}
