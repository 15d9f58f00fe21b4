#include "agent/tail/discovery.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/fakes/temp_dir.h"

using namespace logship;
using testing::TempDir;
using testing::write_file;

TEST_CASE("discovery: globs in order, symlinked files once, dangling links skipped", "[tail]") {
  TempDir dir;
  std::filesystem::create_directories(dir.path + "/pods/ns_p_uid/c");
  std::filesystem::create_directories(dir.path + "/containers");
  write_file(dir.path + "/pods/ns_p_uid/c/0.log", "x\n");
  write_file(dir.path + "/b.log", "b\n");
  write_file(dir.path + "/a.log", "a\n");
  REQUIRE(::symlink((dir.path + "/pods/ns_p_uid/c/0.log").c_str(), (dir.path + "/containers/p_ns_c.log").c_str()) == 0);
  REQUIRE(::symlink("/nonexistent", (dir.path + "/containers/dangling.log").c_str()) == 0);
  std::filesystem::create_directories(dir.path + "/dir.log");

  auto files = tail::discover({dir.path + "/containers/*.log", dir.path + "/pods/*/*/*.log", dir.path + "/*.log"});
  REQUIRE(files);
  REQUIRE(files->size() == 3);
  CHECK((*files)[0].path == dir.path + "/containers/p_ns_c.log");
  CHECK((*files)[1].path == dir.path + "/a.log");
  CHECK((*files)[2].path == dir.path + "/b.log");
  CHECK((*files)[1].size == 2);

  auto none = tail::discover({dir.path + "/nothing/*.log"});
  REQUIRE(none);
  CHECK(none->empty());
}
