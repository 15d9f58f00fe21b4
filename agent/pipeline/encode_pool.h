#pragma once
// Parallel encoding with LOGSHIP_WORKERS > 1 (agent/README.md, "Threads").
//
// The worker thread still reads, frames and runs the processors (they hold
// per-source state), but instead of encoding each record it copies it into
// a Chunk, in order, together with the events that must stay in order with
// the records: positions, batch-age ticks, the final seal. Full chunks (about
// kChunkTarget bytes of expected output, or whatever is there at each
// on_tick) get a sequence number and go to the pool:
//
//   worker:          Chunk::add_* ... -> EncodePool::submit (blocks when full)
//   encoder threads: encode(thread, chunk)  any order, concurrently: the
//                    expensive simdjson part, into the chunk's own `piece`
//                    deliver(chunk)          strictly in sequence order, one
//                    chunk at a time: whichever thread finishes the next
//                    chunk in line delivers it and any already-encoded
//                    chunks after it (pipeline.cc: into the Batcher)
//   worker, when the pool is full: encodes the oldest queued chunk itself
//                    (and may deliver) instead of waiting, so no core idles
//                    while encoding is the slower side
//
// So a position reaches the batcher only after every record before it, and
// per-file order and checkpoints keep their meaning.
//
// Ownership: the pool owns every chunk from submit() until it is delivered,
// then recycles it. A chunk holds shared_ptrs to the per-source contexts its
// records refer to, so a source may close while its records are still being
// encoded. The encode and deliver callbacks must outlive the pool.
//
// Memory: at most `max_chunks` chunks (and about `max_chunks * kChunkTarget`
// bytes) are in flight; submit() blocks beyond that, so the worker stops
// reading (the files are the buffer). reserve_bytes() is what the pipeline
// takes out of LOGSHIP_MEMORY_LIMIT for them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/record.h"
#include "agent/enrich/record_encoder.h"

namespace logship::pipeline {

/// What the encoder needs of a source, frozen: a new one is made whenever
/// the source's pod metadata changes, so encoder threads never see a
/// context being modified.
struct EncodeContext {
  SourceInfo info;                ///< for the tap
  enrich::SourceContext context;  ///< for the encoder
};
using EncodeContextPtr = std::shared_ptr<const EncodeContext>;

/// Expected output bytes at which the worker closes a chunk.
inline constexpr size_t kChunkTarget = 128 << 10;

class Chunk {
 public:
  enum class Kind : uint8_t { kRecord, kPosition, kTick, kSeal };
  struct Item {
    Kind kind = Kind::kRecord;
    bool truncated = false;
    bool partial = false;
    bool has_position = false;  ///< a record that moves its file's position
    uint32_t context = 0;       ///< index into contexts()
    // Record parts: offsets into arena().
    uint32_t ts = 0, ts_len = 0, stream = 0, stream_len = 0, attrs = 0, attrs_len = 0;
    uint32_t payload = 0, payload_len = 0;
    uint64_t commit_offset = 0;
    FilePosition position;  ///< kPosition, or a record's when has_position
  };

  /// Copies `record` (the payload's json::kPadding readable bytes after it
  /// are the next record's copy, or those close() adds).
  void add_record(const EncodeContextPtr& context, const Record& record, const FilePosition* position);
  void add_position(const FilePosition& position) { add_event(Kind::kPosition, &position); }
  void add_tick() { add_event(Kind::kTick, nullptr); }
  void add_seal() { add_event(Kind::kSeal, nullptr); }

  [[nodiscard]] bool empty() const { return items_.empty(); }
  [[nodiscard]] bool full() const { return estimate_ >= kChunkTarget; }
  /// Expected output bytes (input plus per-record enrichment).
  [[nodiscard]] size_t estimate() const { return estimate_; }
  [[nodiscard]] uint64_t seq() const { return seq_; }
  [[nodiscard]] const std::vector<Item>& items() const { return items_; }
  [[nodiscard]] const EncodeContext& context(const Item& item) const { return *contexts_[item.context]; }
  /// The record an item holds, viewing the arena (valid while the chunk is).
  [[nodiscard]] Record record(const Item& item) const;

  /// The encoded records, in item order (the encoder fills it; deliver reads it).
  Batch piece;

 private:
  friend class EncodePool;
  void add_event(Kind kind, const FilePosition* position);
  void close();  // before encoding: padding after the last payload
  uint32_t append(std::string_view bytes);
  void reset();  // for reuse; gives back buffers that grew far past the target

  std::vector<Item> items_;
  std::string arena_;
  std::vector<EncodeContextPtr> contexts_;
  size_t estimate_ = 0;
  uint64_t seq_ = 0;
};
using ChunkPtr = std::unique_ptr<Chunk>;

class EncodePool {
 public:
  /// Runs on an encoder thread (`thread` in [0, threads)), or on the
  /// submitting thread while the pool is full (`thread` == threads),
  /// concurrently with other chunks' encodes. Fills chunk.piece.
  using EncodeFn = std::function<void(size_t thread, Chunk& chunk)>;
  /// Runs in sequence order, never concurrently with itself (on whichever
  /// thread encoded the chunk whose turn came; the submitter included).
  using DeliverFn = std::function<void(Chunk& chunk)>;

  EncodePool(size_t threads, size_t max_chunks, EncodeFn encode, DeliverFn deliver,
             std::function<void()> heartbeat = {});
  /// Delivers everything submitted, then joins the threads.
  ~EncodePool();
  EncodePool(const EncodePool&) = delete;
  EncodePool& operator=(const EncodePool&) = delete;

  /// An empty chunk to fill (recycled). Worker thread.
  [[nodiscard]] ChunkPtr new_chunk();
  /// Queues a chunk for encoding. While the pool is full it encodes queued
  /// chunks itself, or waits (calling the heartbeat). Worker thread.
  void submit(ChunkPtr chunk);
  /// Waits until every submitted chunk is delivered. Worker thread.
  void drain();

  /// Bytes of memory the chunks may hold at once (inputs and encoded pieces,
  /// the worker's chunk being filled included), for the memory budget.
  [[nodiscard]] static size_t reserve_bytes(size_t max_chunks, size_t max_record_bytes);

 private:
  void run(size_t thread);
  /// Files an encoded chunk and, unless another thread is delivering,
  /// delivers every chunk whose turn has come. `lock` holds mu_.
  void encoded(ChunkPtr chunk, std::unique_lock<std::mutex>& lock);

  EncodeFn encode_;
  DeliverFn deliver_;
  std::function<void()> heartbeat_;
  const size_t max_chunks_;
  const size_t max_bytes_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // chunks queued, or stopping
  std::condition_variable space_cv_;  // a chunk delivered
  std::deque<ChunkPtr> queue_;
  std::map<uint64_t, ChunkPtr> encoded_;  // waiting for their turn, by seq
  std::vector<ChunkPtr> free_;
  uint64_t next_seq_ = 0;      // given to the next submitted chunk
  uint64_t next_deliver_ = 0;  // the chunk whose turn it is
  size_t in_flight_ = 0;       // submitted, not yet delivered
  size_t in_flight_bytes_ = 0;
  bool delivering_ = false;    // some thread is delivering (the others leave it theirs)
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace logship::pipeline
