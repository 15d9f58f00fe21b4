#pragma once
// The batcher: collects encoded records and the positions they make
// committable into a Batch, seals it at LOGSHIP_BATCH_MAX_BYTES or when its
// first record is LOGSHIP_BATCH_TIMEOUT_MS old, and hands it to the delivery
// tracker (which may block: backpressure).
//
// Threading: the worker thread only.

#include <chrono>
#include <cstdint>

#include "agent/core/batch.h"
#include "agent/core/stats.h"
#include "agent/pipeline/delivery_tracker.h"

namespace logship::pipeline {

class Batcher {
 public:
  using Clock = std::chrono::steady_clock;
  Batcher(DeliveryTracker& tracker, size_t max_bytes, std::chrono::milliseconds timeout, Stats& stats);

  /// The batch being filled: the encoder appends one record to it, then the
  /// caller sets the record's position and calls record_added() (which seals
  /// a full batch).
  [[nodiscard]] Batch& current() { return *batch_; }
  void record_added(bool truncated);
  /// Where a file may resume once this batch (and all before it) is delivered.
  void set_position(const FilePosition& position);
  /// Sends the batch if it holds anything. False if a stop cut the send.
  bool seal();
  /// When the batch must go, or time_point::max() while it is empty.
  [[nodiscard]] Clock::time_point deadline() const;
  /// Seals the batch if its age limit passed.
  void on_tick(Clock::time_point now);

 private:
  void touch();  // the batch's age counts from its first record or position

  DeliveryTracker& tracker_;
  size_t max_bytes_;
  std::chrono::milliseconds timeout_;
  Stats& stats_;
  BatchPtr batch_;
  Clock::time_point started_;
  uint64_t records_ = 0;
  uint32_t last_file_ = UINT32_MAX;
  uint64_t last_offset_ = 0;
  bool last_prune_ = false;
  bool open_ = false;
};

}  // namespace logship::pipeline
