#include "agent/pipeline/delivery_tracker.h"

#include <algorithm>

#include "agent/core/log.h"

namespace logship::pipeline {
namespace {

constexpr std::string_view kLog = "pipeline";
// While checkpoints cannot be written, how often the ack thread tries again.
constexpr auto kCommitRetry = std::chrono::seconds(1);

void bump_peak(std::atomic<uint64_t>& peak, uint64_t value) {
  uint64_t cur = peak.load(std::memory_order_relaxed);
  while (value > cur && !peak.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

uint64_t unix_ms_now() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

DeliveryTracker::DeliveryTracker(TrackerOptions options, Sink& sink, Source* source, Stats& stats)
    : opt_(std::move(options)),
      sink_(sink),
      source_(source != nullptr && source->checkpointed() ? source : nullptr),
      stats_(stats),
      backoff_(opt_.backoff),
      hold_on_retry_(!sink.redelivers_internally()) {}

DeliveryTracker::~DeliveryTracker() {
  {
    std::lock_guard lock(mu_);
    stop_ack_ = true;
    abandon_ = true;
  }
  ack_cv_.notify_all();
  if (ack_thread_.joinable()) ack_thread_.join();
}

Result<void> DeliveryTracker::start() {
  if (auto r = sink_.start(*this); !r) return r;
  // Until the first commit, "last commit" is the start: a fresh agent is not stale.
  stats_.last_commit_unix_ms.store(unix_ms_now(), std::memory_order_relaxed);
  ack_thread_ = std::thread([this] { ack_loop(); });
  std::lock_guard lock(mu_);
  started_ = true;
  set_ready(true, "");
  return {};
}

BatchPtr DeliveryTracker::new_batch() {
  {
    std::lock_guard lock(mu_);
    if (!pool_.empty()) {
      BatchPtr b = std::move(pool_.back());
      pool_.pop_back();
      return b;
    }
  }
  auto b = std::make_unique<Batch>();
  b->data().reserve(opt_.batch_reserve);
  return b;
}

void DeliveryTracker::sink_send(BatchPtr batch) {
  std::lock_guard lock(send_mu_);
  sink_.send(std::move(batch));
}

bool DeliveryTracker::send(BatchPtr batch) {
  const size_t charge = batch->memory_bytes();
  {
    std::unique_lock lock(mu_);
    // The files are the buffer: rather than hold more, the worker stops here
    // (and so stops reading) until acknowledgements free memory. With nothing
    // in flight a batch always goes, so one oversized batch cannot deadlock.
    // A batch waiting to be resent goes first, so output order survives a
    // failure; and while checkpoints cannot be written, reading pauses.
    for (;;) {
      const bool room = in_flight_bytes_ == 0 || in_flight_bytes_ + charge <= opt_.budget;
      const bool retry_first = hold_on_retry_ && failing_ > 0;
      const bool paused = commit_failing_ && opt_.pause_on_commit_failure;
      if (failed_ || (room && !retry_first && !paused)) break;
      if (stop_) return false;  // never sent: its records are read again next start
      worker_cv_.wait_for(lock, std::chrono::milliseconds(500));
      lock.unlock();
      if (opt_.heartbeat) opt_.heartbeat();  // waiting on a slow sink is backpressure, not a hang
      refresh_readiness();
      lock.lock();
    }
    batch->seq = next_seq_++;
    batch->charged_bytes = charge;
    in_flight_bytes_ += charge;
    ++outstanding_;
    stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
    bump_peak(stats_.peak_in_flight_bytes, in_flight_bytes_);
  }
  stats_.batches_sent.fetch_add(1, std::memory_order_relaxed);
  batch->attempts = 1;
  sink_send(std::move(batch));
  return true;
}

bool DeliveryTracker::drain(Clock::time_point deadline) {
  {
    std::unique_lock lock(mu_);
    while (outstanding_ > 0) {
      if (opt_.heartbeat) opt_.heartbeat();
      const auto step = std::min(deadline, Clock::now() + std::chrono::milliseconds(500));
      worker_cv_.wait_until(lock, step, [&] { return outstanding_ == 0; });
      if (outstanding_ > 0 && Clock::now() >= deadline) return false;
    }
  }
  sink_.stop();
  {
    std::lock_guard lock(mu_);
    stop_ack_ = true;
  }
  ack_cv_.notify_all();
  if (ack_thread_.joinable()) ack_thread_.join();
  return true;
}

void DeliveryTracker::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  worker_cv_.notify_all();
}

bool DeliveryTracker::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

std::string DeliveryTracker::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

size_t DeliveryTracker::outstanding() const {
  std::lock_guard lock(mu_);
  return outstanding_;
}

std::string DeliveryTracker::commit_error() const {
  std::lock_guard lock(mu_);
  return commit_failing_ ? commit_error_ : std::string();
}

void DeliveryTracker::set_ready(bool ready, const std::string& reason) {
  // Called with mu_ held; the callback only flips a flag in the admin server.
  if (ready == ready_) return;
  ready_ = ready;
  if (opt_.on_ready) opt_.on_ready(ready, reason);
}

void DeliveryTracker::refresh_readiness() {
  const auto reason = sink_.unavailable_reason();
  std::lock_guard lock(mu_);
  if (!started_) return;
  if (reason) {
    set_ready(false, *reason);
  } else if (delivery_failing_) {
    set_ready(false, "sink failing: " + delivery_error_);
  } else if (commit_failing_) {
    set_ready(false, "checkpoints cannot be written: " + commit_error_);
  } else {
    set_ready(true, "");
  }
}

void DeliveryTracker::on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) {
  on_report(std::move(batch), DeliveryReport{status, error, std::nullopt});
}

void DeliveryTracker::on_report(BatchPtr batch, const DeliveryReport& report) {
  Completion c;
  c.seq = batch->seq;
  c.status = report.status;
  c.error = std::string(report.error);
  c.retry_after = report.retry_after;
  {
    std::lock_guard lock(mu_);
    if (report.status == DeliveryStatus::kOk) {
      // Free the memory now, on the sink's thread, so reading resumes without
      // waiting for the checkpoint write on the ack thread.
      stats_.records_sent.fetch_add(batch->record_count(), std::memory_order_relaxed);
      stats_.bytes_sent.fetch_add(batch->data().size(), std::memory_order_relaxed);
      c.positions = batch->positions();
      in_flight_bytes_ -= batch->charged_bytes;
      stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
      batch->reset();
      if (pool_.size() < 4) pool_.push_back(std::move(batch));
      delivery_failing_ = false;
    } else {
      c.batch = std::move(batch);
      ++failing_;  // at once, so the worker holds newer batches before the ack thread looks
      delivery_failing_ = true;
      delivery_error_ = c.error;
      set_ready(false, "sink failing: " + delivery_error_);
    }
    completions_.push_back(std::move(c));
  }
  if (report.status == DeliveryStatus::kOk) worker_cv_.notify_all();
  ack_cv_.notify_one();
}

void DeliveryTracker::ack_loop() {
  std::unique_lock lock(mu_);
  auto next_commit_try = Clock::time_point::max();
  for (;;) {
    // Resend waiting batches, oldest first, once their backoff has passed.
    if (!retries_.empty() && Clock::now() >= retry_at_) {
      std::map<uint64_t, BatchPtr> due;
      due.swap(retries_);
      lock.unlock();
      failing_ -= due.size();
      for (auto& [seq, b] : due) {
        ++b->attempts;
        stats_.sink_retries.fetch_add(1, std::memory_order_relaxed);
        sink_send(std::move(b));
      }
      lock.lock();
      worker_cv_.notify_all();
    }
    if (abandon_) return;
    if (commit_failing_ && Clock::now() >= next_commit_try) {
      std::vector<FilePosition> none;
      lock.unlock();
      commit(none);
      lock.lock();
      next_commit_try = commit_failing_ ? Clock::now() + kCommitRetry : Clock::time_point::max();
    }
    if (completions_.empty()) {
      if (stop_ack_ && outstanding_ == 0) return;
      auto until = commit_failing_ ? next_commit_try : Clock::time_point::max();
      if (!retries_.empty()) until = std::min(until, retry_at_);
      if (until == Clock::time_point::max()) {
        ack_cv_.wait(lock);
      } else {
        ack_cv_.wait_until(lock, until);
      }
      continue;
    }
    std::deque<Completion> done;
    done.swap(completions_);
    for (Completion& c : done) {
      if (c.status == DeliveryStatus::kOk) {
        acked_.emplace(c.seq, std::move(c.positions));
        --outstanding_;
      } else {
        handle_failure(c, lock);
      }
    }
    std::vector<FilePosition> touched;
    commit_prefix(touched);
    stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
    worker_cv_.notify_all();
    if (!touched.empty()) {
      lock.unlock();
      commit(touched);
      lock.lock();
      if (commit_failing_ && next_commit_try == Clock::time_point::max()) next_commit_try = Clock::now() + kCommitRetry;
    }
  }
}

void DeliveryTracker::handle_failure(Completion& c, std::unique_lock<std::mutex>& lock) {
  (void)lock;  // held
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
      for (auto& [seq, waiting] : retries_) {
        in_flight_bytes_ -= waiting->charged_bytes;
        --outstanding_;
      }
      failing_ -= retries_.size();
      retries_.clear();
    }
    log::error(kLog, "batch not delivered", {{"sink", sink_.name()}, {"error", c.error}, {"attempts", b.attempts}});
    in_flight_bytes_ -= b.charged_bytes;
    --outstanding_;
    --failing_;
    return;
  }
  const auto delay = backoff_.delay(b.attempts, c.retry_after);
  log::warn(kLog, "batch delivery failed; will retry",
            {{"sink", sink_.name()}, {"error", c.error}, {"attempt", b.attempts},
             {"retry_in_ms", static_cast<int64_t>(delay.count())}});
  const auto at = Clock::now() + delay;
  // All waiting batches go together, in order, at the latest time any asked.
  retry_at_ = retries_.empty() ? at : std::max(retry_at_, at);
  retries_.emplace(c.seq, std::move(c.batch));
}

