#include "agent/core/process_memory.h"

#include <catch2/catch.hpp>

namespace logship {

TEST_CASE("statm: the resident field", "[core]") {
  CHECK(parse_statm_resident_pages("5000 1234 300 100 0 900 0\n") == 1234u);
  CHECK_FALSE(parse_statm_resident_pages(""));
  CHECK_FALSE(parse_statm_resident_pages("5000"));
  CHECK_FALSE(parse_statm_resident_pages("5000 x 1"));
}

TEST_CASE("resident_bytes of this process is plausible", "[core]") {
  const auto rss = resident_bytes();
  REQUIRE(rss);
  CHECK(*rss > 100u * 1024);        // a running test binary holds more than 100 KiB
  CHECK(*rss < 64ull << 30);        // and less than this machine's memory
}

}  // namespace logship
