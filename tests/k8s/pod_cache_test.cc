#include "agent/k8s/pod_cache.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

namespace logship::k8s {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

PodMeta pod(std::string ns, std::string name, std::string uid = "uid-1", std::string version = "1") {
  PodMeta p;
  p.namespace_name = std::move(ns);
  p.name = std::move(name);
  p.uid = std::move(uid);
  p.node = "node-1";
  p.images = {{"app", "app:" + version}};
  p.releases = {{"app", version}};
  return p;
}

}  // namespace

TEST_CASE("upsert, find and generation", "[k8s]") {
  PodCache cache;
  CHECK(cache.find("shop", "web-1") == nullptr);
  CHECK(cache.generation() == 0);

  cache.upsert(pod("shop", "web-1"));
  const uint64_t g1 = cache.generation();
  CHECK(g1 > 0);
  auto first = cache.find("shop", "web-1");
  REQUIRE(first);
  CHECK(first->release_for("app") == "1");
  CHECK(cache.find("shop", "web-2") == nullptr);
  CHECK(cache.find("other", "web-1") == nullptr);
  CHECK(cache.size() == 1);

  // The same metadata again (a status-only MODIFIED): no change at all.
  cache.upsert(pod("shop", "web-1"));
  CHECK(cache.generation() == g1);
  CHECK(cache.find("shop", "web-1") == first);

  cache.upsert(pod("shop", "web-1", "uid-1", "2"));
  CHECK(cache.generation() > g1);
  auto second = cache.find("shop", "web-1");
  REQUIRE(second);
  CHECK(second->release_for("app") == "2");
  // What a reader holds stays valid and unchanged.
  CHECK(first->release_for("app") == "1");
}

TEST_CASE("deleted pods stay findable for the TTL", "[k8s]") {
  PodCache cache(150ms);
  cache.upsert(pod("shop", "web-1"));
  cache.upsert(pod("shop", "web-2"));
  const uint64_t g = cache.generation();

  SECTION("then disappear") {
    cache.mark_deleted("shop", "web-1");
    CHECK(cache.generation() > g);
    CHECK(cache.find("shop", "web-1") != nullptr);
    CHECK(cache.size() == 1);
    std::this_thread::sleep_for(200ms);
    CHECK(cache.find("shop", "web-1") == nullptr);
    CHECK(cache.wait_for("shop", "web-1", Clock::now()) == nullptr);
    CHECK(cache.find("shop", "web-2") != nullptr);
    // Deleting again or deleting the unknown changes nothing.
    const uint64_t g2 = cache.generation();
    cache.mark_deleted("shop", "web-3");
    CHECK(cache.generation() >= g2);
  }
  SECTION("a delete for another uid leaves a newer pod of the same name alone") {
    cache.mark_deleted("shop", "web-1", "uid-old");
    CHECK(cache.generation() == g);
    std::this_thread::sleep_for(200ms);
    CHECK(cache.find("shop", "web-1") != nullptr);
  }
  SECTION("a pod recreated under the same name comes back") {
    cache.mark_deleted("shop", "web-1", "uid-1");
    cache.upsert(pod("shop", "web-1", "uid-2"));
    std::this_thread::sleep_for(200ms);
    auto p = cache.find("shop", "web-1");
    REQUIRE(p);
    CHECK(p->uid == "uid-2");
    CHECK(cache.size() == 2);
  }
}

TEST_CASE("replace_all after a relist", "[k8s]") {
  PodCache cache(150ms);
  cache.upsert(pod("shop", "kept"));
  cache.upsert(pod("shop", "changed"));
  cache.upsert(pod("shop", "gone"));
  auto kept = cache.find("shop", "kept");
  const uint64_t g = cache.generation();

  cache.replace_all({pod("shop", "kept"), pod("shop", "changed", "uid-1", "2"), pod("shop", "new")});
  CHECK(cache.generation() > g);
  CHECK(cache.find("shop", "kept") == kept);  // unchanged pods keep their pointer
  CHECK(cache.find("shop", "changed")->release_for("app") == "2");
  CHECK(cache.find("shop", "new") != nullptr);
  // Deleted while the watch was down: kept for the TTL like any deleted pod.
  CHECK(cache.find("shop", "gone") != nullptr);
  CHECK(cache.size() == 3);
  std::this_thread::sleep_for(200ms);
  CHECK(cache.find("shop", "gone") == nullptr);

  // The same list again is no change.
  const uint64_t g2 = cache.generation();
  cache.replace_all({pod("shop", "kept"), pod("shop", "changed", "uid-1", "2"), pod("shop", "new")});
  CHECK(cache.generation() == g2 + 1);  // only the purge of the expired entry
  const uint64_t g3 = cache.generation();
  cache.replace_all({pod("shop", "kept"), pod("shop", "changed", "uid-1", "2"), pod("shop", "new")});
  CHECK(cache.generation() == g3);
}

