// The encode pool on its own: chunks encoded concurrently in any order come
// out strictly in submit order, one delivery at a time, positions after the
// records before them; the bound on chunks in flight holds the submitter.

#include "agent/pipeline/encode_pool.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace logship;
using namespace logship::pipeline;

namespace {

EncodeContextPtr context(const std::string& path) {
  auto c = std::make_shared<EncodeContext>();
  c->info.path = path;
  c->context.k8s_member = "\"k8s\":{}";
  return c;
}

/// A record viewing `text`, with the padding the chunk copies after it.
Record record_of(const std::string& text, uint64_t offset) {
  Record r;
  r.payload = text;
  r.stream = "stdout";
  r.commit_offset = offset;
  return r;
}

/// "Encodes" a chunk: each record's payload, tagged with its file, after a
/// random delay so chunks finish out of order.
void fake_encode(size_t thread, Chunk& chunk, std::atomic<uint32_t>& seed) {
  std::mt19937 rng(seed.fetch_add(1) + static_cast<uint32_t>(thread));
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % 400));
  for (const Chunk::Item& item : chunk.items()) {
    if (item.kind != Chunk::Kind::kRecord) continue;
    const Record r = chunk.record(item);
    chunk.piece.data().append(r.source->path);
    chunk.piece.data().append(":");
    chunk.piece.data().append(r.payload);
    chunk.piece.end_record();
  }
}

}  // namespace

TEST_CASE("encode pool: delivery in submit order, positions after their records", "[pipeline][pool]") {
  const size_t threads = GENERATE(1u, 3u);
  std::atomic<uint32_t> seed{1};
  std::vector<std::string> expected, got;
  std::atomic<int> delivering{0};
  std::atomic<int> overlaps{0};
  uint64_t last_seq = 0;
  bool seq_in_order = true;
  size_t delivered_chunks = 0;
  {
    EncodePool pool(
        threads, 4, [&](size_t t, Chunk& c) { fake_encode(t, c, seed); },
        [&](Chunk& c) {
          if (delivering.fetch_add(1) != 0) overlaps.fetch_add(1);
          if (delivered_chunks > 0 && c.seq() != last_seq + 1) seq_in_order = false;
          last_seq = c.seq();
          ++delivered_chunks;
          size_t next = 0;
          for (const Chunk::Item& item : c.items()) {
            if (item.kind == Chunk::Kind::kRecord) {
              got.push_back("R " + std::string(c.piece.record(next++)) + " @" +
                            (item.has_position ? std::to_string(item.position.offset) : "-"));
            } else if (item.kind == Chunk::Kind::kPosition) {
              got.push_back("P " + std::to_string(item.position.file_id) + " " + std::to_string(item.position.offset));
            } else {
              got.push_back(item.kind == Chunk::Kind::kTick ? "T" : "S");
            }
          }
          delivering.fetch_sub(1);
        });

    const EncodeContextPtr files[] = {context("a"), context("b"), context("c")};
    std::mt19937 rng(7);
    uint64_t offsets[3] = {0, 0, 0};
    ChunkPtr chunk = pool.new_chunk();
    for (int i = 0; i < 20000; ++i) {
      const size_t f = rng() % 3;
      const uint32_t roll = rng() % 100;
      if (roll < 85) {
        const std::string text = "rec" + std::to_string(i) + std::string(rng() % 300, 'x');
        offsets[f] += text.size() + 1;
        FilePosition pos{static_cast<uint32_t>(f), offsets[f], {}, false};
        chunk->add_record(files[f], record_of(text, offsets[f]), roll % 2 == 0 ? &pos : nullptr);
        expected.push_back("R " + files[f]->info.path + ":" + text + " @" +
                           (roll % 2 == 0 ? std::to_string(offsets[f]) : "-"));
      } else if (roll < 97) {
        chunk->add_position(FilePosition{static_cast<uint32_t>(f), offsets[f], {}, false});
        expected.push_back("P " + std::to_string(f) + " " + std::to_string(offsets[f]));
      } else {
        chunk->add_tick();
        expected.push_back("T");
      }
      // Full chunks, and now and then a short one (a source's tick).
      if (chunk->full() || rng() % 50 == 0) {
        pool.submit(std::move(chunk));
        chunk = pool.new_chunk();
      }
    }
    chunk->add_seal();
    expected.push_back("S");
    pool.submit(std::move(chunk));
    pool.drain();
    CHECK(got.size() == expected.size());
  }
  CHECK(overlaps.load() == 0);
  CHECK(seq_in_order);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != expected[i]) {
      FAIL_CHECK("item " << i << ": " << got[i] << " != " << expected[i]);
      break;
    }
  }
}

TEST_CASE("encode pool: the destructor delivers what was submitted", "[pipeline][pool]") {
  std::atomic<uint32_t> seed{1};
  std::atomic<size_t> records{0};
  const auto ctx = context("a");
  {
    EncodePool pool(
        2, 8, [&](size_t t, Chunk& c) { fake_encode(t, c, seed); },
        [&](Chunk& c) { records.fetch_add(c.piece.record_count()); });
    for (int i = 0; i < 50; ++i) {
      ChunkPtr chunk = pool.new_chunk();
      for (int j = 0; j < 10; ++j) chunk->add_record(ctx, record_of("r", 1), nullptr);
      pool.submit(std::move(chunk));
    }
  }
  CHECK(records.load() == 500);
}

TEST_CASE("encode pool: submit waits while the chunks in flight are at the bound", "[pipeline][pool]") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> encoding{0};
  std::atomic<int> delivered{0};
  const auto ctx = context("a");
  EncodePool pool(
      1, 2,
      [&](size_t, Chunk&) {
        encoding.fetch_add(1);
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return release; });
      },
      [&](Chunk&) { delivered.fetch_add(1); });
  auto small = [&] {
    ChunkPtr c = pool.new_chunk();
    c->add_record(ctx, record_of("r", 1), nullptr);
    return c;
  };
  pool.submit(small());
  pool.submit(small());
  std::atomic<bool> third_in{false};
  std::thread submitter([&] {
    pool.submit(small());
    third_in.store(true);
  });
  // The first chunk is being encoded and the second queued: the third waits
  // for one of them to be delivered, which cannot happen before the release.
  while (encoding.load() == 0) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(third_in.load());
  CHECK(delivered.load() == 0);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  submitter.join();
  pool.drain();
  CHECK(third_in.load());
  CHECK(delivered.load() == 3);
}

TEST_CASE("encode pool: a chunk over the byte bound goes when nothing is in flight", "[pipeline][pool]") {
  std::atomic<int> delivered{0};
  const auto ctx = context("a");
  EncodePool pool(
      1, 1, [](size_t, Chunk&) {}, [&](Chunk&) { delivered.fetch_add(1); });
  for (int i = 0; i < 3; ++i) {
    ChunkPtr c = pool.new_chunk();
    const std::string big(2 * kChunkTarget, 'x');  // one record larger than the pool's bound
    c->add_record(ctx, record_of(big, 1), nullptr);
    REQUIRE(c->full());
    pool.submit(std::move(c));
  }
  pool.drain();
  CHECK(delivered.load() == 3);
}
