// Tests for agent/core/backoff: the one backoff helper (moved here with the
// HTTP retry policy's backoff cases).

#include "agent/core/backoff.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace logship;
using std::chrono::milliseconds;

TEST_CASE("backoff: full jitter under an exponential ceiling capped at 30 s", "[core][backoff]") {
  Backoff b(Backoff::Options{}, 42);
  for (uint32_t attempt = 1; attempt <= 40; ++attempt) {
    const int64_t ceiling = std::min<int64_t>(30000, int64_t{100} << std::min<uint32_t>(attempt - 1, 30));
    CHECK(b.ceiling(attempt).count() == ceiling);
    int64_t max_seen = 0;
    for (int i = 0; i < 200; ++i) {
      const auto d = b.delay(attempt).count();
      CHECK(d >= 0);
      CHECK(d <= ceiling);
      max_seen = std::max(max_seen, d);
    }
    // Jitter spreads over the whole range, not just near zero.
    CHECK(max_seen > ceiling / 2);
  }
}

TEST_CASE("backoff: equal jitter never goes below half the ceiling", "[core][backoff]") {
  Backoff b(Backoff::Options{.initial = milliseconds(500), .max = milliseconds(8000),
                             .jitter = Backoff::Jitter::kEqual},
            7);
  for (uint32_t attempt = 1; attempt <= 10; ++attempt) {
    const auto ceiling = b.ceiling(attempt);
    for (int i = 0; i < 100; ++i) {
      const auto d = b.delay(attempt);
      CHECK(d >= ceiling / 2);
      CHECK(d <= ceiling);
    }
  }
  CHECK(b.ceiling(100) == milliseconds(8000));
}

TEST_CASE("backoff: a server hint wins, capped", "[core][backoff]") {
  Backoff b(Backoff::Options{}, 1);
  CHECK(b.delay(1, milliseconds(2000)) == milliseconds(2000));
  CHECK(b.delay(1, std::chrono::hours(5)) == std::chrono::minutes(5));
  CHECK(b.delay(1, milliseconds(-5)) == milliseconds(0));
  CHECK(b.delay(3) <= milliseconds(400));
}

TEST_CASE("backoff: huge settings do not overflow", "[core][backoff]") {
  Backoff b(Backoff::Options{.initial = milliseconds(int64_t{1} << 40), .max = milliseconds(int64_t{1} << 50)}, 3);
  CHECK(b.ceiling(60) == milliseconds(int64_t{1} << 50));
  CHECK(b.ceiling(1) == milliseconds(int64_t{1} << 40));
}
