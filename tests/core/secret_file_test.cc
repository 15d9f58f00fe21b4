// Tests for agent/core/secret_file: one rule for every secret file.

#include "agent/core/secret_file.h"

#include <catch2/catch.hpp>

#include <fstream>

#include "tests/fakes/temp_dir.h"

using namespace logship;

namespace {
std::string write(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
  return path;
}
}  // namespace

TEST_CASE("secret files: trailing line breaks go, everything else stays", "[core]") {
  testing::TempDir dir;
  CHECK(*read_secret_file(write(dir.path + "/a", "s3cret\n")) == "s3cret");
  CHECK(*read_secret_file(write(dir.path + "/b", "s3cret\r\n")) == "s3cret");
  CHECK(*read_secret_file(write(dir.path + "/c", "s3cret\n\n")) == "s3cret");
  CHECK(*read_secret_file(write(dir.path + "/d", " pass word \n")) == " pass word ");
  CHECK(*read_secret_file(write(dir.path + "/e", "line1\nline2")) == "line1\nline2");
  CHECK(read_secret_file(write(dir.path + "/f", ""))->empty());
}

TEST_CASE("secret files: errors name the path, never the content", "[core]") {
  testing::TempDir dir;
  auto missing = read_secret_file(dir.path + "/nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find(dir.path + "/nope") != std::string::npos);
  auto big = read_secret_file(write(dir.path + "/big", std::string(kMaxSecretFileBytes + 1, 'x')));
  REQUIRE_FALSE(big);
  CHECK(big.error().message.find("larger than 1 MiB") != std::string::npos);
  CHECK(big.error().message.find("xxxx") == std::string::npos);
}
