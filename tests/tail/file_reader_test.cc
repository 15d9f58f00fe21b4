#include "agent/tail/file_reader.h"

#include <catch2/catch.hpp>

#include "tests/fakes/collecting_handler.h"
#include "tests/fakes/temp_dir.h"

using namespace logship;
using testing::CollectingHandler;
using testing::TempDir;
using testing::write_file;

namespace {

/// Reads the whole file through a raw framer.
CollectingHandler read_all(const std::string& path, size_t chunk, size_t max_line, uint64_t start = 0,
                           uint64_t* consumed = nullptr) {
  tail::FileReader reader(chunk, max_line);
  REQUIRE(reader.open(path));
  reader.seek(start);
  auto framer = framing::make_framer(framing::Format::kRaw, 1 << 20);
  CollectingHandler h;
  for (;;) {
    auto n = reader.read_some(*framer, h);
    REQUIRE(n);
    if (*n == 0) break;
  }
  if (consumed) *consumed = reader.consumed();
  reader.finish(*framer, h);
  return h;
}

}  // namespace

TEST_CASE("reader: lines across chunk boundaries, final line at finish", "[tail]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "line number " + std::to_string(i) + "\n";
  text += "no newline";
  write_file(dir.path + "/a.log", text);
  uint64_t consumed = 0;
  auto h = read_all(dir.path + "/a.log", 64, 1024, 0, &consumed);
  REQUIRE(h.frames.size() == 1001);
  CHECK(h.frames[0].payload == "line number 0");
  CHECK(h.frames[999].payload == "line number 999");
  CHECK(h.frames[1000].payload == "no newline");
  // Before finish, the unterminated line is not consumed.
  CHECK(consumed == text.size() - 10);
  CHECK(h.frames[999].commit_offset == text.size() - 10);
}

TEST_CASE("reader: resumes at an offset", "[tail]") {
  TempDir dir;
  write_file(dir.path + "/a.log", "aaa\nbbb\nccc\n");
  auto h = read_all(dir.path + "/a.log", 64, 1024, 4);
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0].payload == "bbb");
  CHECK(h.frames[1].commit_offset == 12);
}

TEST_CASE("reader: an over-long line is cut, skipped, and the file goes on", "[tail]") {
  TempDir dir;
  const std::string big(10000, 'x');
  write_file(dir.path + "/a.log", "before\n" + big + "\nafter\n");
  auto h = read_all(dir.path + "/a.log", 256, 1024);
  REQUIRE(h.frames.size() == 3);
  CHECK(h.frames[0].payload == "before");
  CHECK(h.frames[1].truncated);
  CHECK(h.frames[1].payload == std::string(1024, 'x'));
  // The cut record's checkpoint stays at its line start.
  CHECK(h.frames[1].commit_offset == 7);
  CHECK(h.frames[2].payload == "after");
  CHECK(h.frames[2].commit_offset == 7 + big.size() + 1 + 6);
}

TEST_CASE("reader: lines longer than a chunk but under the limit stay whole", "[tail]") {
  TempDir dir;
  const std::string big(5000, 'y');
  write_file(dir.path + "/a.log", big + "\nz\n");
  auto h = read_all(dir.path + "/a.log", 256, 8192);
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0].payload == big);
  CHECK_FALSE(h.frames[0].truncated);
}

TEST_CASE("reader: missing file is an error with errno", "[tail]") {
  tail::FileReader reader(64, 64);
  auto r = reader.open("/nonexistent/logship/file.log");
  REQUIRE_FALSE(r);
  CHECK(r.error().sys_errno == ENOENT);
}
