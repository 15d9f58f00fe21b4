#include "sinks/http/adaptive_concurrency.h"

#include <catch2/catch.hpp>

using namespace logship::sinks::http;
using namespace std::chrono_literals;

namespace {

/// Feeds `n` responses of `latency` with the limit fully used; returns the
/// clock after them.
AdaptiveConcurrency::Clock::time_point feed(AdaptiveConcurrency& a, int n, std::chrono::nanoseconds latency,
                                            AdaptiveConcurrency::Clock::time_point t) {
  for (int i = 0; i < n; ++i) {
    t += latency;
    a.on_response(latency, a.limit(), t);
  }
  return t;
}

}  // namespace

TEST_CASE("AIMD: grows while latency is flat and the limit is used", "[http][aimd]") {
  AdaptiveConcurrency a(1, 32, 1);
  auto t = AdaptiveConcurrency::Clock::time_point{};
  CHECK(a.limit() == 1);
  t = feed(a, 100, 20ms, t);
  const uint32_t grown = a.limit();
  CHECK(grown > 8);  // additive: ~sqrt(2n)
  t = feed(a, 5000, 20ms, t);
  CHECK(a.limit() == 32);  // never past the maximum
}

TEST_CASE("AIMD: an idle sink does not creep up", "[http][aimd]") {
  AdaptiveConcurrency a(1, 32, 4);
  auto t = AdaptiveConcurrency::Clock::time_point{};
  for (int i = 0; i < 1000; ++i) {
    t += 10ms;
    a.on_response(10ms, 1, t);  // one request in flight at a time
  }
  CHECK(a.limit() == 4);
}

TEST_CASE("AIMD: halves on overload, once per round trip, never below the minimum", "[http][aimd]") {
  AdaptiveConcurrency a(1, 64, 1);
  auto t = feed(a, 2000, 50ms, AdaptiveConcurrency::Clock::time_point{});
  const uint32_t before = a.limit();
  REQUIRE(before >= 16);
  a.on_overload(t);
  CHECK(a.limit() == before / 2);
  // More 429s from requests already in flight: no further cut right away.
  a.on_overload(t + 1ms);
  a.on_overload(t + 20ms);
  CHECK(a.limit() == before / 2);
  // A round trip later it counts again.
  a.on_overload(t + 200ms);
  CHECK(a.limit() == before / 4);
  for (int i = 0; i < 50; ++i) a.on_overload(t + std::chrono::seconds(1 + i));
  CHECK(a.limit() == 1);
}

TEST_CASE("AIMD: rising latency shrinks the limit", "[http][aimd]") {
  AdaptiveConcurrency a(1, 64, 1);
  auto t = feed(a, 2000, 20ms, AdaptiveConcurrency::Clock::time_point{});
  const uint32_t before = a.limit();
  REQUIRE(before > 10);
  // The endpoint starts queueing: latency jumps 5x.
  t = feed(a, 10, 100ms, t);
  CHECK(a.recent_latency() > 2 * a.baseline_latency());
  CHECK(a.limit() < before);
}

TEST_CASE("AIMD: loopback noise below 5 ms is not a latency rise", "[http][aimd]") {
  AdaptiveConcurrency a(1, 16, 1);
  auto t = feed(a, 300, 100us, AdaptiveConcurrency::Clock::time_point{});
  t = feed(a, 20, 2ms, t);  // 20x, but tiny
  CHECK(a.limit() == 16);
}
