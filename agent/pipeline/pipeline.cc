#include "agent/pipeline/pipeline.h"

#include <cerrno>
#include <random>

#include "agent/core/log.h"
#include "agent/core/time_format.h"
#include "agent/enrich/k8s_path.h"
#include "agent/enrich/record_encoder.h"
#include "agent/tail/discovery.h"
#include "agent/tail/file_reader.h"

namespace logship::pipeline {
namespace {

constexpr std::string_view kLog = "pipeline";
// Read size per syscall. Large enough that syscalls are noise, small
// enough to stay in L2 while the lines are framed and parsed.
constexpr size_t kChunkBytes = 256 << 10;
// A line may exceed the record limit by its framing (CRI prefix, docker
// JSON escaping) before the framer cuts the record itself.
constexpr size_t kLineSlack = 128 << 10;

void bump_peak(std::atomic<uint64_t>& peak, uint64_t value) {
  uint64_t cur = peak.load(std::memory_order_relaxed);
  while (value > cur && !peak.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

/// Reads files and turns them into batches. Runs on the calling thread.
class Pipeline::Worker final : public framing::FrameHandler {
 public:
  explicit Worker(Pipeline& p)
      : p_(p), encoder_(p.opt_.release), reader_(kChunkBytes, p.opt_.max_record_bytes + kLineSlack) {}

  /// Ships one file from its checkpoint to its end. False if it could not be read.
  bool ship_file(const tail::DiscoveredFile& file) {
    if (auto r = reader_.open(file.path); !r) {
      // A file rotated away between discovery and open is normal.
      if (r.error().sys_errno == ENOENT) return true;
      log::warn(kLog, "cannot read file", {{"path", file.path}, {"error", r.error().message}});
      return false;
    }
    auto id = checkpoint::identify(reader_.fd());
    if (!id) {
      log::warn(kLog, "cannot stat file", {{"path", file.path}, {"error", id.error().message}});
      return false;
    }
    identity_ = *id;
    uint64_t start = 0;
    if (auto stored = p_.store_->find(identity_.dev, identity_.ino)) {
      start = checkpoint::resume_offset(*stored, reader_.fd(), identity_, file.size);
      if (start == 0 && stored->offset != 0) {
        log::info(kLog, "file changed since its checkpoint; reading from the start",
                  {{"path", file.path}});
      }
    }
    reader_.seek(start);
    file_id_ = p_.add_file(file.path, identity_);
    framer_ = framing::make_framer(p_.opt_.format, p_.opt_.max_record_bytes);
    source_.k8s_member.clear();
    if (auto meta = enrich::parse_k8s_path(file.path)) source_.k8s_member = enrich::encode_k8s_member(*meta);

    for (;;) {
      if (p_.has_failed()) return true;
      read_time_.clear();
      append_rfc3339_nano(read_time_, std::chrono::system_clock::now());
      framer_->set_read_time(read_time_);
      auto n = reader_.read_some(*framer_, *this);
      if (!n) {
        log::warn(kLog, "read failed", {{"path", file.path}, {"error", n.error().message}});
        return false;
      }
      if (*n == 0) break;
      p_.stats_.bytes_read.fetch_add(*n, std::memory_order_relaxed);
      set_position(framer_->safe_offset(reader_.consumed()));
    }
    reader_.finish(*framer_, *this);
    // Files shorter than the fingerprint when opened get a longer one now.
    if (identity_.fingerprint_len < checkpoint::kFingerprintBytes) {
      if (auto again = checkpoint::identify(reader_.fd()); again && again->ino == identity_.ino) {
        identity_ = *again;
      }
    }
    set_position(framer_->safe_offset(reader_.consumed()));
    p_.stats_.files_read.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  void on_frame(const framing::Frame& frame) override {
    encoder_.encode(frame, source_, batch_->data());
    batch_->end_record();
    ++records_;
    if (frame.truncated) p_.stats_.records_truncated.fetch_add(1, std::memory_order_relaxed);
    set_position(frame.commit_offset);
    if (batch_->data().size() >= p_.opt_.batch_max_bytes) seal();
  }

  void start() { batch_ = p_.new_batch(); }

  /// Sends the current batch if it holds anything.
  void seal() {
    if (batch_->empty()) return;
    p_.stats_.records_read.fetch_add(records_, std::memory_order_relaxed);
    records_ = 0;
    p_.send(std::move(batch_));
    batch_ = p_.new_batch();
  }

 private:
  void set_position(uint64_t offset) {
    if (offset == last_offset_ && file_id_ == last_file_) return;
    last_offset_ = offset;
    last_file_ = file_id_;
    batch_->set_position(FilePosition{file_id_, offset, identity_});
  }

  Pipeline& p_;
  enrich::RecordEncoder encoder_;
  tail::FileReader reader_;
  framing::FramerPtr framer_;
  enrich::SourceContext source_;
  FileIdentity identity_;
  uint32_t file_id_ = 0;
  uint32_t last_file_ = UINT32_MAX;
  uint64_t last_offset_ = 0;
  uint64_t records_ = 0;
  std::string read_time_;
  BatchPtr batch_;
};

Pipeline::Pipeline(Options options, SinkPtr sink, std::unique_ptr<checkpoint::CheckpointStore> store)
    : opt_(std::move(options)), sink_(std::move(sink)), store_(std::move(store)) {
  // LOGSHIP_MEMORY_LIMIT bounds all data the agent holds, so the worker's
  // fixed buffers (read chunk, longest line, two partial joins, the batch
  // being built) come out of it; batches in flight get the rest.
  const size_t fixed = kChunkBytes + opt_.max_record_bytes + kLineSlack + 2 * opt_.max_record_bytes +
                       opt_.batch_max_bytes + opt_.batch_max_bytes / 4;
  batch_budget_ = opt_.memory_limit > 2 * fixed ? opt_.memory_limit - fixed : opt_.memory_limit / 2;
}

Pipeline::~Pipeline() {
  {
    std::lock_guard lock(mu_);
    stop_ack_ = true;
  }
  ack_cv_.notify_all();
  if (ack_thread_.joinable()) ack_thread_.join();
}

bool Pipeline::has_failed() {
  std::lock_guard lock(mu_);
  return failed_;
}

Result<void> Pipeline::run_oneshot() {
  if (auto r = sink_->start(*this); !r) return std::unexpected(r.error());
  ack_thread_ = std::thread([this] { ack_loop(); });

  bool read_errors = false;
  auto files = tail::discover(opt_.input_paths);
  if (!files) {
    sink_->stop();
    return std::unexpected(files.error());
  }
  log::info(kLog, "oneshot start", {{"files", static_cast<uint64_t>(files->size())}});
  {
    Worker worker(*this);
    worker.start();
    for (const auto& f : *files) {
      if (!worker.ship_file(f)) {
        read_errors = true;
        stats_.file_errors.fetch_add(1, std::memory_order_relaxed);
      }
      if (has_failed()) break;
    }
    worker.seal();
  }
  wait_all_delivered();
  sink_->stop();
  {
    std::lock_guard lock(mu_);
    stop_ack_ = true;
  }
  ack_cv_.notify_all();
  ack_thread_.join();
  // The ack thread flushed as it went; a last flush catches a failed one.
  if (auto r = store_->flush(); !r) {
    stats_.checkpoint_errors.fetch_add(1, std::memory_order_relaxed);
    return std::unexpected(r.error());
  }
  std::lock_guard lock(mu_);
  if (failed_) return fail(Errc::kUnavailable, "delivery failed: " + failure_);
  if (read_errors) return fail(Errc::kIo, "some files could not be read (see the log)");
  return {};
}

BatchPtr Pipeline::new_batch() {
  {
    std::lock_guard lock(mu_);
    if (!pool_.empty()) {
      BatchPtr b = std::move(pool_.back());
      pool_.pop_back();
      return b;
    }
  }
  auto b = std::make_unique<Batch>();
  // One allocation up front instead of doubling through the batch size.
  // The last record may overshoot the size a little; a huge one reallocates.
  b->data().reserve(opt_.batch_max_bytes + opt_.batch_max_bytes / 4);
  return b;
}

void Pipeline::send(BatchPtr batch) {
  const size_t charge = batch->data().capacity() + batch->positions().size() * sizeof(FilePosition);
  {
    std::unique_lock lock(mu_);
    // The files are the buffer: rather than hold more, the worker stops here
    // (and so stops reading) until acknowledgements free memory. With nothing
    // in flight a batch always goes, so one oversized batch cannot deadlock.
    worker_cv_.wait(lock, [&] {
      return failed_ || in_flight_bytes_ == 0 || in_flight_bytes_ + charge <= batch_budget_;
    });
    batch->seq = next_seq_++;
    batch->charged_bytes = charge;
    in_flight_bytes_ += charge;
    ++outstanding_;
    stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
    bump_peak(stats_.peak_in_flight_bytes, in_flight_bytes_);
  }
  stats_.batches_sent.fetch_add(1, std::memory_order_relaxed);
  batch->attempts = 1;
  sink_->send(std::move(batch));
}

uint32_t Pipeline::add_file(const std::string& path, const FileIdentity& identity) {
  std::lock_guard lock(mu_);
  files_.push_back(FileEntry{path, identity});
  committed_.push_back(FilePosition{});
  return static_cast<uint32_t>(files_.size() - 1);
}

void Pipeline::wait_all_delivered() {
  std::unique_lock lock(mu_);
  worker_cv_.wait(lock, [&] { return outstanding_ == 0; });
}

void Pipeline::on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) {
  Completion c;
  c.seq = batch->seq;
  c.status = status;
  c.error = std::string(error);
  {
    std::lock_guard lock(mu_);
    if (status == DeliveryStatus::kOk) {
      // Free the memory now, on the sink's thread, so reading resumes without
      // waiting for the checkpoint write on the ack thread.
      stats_.records_sent.fetch_add(batch->record_count(), std::memory_order_relaxed);
      stats_.bytes_sent.fetch_add(batch->data().size(), std::memory_order_relaxed);
      c.positions = batch->positions();
      in_flight_bytes_ -= batch->charged_bytes;
      stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
      batch->reset();
      if (pool_.size() < 4) pool_.push_back(std::move(batch));
    } else {
      c.batch = std::move(batch);
    }
    completions_.push_back(std::move(c));
  }
  if (status == DeliveryStatus::kOk) worker_cv_.notify_all();
  ack_cv_.notify_one();
}

void Pipeline::ack_loop() {
  std::mt19937_64 rng(std::random_device{}());
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    // Resend batches whose backoff has passed.
    while (!retries_.empty() && retries_.begin()->first <= now) {
      BatchPtr b = std::move(retries_.begin()->second);
      retries_.erase(retries_.begin());
      ++b->attempts;
      lock.unlock();
      stats_.sink_retries.fetch_add(1, std::memory_order_relaxed);
      sink_->send(std::move(b));
      lock.lock();
    }
    if (completions_.empty()) {
      if (stop_ack_ && outstanding_ == 0) return;
      if (retries_.empty()) {
        ack_cv_.wait(lock);
      } else {
        ack_cv_.wait_until(lock, retries_.begin()->first);
      }
      continue;
    }
    std::deque<Completion> done;
    done.swap(completions_);
    std::vector<uint32_t> touched;
    for (Completion& c : done) {
      if (c.status == DeliveryStatus::kOk) {
        acked_.emplace(c.seq, std::move(c.positions));
        --outstanding_;
        continue;
      }
      Batch& b = *c.batch;
      stats_.sink_errors.fetch_add(1, std::memory_order_relaxed);
      const bool give_up = c.status == DeliveryStatus::kFatal || failed_ ||
                           (opt_.max_attempts != 0 && b.attempts >= opt_.max_attempts);
      if (give_up) {
        // Not committed: a rerun starts before this batch.
        if (!failed_) {
          failed_ = true;
          failure_ = c.error;
          // Nothing more will be committed; waiting retries are abandoned.
          for (auto& [when, waiting] : retries_) {
            in_flight_bytes_ -= waiting->charged_bytes;
            --outstanding_;
          }
          retries_.clear();
        }
        log::error(kLog, "batch not delivered",
                   {{"sink", sink_->name()}, {"error", c.error}, {"attempts", b.attempts}});
        in_flight_bytes_ -= b.charged_bytes;
        --outstanding_;
        continue;
      }
      // Exponential backoff with full jitter, so many agents retrying against
      // one recovering endpoint do not arrive in lockstep.
      const auto cap = std::min<int64_t>(opt_.retry_max.count(),
                                         opt_.retry_initial.count() << std::min<uint32_t>(b.attempts - 1, 20));
      const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, cap)(rng));
      log::warn(kLog, "batch delivery failed; will retry",
                {{"sink", sink_->name()}, {"error", c.error}, {"attempt", b.attempts},
                 {"retry_in_ms", static_cast<int64_t>(delay.count())}});
      retries_.emplace(std::chrono::steady_clock::now() + delay, std::move(c.batch));
    }
    commit_prefix(touched);
    stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
    worker_cv_.notify_all();
    if (!touched.empty()) {
      lock.unlock();
      flush_checkpoints(touched);
      lock.lock();
    }
  }
}

void Pipeline::commit_prefix(std::vector<uint32_t>& touched) {
  // Only a contiguous run of acknowledged batches may move checkpoints:
  // batch N+1's positions assume batch N's records were delivered.
  while (!acked_.empty() && acked_.begin()->first == next_commit_seq_) {
    for (const FilePosition& pos : acked_.begin()->second) {
      committed_[pos.file_id] = pos;
      touched.push_back(pos.file_id);
    }
    acked_.erase(acked_.begin());
    ++next_commit_seq_;
  }
}

void Pipeline::flush_checkpoints(const std::vector<uint32_t>& touched) {
  for (uint32_t id : touched) {
    FilePosition pos;
    std::string path;
    {
      std::lock_guard lock(mu_);
      pos = committed_[id];
      path = files_[id].path;
    }
    store_->put(checkpoint::Checkpoint{path, pos.identity, pos.offset});
  }
  if (auto r = store_->flush(); !r) {
    stats_.checkpoint_errors.fetch_add(1, std::memory_order_relaxed);
    log::error(kLog, "checkpoint write failed", {{"error", r.error().message}});
  }
}

}  // namespace logship::pipeline
