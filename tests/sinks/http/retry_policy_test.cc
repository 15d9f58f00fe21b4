#include "sinks/http/retry_policy.h"

#include <catch2/catch.hpp>

using namespace logship::sinks::http;
using std::chrono::milliseconds;

TEST_CASE("statuses map to outcomes", "[http][retry]") {
  CHECK(classify(200) == Outcome::kDelivered);
  CHECK(classify(204) == Outcome::kDelivered);
  CHECK(classify(408) == Outcome::kRetry);
  CHECK(classify(429) == Outcome::kRetry);
  CHECK(classify(500) == Outcome::kRetry);
  CHECK(classify(503) == Outcome::kRetry);
  CHECK(classify(599) == Outcome::kRetry);
  CHECK(classify(301) == Outcome::kRetry);  // redirects are not followed
  CHECK(classify(413) == Outcome::kSplit);
  CHECK(classify(400) == Outcome::kReject);
  CHECK(classify(401) == Outcome::kReject);
  CHECK(classify(404) == Outcome::kReject);
  CHECK(classify(422) == Outcome::kReject);
  CHECK(is_overload(429));
  CHECK(is_overload(503));
  CHECK_FALSE(is_overload(500));
}

TEST_CASE("Retry-After: seconds or an HTTP date", "[http][retry]") {
  // 1994-11-06T08:49:37Z
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(784111777));
  CHECK(parse_retry_after("120", now) == milliseconds(120000));
  CHECK(parse_retry_after(" 0 ", now) == milliseconds(0));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now) == milliseconds(10000));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now) == milliseconds(0));  // past
  CHECK(parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now) == milliseconds(86400000));
  for (const char* bad : {"", "-1", "1.5", "soon", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Xyz 1994 08:49:37 GMT",
                          "Sunday, 06-Nov-94 08:49:37 GMT"}) {
    INFO(bad);
    CHECK_FALSE(parse_retry_after(bad, now));
  }
}
