#pragma once
// The delivery tracker: between the batcher and the sink. It owns
//   - the memory budget: send() blocks while batches in flight would exceed
//     it (the worker stops reading; the files are the buffer);
//   - ordered commit: positions of batch N are committed (Source::commit)
//     only once batches 0..N are acknowledged;
//   - retries: a kRetry batch is resent with backoff (agent/core/backoff.h),
//     before any later batch goes to the sink, so output order survives a
//     failure; in oneshot a batch is given up after max_attempts;
//   - readiness: the sink failing or unreachable shows on /readyz.
//
// Threading: send()/new_batch() from the worker; on_report() from sink
// threads; an internal ack thread commits and resends. Sink::send() is
// called under one mutex, never concurrently with itself.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/backoff.h"
#include "agent/core/sink.h"
#include "agent/core/source.h"
#include "agent/core/stats.h"

namespace logship::pipeline {

struct TrackerOptions {
  /// Bytes of batches that may be in flight (LOGSHIP_MEMORY_LIMIT less the
  /// worker's fixed buffers).
  size_t budget = 32 << 20;
  /// Reserve for a new batch's buffer.
  size_t batch_reserve = 1 << 20;
  /// Delivery attempts per batch before giving up (0: never, follow mode).
  uint32_t max_attempts = 6;
  Backoff::Options backoff;
  /// Follow mode: while checkpoints cannot be written, stop reading (and
  /// retry the write) rather than ship what could not be recorded as shipped.
  bool pause_on_commit_failure = false;
  /// Called while the worker waits on the budget (backpressure is not a hang).
  std::function<void()> heartbeat;
  /// Readiness changes: the sink accepting (true) or failing (false).
  std::function<void(bool ready, const std::string& reason)> on_ready;
};

class DeliveryTracker final : public DeliveryListener {
 public:
  /// `source` commits positions; null or !checkpointed(): nothing is committed.
  DeliveryTracker(TrackerOptions options, Sink& sink, Source* source, Stats& stats);
  ~DeliveryTracker() override;

  /// Starts the sink and the ack thread.
  [[nodiscard]] Result<void> start();

  /// A batch to fill (recycled when one is free).
  [[nodiscard]] BatchPtr new_batch();

  /// Hands a batch to the sink; blocks while the budget is used up or an
  /// earlier batch waits to be resent. False if a stop cut the wait (the
  /// batch is dropped unsent: its records are read again next start).
  bool send(BatchPtr batch);

  /// Waits for outstanding batches until `deadline`, then stops the sink and
  /// the ack thread. False if the deadline passed first.
  [[nodiscard]] bool drain(std::chrono::steady_clock::time_point deadline);

  /// Cuts waits short (stop requested). Thread-safe.
  void request_stop();

  [[nodiscard]] bool failed() const;
  [[nodiscard]] std::string failure() const;
  [[nodiscard]] size_t outstanding() const;
  /// The last checkpoint write failed (its error), or empty.
  [[nodiscard]] std::string commit_error() const;

  /// Re-evaluates readiness from the sink's own view of its destination.
  void refresh_readiness();

  void on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) override;
  void on_report(BatchPtr batch, const DeliveryReport& report) override;

 private:
  struct Completion {
    uint64_t seq = 0;
    std::vector<FilePosition> positions;  // kOk
    BatchPtr batch;                       // kRetry/kFatal: kept for resending
    DeliveryStatus status = DeliveryStatus::kOk;
    std::string error;
    std::optional<std::chrono::milliseconds> retry_after;
  };
  using Clock = std::chrono::steady_clock;

  void ack_loop();
  void handle_failure(Completion& c, std::unique_lock<std::mutex>& lock);
  void commit_prefix(std::vector<FilePosition>& touched);
  void commit(std::vector<FilePosition>& touched);
  void set_ready(bool ready, const std::string& reason);  // mu_ held
  void sink_send(BatchPtr batch);

  TrackerOptions opt_;
  Sink& sink_;
  Source* source_;
  Stats& stats_;
  Backoff backoff_;
  const bool hold_on_retry_;  // resend before anything later (sinks that do not redeliver)

  std::mutex send_mu_;  // serialises Sink::send
  mutable std::mutex mu_;
  std::condition_variable worker_cv_;  // memory released, retries done, failure, stop
  std::condition_variable ack_cv_;     // completions arrived, stop requested
  std::deque<Completion> completions_;
  std::vector<BatchPtr> pool_;
  std::map<uint64_t, BatchPtr> retries_;  // by seq: resent in order
  size_t failing_ = 0;  // failed reports not yet resent or given up (counted on arrival)
  Clock::time_point retry_at_;
  std::map<uint64_t, std::vector<FilePosition>> acked_;  // out-of-order acks by seq
  std::map<uint32_t, FilePosition> pending_commit_;      // committed in memory, not yet durable
  uint64_t next_seq_ = 0;
  uint64_t next_commit_seq_ = 0;
  size_t in_flight_bytes_ = 0;
  size_t outstanding_ = 0;
  bool stop_ = false;
  bool failed_ = false;
  std::string failure_;
  bool stop_ack_ = false;
  bool abandon_ = false;
  bool ready_ = false;
  bool started_ = false;
  bool delivery_failing_ = false;
  std::string delivery_error_;
  bool commit_failing_ = false;
  std::string commit_error_;
  std::thread ack_thread_;
};

}  // namespace logship::pipeline
