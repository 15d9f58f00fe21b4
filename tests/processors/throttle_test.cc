#include "agent/processors/throttle.h"

#include <algorithm>

#include <catch2/catch.hpp>

#include "tests/processors/test_support.h"

using namespace logship;
using namespace logship::processors;
using namespace std::chrono_literals;
using logship::processors::testing::Collect;
using logship::processors::testing::make_record;
using logship::processors::testing::Padded;

namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  SteadyClockFn fn() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("token bucket: burst, refill, drops counted", "[processors][throttle]") {
  FakeClock clock;
  ProcessorStats stats;
  Throttle t({.rate = 10, .burst = 0}, clock.fn(), stats);  // burst defaults to 20
  SourceInfo source;
  source.namespace_name = "shop";
  Collect out;
  const Padded line("hello");
  uint64_t offset = 0;
  for (int i = 0; i < 25; ++i) t.process(make_record(line, PayloadKind::kText, &source, offset += 6), out);
  CHECK(out.out.size() == 20);
  CHECK(stats.dropped_throttled.load() == 5);
  CHECK(t.deadline() == clock.now + 10s);

  // Half a second later five tokens are back.
  clock.now += 500ms;
  for (int i = 0; i < 6; ++i) t.process(make_record(line, PayloadKind::kText, &source, offset += 6), out);
  CHECK(out.out.size() == 25);
  CHECK(stats.dropped_throttled.load() == 6);
  CHECK(stats.throttle_summaries.load() == 0);  // < 10 s since the first drop
}

TEST_CASE("throttled summary every 10 s while dropping, and at end of file", "[processors][throttle]") {
  FakeClock clock;
  ProcessorStats stats;
  Throttle t({.rate = 1, .burst = 1}, clock.fn(), stats);
  SourceInfo source;
  Collect out;
  const Padded line("x");
  const auto send = [&](uint64_t offset) {
    t.process(make_record(line, PayloadKind::kText, &source, offset), out);
  };
  send(1);  // passes (the bucket starts full)
  send(2);  // dropped
  send(3);  // dropped
  REQUIRE(out.out.size() == 1);
  // The source goes quiet: the deadline passes, the pipeline flushes.
  t.flush(FlushReason::kTimeout, out);  // too early: nothing
  CHECK(out.out.size() == 1);
  clock.now += 10s;
  t.flush(FlushReason::kTimeout, out);
  REQUIRE(out.out.size() == 2);
  const auto& summary = out.out[1];
  CHECK(summary.payload == R"({"logship":"throttled","dropped":2})");
  CHECK(summary.kind == PayloadKind::kJsonObject);
  CHECK(summary.source == &source);  // the encoder adds this container's k8s metadata
  CHECK(summary.commit_offset == 3);
  CHECK(summary.ts == "2026-12-01T07:00:00Z");
  CHECK_FALSE(t.deadline());

  // Steady overload for 25 s at 5 records/s: a summary at least every 10 s.
  for (int i = 0; i < 125; ++i) {
    clock.now += 200ms;
    send(100 + static_cast<uint64_t>(i));
  }
  const auto summaries = std::count_if(out.out.begin(), out.out.end(), [](const auto& e) {
    return e.payload.starts_with(R"({"logship":"throttled")");
  });
  CHECK(summaries >= 3);  // the first window plus one at least every 10 s of the 25
  // Offsets never go backwards (the delivery tracker relies on it).
  for (size_t i = 1; i < out.out.size(); ++i) CHECK(out.out[i].commit_offset >= out.out[i - 1].commit_offset);

  // End of file: what is left is reported once.
  send(1000);
  send(1001);
  const size_t before = out.out.size();
  t.flush(FlushReason::kEndOfFile, out);
  REQUIRE(out.out.size() == before + 1);
  CHECK(out.out.back().payload.starts_with(R"({"logship":"throttled","dropped":)"));
  t.flush(FlushReason::kShutdown, out);
  CHECK(out.out.size() == before + 1);
  uint64_t reported = 0;
  for (const auto& e : out.out) {
    if (e.payload.starts_with(R"({"logship":"throttled","dropped":)")) {
      reported += std::stoull(e.payload.substr(std::string_view(R"({"logship":"throttled","dropped":)").size()));
    }
  }
  CHECK(reported == stats.dropped_throttled.load());
}

TEST_CASE("logship.io/rate-limit overrides per pod", "[processors][throttle]") {
  FakeClock clock;
  ProcessorStats stats;
  SourceInfo source;
  source.annotations = std::make_shared<AnnotationMap>(AnnotationMap{{"logship.io/rate-limit", "2"}});
  ThrottleFactory factory({.rate = 0, .burst = 0}, true, clock.fn(), stats);
  auto t = factory.create(source);
  REQUIRE(t);
  Collect out;
  const Padded line("x");
  for (int i = 0; i < 10; ++i) t->process(make_record(line, PayloadKind::kText, &source), out);
  CHECK(out.out.size() == 4);  // burst 2 x 2

  source.annotations = std::make_shared<AnnotationMap>(AnnotationMap{{"logship.io/rate-limit", "off"}});
  for (int i = 0; i < 10; ++i) t->process(make_record(line, PayloadKind::kText, &source), out);
  CHECK(out.out.size() == 14);

  source.annotations = std::make_shared<AnnotationMap>(AnnotationMap{{"logship.io/rate-limit", "fast"}});
  t->process(make_record(line, PayloadKind::kText, &source), out);
  CHECK(stats.annotation_errors.load() == 1);

  // No global rate and no API: no processor at all.
  CHECK_FALSE(ThrottleFactory({.rate = 0, .burst = 0}, false, clock.fn(), stats).create(source));
}

TEST_CASE("a container writing 100x the others leaves their records alone", "[processors][throttle]") {
  FakeClock clock;
  ProcessorStats stats;
  ThrottleFactory factory({.rate = 100, .burst = 0}, false, clock.fn(), stats);
  SourceInfo noisy, quiet;
  auto t_noisy = factory.create(noisy);
  auto t_quiet = factory.create(quiet);
  Collect out_noisy, out_quiet;
  const Padded line("x");
  // 10 s: the noisy container writes 10,000 records/s, the quiet one 100/s.
  for (int ms = 0; ms < 10'000; ++ms) {
    clock.now += std::chrono::milliseconds(1);
    for (int k = 0; k < 10; ++k) t_noisy->process(make_record(line, PayloadKind::kText, &noisy), out_noisy);
    if (ms % 10 == 0) t_quiet->process(make_record(line, PayloadKind::kText, &quiet), out_quiet);
  }
  CHECK(out_quiet.out.size() == 1000);  // every record of the quiet one
  // The noisy one gets its rate (plus the initial burst) and summaries.
  const auto passed = std::count_if(out_noisy.out.begin(), out_noisy.out.end(),
                                    [](const auto& e) { return e.payload == "x"; });
  CHECK(passed >= 1000);
  CHECK(passed <= 1000 + 200 + 1);
  CHECK(stats.dropped_throttled.load() == 100'000 - static_cast<uint64_t>(passed));
}
