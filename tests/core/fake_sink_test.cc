// The test fake for the Sink interface enforces the send() contract: never
// called concurrently with itself.

#include "tests/fakes/fake_sink.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace logship;
using logship::testing::FakeSink;

namespace {
struct NullListener final : DeliveryListener {
  std::atomic<int> reports{0};
  void on_delivered(BatchPtr, DeliveryStatus, std::string_view) override { reports.fetch_add(1); }
};
}  // namespace

TEST_CASE("fake sink: sequential sends are fine, overlapping sends are caught", "[core]") {
  FakeSink::Shared shared;
  shared.abort_on_overlap = false;  // count instead of aborting, to observe the check
  shared.send_hold = std::chrono::milliseconds(20);
  NullListener listener;
  FakeSink sink(shared);
  REQUIRE(sink.start(listener));
  sink.send(std::make_unique<Batch>());
  sink.send(std::make_unique<Batch>());
  CHECK(shared.overlapping_sends.load() == 0);
  // Two threads that each send while the other's send is held open.
  std::thread a([&] {
    for (int i = 0; i < 5; ++i) sink.send(std::make_unique<Batch>());
  });
  std::thread b([&] {
    for (int i = 0; i < 5; ++i) sink.send(std::make_unique<Batch>());
  });
  a.join();
  b.join();
  CHECK(shared.overlapping_sends.load() > 0);
  sink.stop();
  CHECK(listener.reports.load() == 12);
}
