#include "agent/pipeline/pipeline.h"

#include <algorithm>
#include <thread>
#include <unordered_map>

#include "agent/core/log.h"
#include "agent/core/process_memory.h"
#include "agent/enrich/record_encoder.h"
#include "agent/pipeline/batcher.h"
#include "agent/pipeline/delivery_tracker.h"
#include "agent/pipeline/encode_pool.h"
#include "agent/pipeline/source_state.h"
#include "agent/tail/stdin_source.h"

namespace logship::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kLog = "pipeline";

/// A payload that looks like one JSON object, for processors that treat
/// JSON and text differently; the encoder validates it for real.
PayloadKind guess_kind(std::string_view p) {
  while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.remove_prefix(1);
  while (!p.empty() && (p.back() == ' ' || p.back() == '\t' || p.back() == '\r')) p.remove_suffix(1);
  return p.size() >= 2 && p.front() == '{' && p.back() == '}' ? PayloadKind::kJsonObject : PayloadKind::kText;
}

}  // namespace

/// The pipeline's side of a running source: per-source state, processors,
/// encoding and batching. Its SourceOutput calls come from the worker
/// thread. With workers > 1 the encoding and everything after it (batcher,
/// tap, DeliveryTracker::send) run in the EncodePool's delivery step
/// instead, one chunk at a time in chunk order; the worker then touches
/// neither the batcher nor the encoders (it reads the batch deadline
/// through an atomic).
class Pipeline::Output final : public SourceOutput {
 public:
  Output(Pipeline& p, DeliveryTracker& tracker)
      : p_(p),
        tracker_(tracker),
        batcher_(tracker, p.opt_.batch_max_bytes, p.opt_.batch_timeout, p.stats_),
        encoder_(p.opt_.release),
        resolver_(p.opt_.pods, p.opt_.pods_synced, p.opt_.pod_wait) {
    if (p.opt_.workers > 1) {
      const size_t threads = p.opt_.workers - 1;
      // One encoder per encoder thread; the worker, when it helps, uses its own.
      for (size_t i = 0; i < threads; ++i) {
        encoders_.push_back(std::make_unique<enrich::RecordEncoder>(p.opt_.release));
      }
      publish_deadline();
      pool_ = std::make_unique<EncodePool>(
          threads, max_chunks(p.opt_.workers),
          [this](size_t thread, Chunk& chunk) {
            encode_chunk(thread < encoders_.size() ? *encoders_[thread] : encoder_, chunk);
          },
          [this](Chunk& chunk) { deliver_chunk(chunk); }, p.opt_.heartbeat);
      chunk_ = pool_->new_chunk();
    }
  }

  /// Chunks in flight at once: enough to keep every encoder thread busy while
  /// the worker fills the next.
  static size_t max_chunks(uint32_t workers) { return 2 * size_t{workers}; }

  void on_source_opened(uint32_t id, const std::string& path, bool recently_written) override {
    auto state = std::make_unique<State>(*this);
    resolver_.open(*state, path, recently_written);
    if (!p_.opt_.processors.empty()) {
      state->chain = std::make_unique<ProcessorChain>(p_.opt_.processors, state->info);
      if (state->chain->empty()) {
        state->chain.reset();
      } else {
        state->chain->connect(state->encode);
      }
    }
    if (pool_) state->frozen = freeze(*state);
    states_[id] = std::move(state);
    last_id_ = UINT32_MAX;
  }

  void on_record(uint32_t id, Record& record) override {
    State& s = state(id);
    if (p_.opt_.pods != nullptr && resolver_.refresh(s) && pool_) s.frozen = freeze(s);
    record.source = &s.info;
    if (!s.chain) {
      s.encode.emit(record);
      return;
    }
    record.kind = guess_kind(record.payload);
    s.chain->process(record);
  }

  void on_position(const FilePosition& position) override {
    State& s = state(position.file_id);
    s.last_position = position;
    put_position(clamped(s, position));
  }

  void on_source_closed(uint32_t id, const FilePosition& position) override {
    State& s = state(id);
    if (s.chain) s.chain->flush(FlushReason::kEndOfFile);
    put_position(position);
    // Chunks still being encoded keep the source's frozen context alive.
    states_.erase(id);
    last_id_ = UINT32_MAX;
  }

  void on_tick() override {
    if (p_.opt_.heartbeat) p_.opt_.heartbeat();
    tracker_.refresh_readiness();
    const auto now = Clock::now();
    for (auto& [id, s] : states_) {
      if (!s->chain) continue;
      if (auto d = s->chain->deadline(); d && *d <= now) {
        s->chain->flush(FlushReason::kTimeout);
        if (s->last_position) put_position(clamped(*s, *s->last_position));
      }
    }
    if (!pool_) {
      batcher_.on_tick(now);
      return;
    }
    // The batch's age is checked in the delivery step, after every record
    // queued before it; what the worker holds goes now, so follow mode's
    // latency stays bounded by the source's tick interval.
    if (!tick_pending_.load(std::memory_order_acquire) && published_deadline() <= now) {
      tick_pending_.store(true, std::memory_order_relaxed);
      chunk_->add_tick();
    }
    if (!chunk_->empty()) submit_chunk();
  }

