#include "parsers/framing/cri_prefix.h"

#include <catch2/catch.hpp>

using logship::framing::CriPrefix;
using logship::framing::parse_cri_prefix;

TEST_CASE("CRI prefix: full and partial lines", "[framing]") {
  CriPrefix p;
  REQUIRE(parse_cri_prefix("2026-11-26T23:08:04.123456789Z stdout F hello world", p));
  CHECK(p.ts == "2026-11-26T23:08:04.123456789Z");
  CHECK(p.stream == "stdout");
  CHECK_FALSE(p.partial);
  CHECK(p.payload == "hello world");

  REQUIRE(parse_cri_prefix("2026-11-26T23:08:04.1+10:00 stderr P {\"a\":1}", p));
  CHECK(p.ts == "2026-11-26T23:08:04.1+10:00");
  CHECK(p.stream == "stderr");
  CHECK(p.partial);
  CHECK(p.payload == "{\"a\":1}");
}

TEST_CASE("CRI prefix: empty payloads, extra tags, spaces kept", "[framing]") {
  CriPrefix p;
  REQUIRE(parse_cri_prefix("2026-11-26T23:08:04Z stdout F ", p));
  CHECK(p.payload.empty());
  REQUIRE(parse_cri_prefix("2026-11-26T23:08:04Z stdout F", p));
  CHECK(p.payload.empty());
  REQUIRE(parse_cri_prefix("2026-11-26T23:08:04Z stdout F:x:y  two spaces", p));
  CHECK_FALSE(p.partial);
  CHECK(p.payload == " two spaces");
}

TEST_CASE("CRI prefix: malformed lines are rejected", "[framing]") {
  CriPrefix p;
  CHECK_FALSE(parse_cri_prefix("", p));
  CHECK_FALSE(parse_cri_prefix("plain text line", p));
  CHECK_FALSE(parse_cri_prefix("2026-11-26T23:08:04Z stdin F x", p));
  CHECK_FALSE(parse_cri_prefix(" stdout F x", p));
  CHECK_FALSE(parse_cri_prefix("2026\"11 stdout F x", p));
  CHECK_FALSE(parse_cri_prefix("{\"log\":\"x\\n\",\"stream\":\"stdout\"}", p));
  // Text that happens to have a stream word second is not CRI: no year first.
  CHECK_FALSE(parse_cri_prefix("ERROR stdout is closed", p));
  CHECK_FALSE(parse_cri_prefix("2026-11-26T23:08:04Z stdout", p));
}

TEST_CASE("CRI prefix: legacy lines without a P/F tag (kubelet < 1.10)", "[framing]") {
  CriPrefix p;
  REQUIRE(parse_cri_prefix("2016-10-06T00:17:09.669794202Z stdout The content of the log entry 1", p));
  CHECK(p.legacy);
  CHECK_FALSE(p.partial);
  CHECK(p.stream == "stdout");
  CHECK(p.payload == "The content of the log entry 1");
  REQUIRE(parse_cri_prefix("2016-10-06T00:17:09.669794202Z stderr FF x", p));
  CHECK(p.legacy);
  CHECK(p.payload == "FF x");
  REQUIRE(parse_cri_prefix("2016-10-06T00:17:09.669794202Z stderr X", p));
  CHECK(p.payload == "X");
  REQUIRE(parse_cri_prefix("2016-10-06T00:17:09.669794202Z stdout ", p));
  CHECK(p.legacy);
  CHECK(p.payload.empty());
  REQUIRE(parse_cri_prefix("2026-11-26T23:08:04Z stdout F x", p));
  CHECK_FALSE(p.legacy);
}
