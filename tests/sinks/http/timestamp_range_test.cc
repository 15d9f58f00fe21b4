// Record times outside what int64 nanoseconds can hold (1677-09-21 ..
// 2262-04-11) must be rejected, not wrapped: before the fix
// 9999-12-31T23:59:59.5Z became Elasticsearch index logs-1816.03.30 and a
// negative Loki time (UBSan: signed overflow).
#include <cstdint>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "sinks/http/formats.h"
#include "tests/fakes/structured_batch.h"

using namespace logship;
using namespace logship::sinks::http;

TEST_CASE("rfc3339_to_unix_nanos rejects times outside the int64 nanosecond range") {
  CHECK_FALSE(rfc3339_to_unix_nanos("9999-12-31T23:59:59.5Z"));
  CHECK_FALSE(rfc3339_to_unix_nanos("0000-01-01T00:00:00Z"));
  CHECK_FALSE(rfc3339_to_unix_nanos("1600-01-01T00:00:00Z"));
  CHECK_FALSE(rfc3339_to_unix_nanos("2262-04-11T23:47:16.854775808Z"));
  CHECK_FALSE(rfc3339_to_unix_nanos("1677-09-21T00:12:43.145224191Z"));
  // The offset can push an in-range wall time out of range.
  CHECK_FALSE(rfc3339_to_unix_nanos("2262-04-11T23:47:16.854775807-00:01"));
}

TEST_CASE("rfc3339_to_unix_nanos keeps the extremes that fit") {
  CHECK(rfc3339_to_unix_nanos("2262-04-11T23:47:16.854775807Z") == std::numeric_limits<int64_t>::max());
  CHECK(rfc3339_to_unix_nanos("1677-09-21T00:12:43.145224192Z") == std::numeric_limits<int64_t>::min());
  CHECK(rfc3339_to_unix_nanos("2262-04-11T00:00:00Z") == int64_t{9223286400} * 1000000000);
}

TEST_CASE("an out-of-range record time is replaced by the encoding time and counted") {
  Batch b = testing::structured_batch(
      {R"({"ts":"9999-12-31T23:59:59.5Z","stream":"stdout","k8s":{"namespace":"shop"},"log":"x"})",
       R"({"ts":"2026-11-26T13:08:04Z","stream":"stdout","k8s":{"namespace":"shop"},"log":"y"})"});
  const uint64_t before = timestamps_replaced_total();
  Encoder e(HttpFormat::kElasticsearch, "logs-%Y.%m.%d");
  std::string out;
  REQUIRE(e.encode(b, RecordSelection::range(0, 2), out));
  CHECK(out.find("logs-1816") == std::string::npos);
  CHECK(out.find("logs-2026.11.26") != std::string::npos);
  CHECK(timestamps_replaced_total() - before == 1);

  Encoder loki(HttpFormat::kLoki, "");
  REQUIRE(loki.encode(b, RecordSelection::range(0, 1), out));
  CHECK(out.find("[\"-") == std::string::npos);  // no negative nanosecond time
  CHECK(timestamps_replaced_total() - before == 2);
}