void DeliveryTracker::commit_prefix(std::vector<FilePosition>& touched) {
  // Only a contiguous run of acknowledged batches may move checkpoints:
  // batch N+1's positions assume batch N's records were delivered.
  while (!acked_.empty() && acked_.begin()->first == next_commit_seq_) {
    for (const FilePosition& pos : acked_.begin()->second) pending_commit_[pos.file_id] = pos;
    acked_.erase(acked_.begin());
    ++next_commit_seq_;
  }
  for (auto& [id, pos] : pending_commit_) touched.push_back(pos);
  pending_commit_.clear();
}

void DeliveryTracker::commit(std::vector<FilePosition>& touched) {
  if (source_ == nullptr) return;
  auto r = source_->commit(touched);
  std::lock_guard lock(mu_);
  if (r) {
    stats_.last_commit_unix_ms.store(unix_ms_now(), std::memory_order_relaxed);
    if (commit_failing_) log::info(kLog, "checkpoints written again");
    commit_failing_ = false;
    return;
  }
  if (!commit_failing_) {
    log::error(kLog, "checkpoint write failed; reading paused until it succeeds", {{"error", r.error().message}});
  }
  commit_failing_ = true;
  commit_error_ = r.error().message;
  set_ready(false, "checkpoints cannot be written: " + commit_error_);
  // The positions stay pending: they are written with the next try.
  for (const FilePosition& pos : touched) pending_commit_.emplace(pos.file_id, pos);
}

}  // namespace logship::pipeline
