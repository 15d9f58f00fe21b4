#include "agent/pipeline/encode_pool.h"

#include <algorithm>
#include <cstring>

#include "parsers/json/payload_parser.h"

namespace logship::pipeline {
namespace {

/// Per-record output beyond the input bytes: keys, quotes, the record's
/// structure (RecordFields) and the chunk's own bookkeeping.
constexpr size_t kRecordOverhead = 96 + sizeof(RecordFields) + sizeof(Chunk::Item);

}  // namespace

uint32_t Chunk::append(std::string_view bytes) {
  const auto at = static_cast<uint32_t>(arena_.size());
  arena_.append(bytes);
  return at;
}

void Chunk::add_record(const EncodeContextPtr& context, const Record& record, const FilePosition* position) {
  // Consecutive records mostly come from one source: one context entry per run.
  if (contexts_.empty() || contexts_.back() != context) contexts_.push_back(context);
  Item& it = items_.emplace_back();
  it.kind = Kind::kRecord;
  it.truncated = record.truncated;
  it.partial = record.partial;
  it.context = static_cast<uint32_t>(contexts_.size() - 1);
  it.commit_offset = record.commit_offset;
  it.ts = append(record.ts);
  it.ts_len = static_cast<uint32_t>(record.ts.size());
  it.stream = append(record.stream);
  it.stream_len = static_cast<uint32_t>(record.stream.size());
  it.attrs = append(record.attrs);
  it.attrs_len = static_cast<uint32_t>(record.attrs.size());
  it.payload = append(record.payload);
  it.payload_len = static_cast<uint32_t>(record.payload.size());
  if (position != nullptr) {
    it.has_position = true;
    it.position = *position;
  }
  estimate_ += record.ts.size() + record.stream.size() + 2 * record.attrs.size() + 2 * record.payload.size() +
               context->context.k8s_member.size() + context->context.release_member.size() + kRecordOverhead;
}

void Chunk::close() {
  // The parser reads up to kPadding bytes past a payload: the bytes after
  // each payload are the next record's, and after the last one these.
  arena_.append(json::kPadding, ' ');
}

void Chunk::add_event(Kind kind, const FilePosition* position) {
  Item& it = items_.emplace_back();
  it.kind = kind;
  if (position != nullptr) it.position = *position;
  estimate_ += sizeof(Item);
}

Record Chunk::record(const Item& item) const {
  const std::string_view a(arena_);
  Record r;
  r.ts = a.substr(item.ts, item.ts_len);
  r.stream = a.substr(item.stream, item.stream_len);
  r.attrs = a.substr(item.attrs, item.attrs_len);
  r.payload = a.substr(item.payload, item.payload_len);
  r.truncated = item.truncated;
  r.partial = item.partial;
  r.commit_offset = item.commit_offset;
  r.source = &contexts_[item.context]->info;
  return r;
}

void Chunk::reset() {
  // Buffers keep their capacity for the next chunk, unless one huge record
  // made them grow far past the usual size: that memory goes back.
  constexpr size_t kKeep = 2 * kChunkTarget;
  if (arena_.capacity() > kKeep) {
    std::string().swap(arena_);
  } else {
    arena_.clear();
  }
  if (items_.capacity() * sizeof(Item) > kKeep) {
    std::vector<Item>().swap(items_);
  } else {
    items_.clear();
  }
  if (piece.memory_bytes() > 2 * kKeep) {
    piece = Batch();
  } else {
    piece.reset();
  }
  contexts_.clear();
  estimate_ = 0;
  seq_ = 0;
}

EncodePool::EncodePool(size_t threads, size_t max_chunks, EncodeFn encode, DeliverFn deliver,
                       std::function<void()> heartbeat)
    : encode_(std::move(encode)),
      deliver_(std::move(deliver)),
      heartbeat_(std::move(heartbeat)),
      max_chunks_(std::max<size_t>(max_chunks, 1)),
      max_bytes_(std::max<size_t>(max_chunks, 1) * kChunkTarget) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this, i] { run(i); });
}

EncodePool::~EncodePool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  // The threads finish the queue first: nothing submitted is lost.
  for (auto& t : threads_) t.join();
}

size_t EncodePool::reserve_bytes(size_t max_chunks, size_t max_record_bytes) {
  // Every chunk (in flight, being filled, or free) keeps up to 2*kChunkTarget
  // of input and as much of encoded output; one chunk holding a record of
  // the maximum size may be in flight (input and output) and another being
  // filled.
  return (max_chunks + 1) * 4 * kChunkTarget + 3 * max_record_bytes;
}

ChunkPtr EncodePool::new_chunk() {
  std::lock_guard lock(mu_);
  if (free_.empty()) return std::make_unique<Chunk>();
  ChunkPtr c = std::move(free_.back());
  free_.pop_back();
  return c;
}

void EncodePool::submit(ChunkPtr chunk) {
  chunk->close();
  const size_t bytes = chunk->estimate();
  std::unique_lock lock(mu_);
  // With nothing in flight a chunk always goes, so one chunk larger than
  // the bound (a record of the maximum size) cannot deadlock.
  for (;;) {
    const bool room = in_flight_ == 0 || (in_flight_ < max_chunks_ && in_flight_bytes_ + bytes <= max_bytes_);
    if (room) break;
    // The encoders are behind: rather than wait, the caller encodes the
    // oldest queued chunk itself (its encoder is the last one), so with two
    // workers both cores encode when reading is the cheaper part.
    if (!queue_.empty()) {
      ChunkPtr next = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      encode_(threads_.size(), *next);
      lock.lock();
      encoded(std::move(next), lock);
      continue;
    }
    space_cv_.wait_for(lock, std::chrono::milliseconds(500));
    if (heartbeat_) {
      lock.unlock();
      heartbeat_();  // waiting for the encoders is backpressure, not a hang
      lock.lock();
    }
  }
  chunk->seq_ = next_seq_++;
  ++in_flight_;
  in_flight_bytes_ += bytes;
  queue_.push_back(std::move(chunk));
  lock.unlock();
  work_cv_.notify_one();
}

void EncodePool::drain() {
  std::unique_lock lock(mu_);
  while (in_flight_ > 0) {
    space_cv_.wait_for(lock, std::chrono::milliseconds(500));
    if (heartbeat_) {
      lock.unlock();
      heartbeat_();
      lock.lock();
    }
  }
}

void EncodePool::run(size_t thread) {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left
    ChunkPtr chunk = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    encode_(thread, *chunk);
    lock.lock();
    encoded(std::move(chunk), lock);
  }
}

void EncodePool::encoded(ChunkPtr chunk, std::unique_lock<std::mutex>& lock) {
  const uint64_t seq = chunk->seq_;
  encoded_.emplace(seq, std::move(chunk));
  // One deliverer at a time: if another thread is delivering, it finds this
  // chunk when its turn comes (it looks again under the lock before giving
  // the role up).
  if (delivering_) return;
  delivering_ = true;
  while (!encoded_.empty() && encoded_.begin()->first == next_deliver_) {
    ChunkPtr next = std::move(encoded_.begin()->second);
    encoded_.erase(encoded_.begin());
    lock.unlock();
    const size_t bytes = next->estimate();
    deliver_(*next);
    next->reset();
    lock.lock();
    free_.push_back(std::move(next));
    ++next_deliver_;
    --in_flight_;
    in_flight_bytes_ -= bytes;
    space_cv_.notify_all();
  }
  delivering_ = false;
}

}  // namespace logship::pipeline