  Clock::time_point next_deadline() const override {
    Clock::time_point d;
    if (!pool_) {
      d = batcher_.deadline();
    } else if (tick_pending_.load(std::memory_order_acquire)) {
      // The queued tick seals the batch that is due; a batch opened after it
      // is due a whole timeout later. (Not "now": a tick held up behind a
      // stalled sink must not make the source spin.)
      d = Clock::now() + p_.opt_.batch_timeout;
    } else {
      d = published_deadline();
    }
    for (const auto& [id, s] : states_) {
      if (!s->chain) continue;
      if (auto x = s->chain->deadline()) d = std::min(d, *x);
    }
    return d;
  }

  bool should_stop() const override { return p_.stop_.load(std::memory_order_relaxed) || tracker_.failed(); }

  /// The source is done (or stopping): processors give up what they hold,
  /// and the last batch goes.
  void finish() {
    for (auto& [id, s] : states_) {
      if (!s->chain) continue;
      s->chain->flush(FlushReason::kShutdown);
      if (s->last_position) put_position(clamped(*s, *s->last_position));
    }
    if (!pool_) {
      batcher_.seal();
      return;
    }
    chunk_->add_seal();
    submit_chunk();
    pool_->drain();
  }

 private:
  struct State;
  /// The end of a source's chain: encode, offer to the tap, batch.
  struct Encode final : RecordEmitter {
    Encode(Output& o, State& s) : out(o), state(s) {}
    void emit(const Record& record) override { out.encode(state, record); }
    Output& out;
    State& state;
  };
  struct State : SourceState {
    explicit State(Output& o) : encode(o, *this) {}
    Encode encode;
    EncodeContextPtr frozen;  // workers > 1: what the encoder threads see of this source
  };

  State& state(uint32_t id) {
    if (id != last_id_) {
      last_ = states_.at(id).get();
      last_id_ = id;
    }
    return *last_;
  }

  FilePosition clamped(const SourceState& s, FilePosition pos) const {
    if (s.chain) {
      if (auto held = s.chain->held_offset()) pos.offset = std::min(pos.offset, *held);
    }
    return pos;
  }

  /// The position a record makes committable (sources report a position
  /// right after opening, so there is one).
  std::optional<FilePosition> record_position(const State& s, const Record& record) const {
    if (!s.last_position) return std::nullopt;
    FilePosition pos = *s.last_position;
    pos.offset = record.commit_offset;
    pos.prune = false;
    return clamped(s, pos);
  }

  void put_position(const FilePosition& position) {
    if (pool_) {
      chunk_->add_position(position);
    } else {
      batcher_.set_position(position);
    }
  }

  void encode(State& s, const Record& record) {
    if (pool_) {
      const auto pos = record_position(s, record);
      chunk_->add_record(s.frozen, record, pos ? &*pos : nullptr);
      if (chunk_->full()) submit_chunk();
      return;
    }
    Batch& batch = batcher_.current();
    const size_t before = batch.data().size();
    encoder_.encode(record, s.context, batch);
    if (p_.opt_.tap_active && p_.opt_.tap_active()) {
      std::string_view line(batch.data());
      line = line.substr(before);
      if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      p_.opt_.tap_offer(s.info, line);
    }
    if (auto pos = record_position(s, record)) batcher_.set_position(*pos);
    batcher_.record_added(record.truncated);
  }

  // ---- workers > 1 ---------------------------------------------------------

  static EncodeContextPtr freeze(const State& s) {
    return std::make_shared<const EncodeContext>(EncodeContext{s.info, s.context});
  }

  void submit_chunk() {
    pool_->submit(std::move(chunk_));
    chunk_ = pool_->new_chunk();
  }

  /// Encoder thread (or the worker helping), any order.
  static void encode_chunk(enrich::RecordEncoder& encoder, Chunk& chunk) {
    for (const Chunk::Item& item : chunk.items()) {
      if (item.kind != Chunk::Kind::kRecord) continue;
      encoder.encode(chunk.record(item), chunk.context(item).context, chunk.piece);
    }
  }