TEST_CASE("wait_for blocks until the pod arrives, the deadline or close()", "[k8s]") {
  PodCache cache;
  SECTION("present: returns at once") {
    cache.upsert(pod("shop", "web-1"));
    CHECK(cache.wait_for("shop", "web-1", Clock::now() + 10s) != nullptr);
  }
  SECTION("arrives later") {
    std::thread writer([&] {
      std::this_thread::sleep_for(50ms);
      cache.upsert(pod("shop", "other"));  // wakes the waiter, which sleeps on
      std::this_thread::sleep_for(50ms);
      cache.upsert(pod("shop", "web-1"));
    });
    const auto t0 = Clock::now();
    auto p = cache.wait_for("shop", "web-1", t0 + 10s);
    const auto waited = Clock::now() - t0;
    writer.join();
    REQUIRE(p);
    CHECK(p->name == "web-1");
    CHECK(waited >= 90ms);
    CHECK(waited < 5s);
  }
  SECTION("deadline") {
    const auto t0 = Clock::now();
    CHECK(cache.wait_for("shop", "web-1", t0 + 100ms) == nullptr);
    const auto waited = Clock::now() - t0;
    CHECK(waited >= 100ms);
    CHECK(waited < 2s);
  }
  SECTION("close wakes waiters, and later waits return at once") {
    std::thread closer([&] {
      std::this_thread::sleep_for(50ms);
      cache.close();
    });
    const auto t0 = Clock::now();
    CHECK(cache.wait_for("shop", "web-1", t0 + 10s) == nullptr);
    closer.join();
    CHECK(Clock::now() - t0 < 5s);
    const auto t1 = Clock::now();
    CHECK(cache.wait_for("shop", "web-1", t1 + 10s) == nullptr);
    CHECK(Clock::now() - t1 < 1s);
    cache.upsert(pod("shop", "web-1"));
    CHECK(cache.find("shop", "web-1") != nullptr);  // find keeps working
  }
}

TEST_CASE("concurrent readers and a writer", "[k8s]") {
  PodCache cache(10ms);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> hits{0};
  std::atomic<int> readers_with_hits{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      bool counted = false;
      uint64_t n = 0;
      while (!done.load()) {
        if (auto p = cache.wait_for("shop", "web-" + std::to_string(n++ % 10), Clock::now() + 1ms)) {
          // A published PodMeta is immutable: reading it races with nothing.
          if (!p->release_for("app").empty()) {
            hits.fetch_add(1);
            if (!counted) readers_with_hits.fetch_add(1);
            counted = true;
          }
        }
      }
    });
  }
  // The writer keeps mutating until every reader has read a published pod
  // while writes were going on (bounded by a deadline), so the test does not
  // depend on the readers being scheduled before a fixed number of writes.
  const auto deadline = Clock::now() + 10s;
  for (int i = 0; i < 2000 || (readers_with_hits.load() < 3 && Clock::now() < deadline); ++i) {
    const std::string name = "web-" + std::to_string(i % 10);
    cache.upsert(pod("shop", name, "uid", std::to_string(i)));
    if (i % 7 == 0) cache.mark_deleted("shop", name);
    if (i % 100 == 0) cache.replace_all({pod("shop", "web-1"), pod("shop", "web-2")});
  }
  done = true;
  for (auto& t : readers) t.join();
  CHECK(readers_with_hits.load() == 3);
  CHECK(hits.load() > 0);
}

}  // namespace logship::k8s
