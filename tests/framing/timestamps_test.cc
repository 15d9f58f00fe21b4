#include <catch2/catch.hpp>

#include "agent/core/time_format.h"

using logship::append_rfc3339_utc;
using logship::parse_rfc3339;

namespace {
std::string utc(std::string_view ts) {
  const auto t = parse_rfc3339(ts);
  if (!t) return "invalid";
  std::string out;
  append_rfc3339_utc(out, *t);
  return out;
}
}  // namespace

TEST_CASE("RFC 3339: valid shapes normalise to UTC with 9 digits", "[framing][time]") {
  CHECK(utc("2026-11-26T23:08:04Z") == "2026-11-26T23:08:04.000000000Z");
  CHECK(utc("2026-11-26t23:08:04.5z") == "2026-11-26T23:08:04.500000000Z");
  CHECK(utc("2026-11-27T09:08:04.123456789+10:00") == "2026-11-26T23:08:04.123456789Z");
  CHECK(utc("2026-02-28T23:30:00-01:00") == "2026-03-01T00:30:00.000000000Z");
  CHECK(utc("2024-02-29T00:00:00Z") == "2024-02-29T00:00:00.000000000Z");
  CHECK(utc("2026-11-26T23:08:04.1234567891234Z") == "2026-11-26T23:08:04.123456789Z");
  // Outside the 1678-2262 span of int64 nanoseconds.
  CHECK(utc("9999-12-31T23:59:59.999999999Z") == "9999-12-31T23:59:59.999999999Z");
  CHECK(utc("1601-01-01T00:00:00Z") == "1601-01-01T00:00:00.000000000Z");
  CHECK(utc("2016-12-31T23:59:60Z") == "2016-12-31T23:59:59.000000000Z");
  const auto t = parse_rfc3339("1970-01-01T00:00:01.5Z");
  REQUIRE(t);
  CHECK(t->unix_seconds == 1);
  CHECK(t->nanos == 500000000);
}

TEST_CASE("RFC 3339: every fraction length", "[framing][time]") {
  const std::string digits = "123456789012";
  for (size_t n = 1; n <= digits.size(); ++n) {
    const auto t = parse_rfc3339("2026-11-26T23:08:04." + digits.substr(0, n) + "Z");
    INFO(n);
    REQUIRE(t);
    std::string want = digits.substr(0, n < 9 ? n : 9);
    want.append(9 - want.size(), '0');
    CHECK(t->nanos == std::stoul(want));
  }
  CHECK(parse_rfc3339("2026-11-26T23:08:04.000000000Z")->nanos == 0);
  CHECK(parse_rfc3339("2026-11-26T23:08:04.999999999+01:00")->nanos == 999999999);
  CHECK_FALSE(parse_rfc3339("2026-11-26T23:08:04.1234a678Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-26T23:08:04.12345678"));
}

TEST_CASE("RFC 3339: invalid timestamps are rejected", "[framing][time]") {
  for (const char* bad : {"", "qwerty", "2026-11-26", "2026-11-26T23:08:04", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-26T24:00:00Z",
                          "2026-11-26T23:08:04.Z", "2026-11-26T23:08:04+1000", "2026-11-26T23:08:04Zjunk",
                          "2026-11-26T23:08:04+10:60", "2026/11/26T23:08:04Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
}