  /// Chunk order, one at a time: what encode() does after the encoder, for
  /// a chunk's records, positions and events.
  void deliver_chunk(Chunk& chunk) {
    const Batch& piece = chunk.piece;
    const bool tap = p_.opt_.tap_active && p_.opt_.tap_active();
    size_t next = 0;
    bool ticked = false;
    for (const Chunk::Item& item : chunk.items()) {
      switch (item.kind) {
        case Chunk::Kind::kRecord: {
          if (next >= piece.record_count()) break;  // the encoder ends one record per item
          Batch& batch = batcher_.current();
          RecordFields fields = piece.fields(next);
          const K8sShape* shape = piece.k8s_shape(fields);
          fields.k8s_shape = shape != nullptr ? batch.add_k8s_shape(*shape) : RecordFields::kNoShape;
          const std::string_view line = piece.record(next++);
          batch.data().append(line);
          batch.end_record(fields);
          if (tap) p_.opt_.tap_offer(chunk.context(item).info, line);
          if (item.has_position) batcher_.set_position(item.position);
          batcher_.record_added(item.truncated);
          break;
        }
        case Chunk::Kind::kPosition:
          batcher_.set_position(item.position);
          break;
        case Chunk::Kind::kTick:
          batcher_.on_tick(Clock::now());
          ticked = true;
          break;
        case Chunk::Kind::kSeal:
          batcher_.seal();
          break;
      }
    }
    publish_deadline();
    if (ticked) tick_pending_.store(false, std::memory_order_release);
  }

  void publish_deadline() {
    deadline_.store(batcher_.deadline().time_since_epoch().count(), std::memory_order_release);
  }
  Clock::time_point published_deadline() const {
    return Clock::time_point(Clock::duration(deadline_.load(std::memory_order_acquire)));
  }

  Pipeline& p_;
  DeliveryTracker& tracker_;
  Batcher batcher_;
  enrich::RecordEncoder encoder_;  // the worker's: all encoding with 1 worker, its help with more
  MetadataResolver resolver_;
  std::unordered_map<uint32_t, std::unique_ptr<State>> states_;
  uint32_t last_id_ = UINT32_MAX;
  State* last_ = nullptr;
  // workers > 1 only.
  std::vector<std::unique_ptr<enrich::RecordEncoder>> encoders_;  // one per encoder thread
  ChunkPtr chunk_;                                                 // being filled by the worker
  std::atomic<Clock::rep> deadline_{0};                            // the batcher's, for the worker
  std::atomic<bool> tick_pending_{false};                          // a tick is queued, not yet delivered
  std::unique_ptr<EncodePool> pool_;  // last: its threads stop before the members above go
};

Pipeline::Pipeline(Options options, SinkPtr sink, std::unique_ptr<checkpoint::CheckpointStore> store)
    : opt_(std::move(options)), sink_(std::move(sink)), store_(std::move(store)) {
  tail::Options t;
  t.input_paths = opt_.input_paths;
  t.framer.format = opt_.format;
  t.framer.max_record_bytes = opt_.max_record_bytes;
  t.framer.timestamp_format = opt_.timestamp_format;
  t.framer.partial_timeout = opt_.partial_timeout;
  t.framer.counters = opt_.malformed;
  t.rescan_interval = opt_.rescan_interval;
  t.read_from_tail = opt_.read_from_tail;
  t.max_open_files = opt_.max_open_files;
  t.rotate_wait = opt_.rotate_wait;
  t.excluded = opt_.excluded;
  t.on_file_excluded = opt_.on_file_excluded;
  tail_ = std::make_unique<tail::TailSource>(std::move(t), *store_, stats_);
}

Pipeline::~Pipeline() {
  // The tracker's ack thread is told to give up before the sink goes. Taken
  // out under tracker_mu_: a signal thread may be in request_stop() on it
  // (TSan saw the tracker destroyed under a running request_stop()).
  std::unique_ptr<DeliveryTracker> tracker;
  {
    std::lock_guard lock(tracker_mu_);
    tracker = std::move(tracker_);
  }
  tracker.reset();
}

void Pipeline::request_stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (Source* s = running_.load()) s->wake();
  std::lock_guard lock(tracker_mu_);
  if (tracker_ != nullptr) tracker_->request_stop();
}

void Pipeline::for_each_file(const std::function<void(const FileMetrics&)>& fn) { tail_->for_each_file(fn); }
uint64_t Pipeline::total_files() const { return tail_->total_files(); }
uint64_t Pipeline::total_bytes() const { return tail_->total_bytes(); }

Result<void> Pipeline::run(Source& source, bool follow) {
  // LOGSHIP_MEMORY_LIMIT bounds all data the agent holds, so the worker's
  // fixed buffers (read chunk, longest line, two partial joins, the batch
  // being built), the sink's own buffers (Sink::reserved_memory) and, with
  // encoder threads, the chunks between the worker and the batcher come out
  // of it; batches in flight get the rest.
  size_t fixed = tail::kChunkBytes + opt_.max_record_bytes + tail::kLineSlack + 2 * opt_.max_record_bytes +
                 opt_.batch_max_bytes + opt_.batch_max_bytes / 4 + sink_->reserved_memory();
  if (opt_.workers > 1) fixed += EncodePool::reserve_bytes(Output::max_chunks(opt_.workers), opt_.max_record_bytes);
  // And what the process already holds before the first batch (binary and
  // libraries, allocator, caches built at start: 5-8 MiB), so that the limit
  // bounds the process's peak RSS, not only its data.
  fixed += resident_bytes().value_or(0);
  TrackerOptions t;
  t.budget = opt_.memory_limit > 2 * fixed ? opt_.memory_limit - fixed : opt_.memory_limit / 2;
  t.batch_reserve = opt_.batch_max_bytes + opt_.batch_max_bytes / 4;
  t.max_attempts = opt_.max_attempts;
  t.backoff.initial = opt_.retry_initial;
  t.backoff.max = opt_.retry_max;
  t.heartbeat = opt_.heartbeat;
  t.on_ready = opt_.on_ready;
  t.pause_on_commit_failure = follow;
  {
    std::lock_guard lock(tracker_mu_);
    tracker_ = std::make_unique<DeliveryTracker>(std::move(t), *sink_, &source, stats_);
  }
  DeliveryTracker& tracker = *tracker_;
  if (auto r = tracker.start(); !r) return r;
  if (stop_.load()) tracker.request_stop();

  // Give the pod watcher up to LOGSHIP_K8S_WAIT_MS to list the node's pods,
  // so files already there get their metadata from the first record on (in
  // oneshot too). An API that is down delays shipping by that bound only.
  if (opt_.pods != nullptr && opt_.pods_synced) {
    const auto deadline = Clock::now() + opt_.pod_wait;
    while (!opt_.pods_synced() && Clock::now() < deadline && !stop_.load()) {
      if (opt_.heartbeat) opt_.heartbeat();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  log::info(kLog, "workers", {{"workers", static_cast<uint64_t>(std::max<uint32_t>(opt_.workers, 1))}});
  running_.store(&source);
  if (stop_.load()) source.wake();
  Result<void> read;
  {
    Output out(*this, tracker);
    read = source.run(out);
    // Stopping: whatever was emitted goes out with the drain. Unfinished
    // partial records stay unread (their checkpoint is before them).
    if (!tracker.failed()) out.finish();
  }
  running_.store(nullptr);

  // Oneshot and stdin wait for the sink as long as the retry policy allows;
  // follow mode and a stop request bound the wait by the shutdown timeout.
  const bool stopping = stop_.load();
  auto deadline = Clock::time_point::max();
  if (follow || stopping) deadline = Clock::now() + opt_.shutdown_timeout;
  if (follow) {
    log::info(kLog, "draining", {{"timeout_ms", static_cast<int64_t>(opt_.shutdown_timeout.count())}});
  }
  if (!tracker.drain(deadline)) {
    (void)store_->flush();
    const size_t left = tracker.outstanding();
    if (!source.checkpointed()) {
      return fail(Errc::kUnavailable, "shutdown timeout: not everything read from standard input was delivered");
    }
    if (follow) {
      return fail(Errc::kUnavailable, "shutdown timeout: " + std::to_string(left) +
                                          " batches were not acknowledged and will be read again at the next start");
    }
    return fail(Errc::kUnavailable, "stopped before everything in flight was delivered");
  }
  if (source.checkpointed()) {
    if (auto r = store_->flush(); !r) {
      stats_.checkpoint_errors.fetch_add(1, std::memory_order_relaxed);
      log::error(kLog, "checkpoint write failed", {{"error", r.error().message}});
      if (!follow) {
        return fail(Errc::kIo, "every record was delivered, but the checkpoints could not be written (" +
                                   r.error().message + "): a rerun ships them again");
      }
    }
  }
  if (tracker.failed()) return fail(Errc::kUnavailable, "delivery failed: " + tracker.failure());
  if (!read) return read;
  if (!follow && source.checkpointed() && stopping) {
    return fail(Errc::kClosed, "stopped before every file was read to its end");
  }
  return {};
}

Result<void> Pipeline::run_oneshot() {
  tail_->set_follow(false);
  return run(*tail_, /*follow=*/false);
}

Result<void> Pipeline::run_follow() {
  log::info(kLog, "following", {{"inputs", static_cast<uint64_t>(opt_.input_paths.size())}});
  tail_->set_follow(true);
  return run(*tail_, /*follow=*/true);
}

Result<void> Pipeline::run_stdin() {
  framing::FramerOptions fo;
  fo.format = opt_.format;
  fo.max_record_bytes = opt_.max_record_bytes;
  fo.timestamp_format = opt_.timestamp_format;
  fo.partial_timeout = opt_.partial_timeout;
  fo.counters = opt_.malformed;
  fo.path = "-";
  tail::StdinSource source(std::move(fo), stats_);
  return run(source, /*follow=*/false);
}

}  // namespace logship::pipeline
