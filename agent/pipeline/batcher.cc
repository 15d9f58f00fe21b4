#include "agent/pipeline/batcher.h"

namespace logship::pipeline {

Batcher::Batcher(DeliveryTracker& tracker, size_t max_bytes, std::chrono::milliseconds timeout, Stats& stats)
    : tracker_(tracker), max_bytes_(max_bytes), timeout_(timeout), stats_(stats), batch_(tracker.new_batch()) {}

void Batcher::record_added(bool truncated) {
  touch();
  ++records_;
  if (batch_->data().size() >= max_bytes_) seal();
  if (truncated) stats_.records_truncated.fetch_add(1, std::memory_order_relaxed);
}

void Batcher::touch() {
  if (open_) return;
  open_ = true;
  started_ = Clock::now();
}

void Batcher::set_position(const FilePosition& position) {
  // Most records of a run come from one file at increasing offsets: skip the
  // lookup in the batch when nothing changed.
  if (position.file_id == last_file_ && position.offset == last_offset_ && position.prune == last_prune_) return;
  last_file_ = position.file_id;
  last_offset_ = position.offset;
  last_prune_ = position.prune;
  touch();
  batch_->set_position(position);
}

bool Batcher::seal() {
  if (batch_->empty()) return true;
  stats_.records_read.fetch_add(records_, std::memory_order_relaxed);
  records_ = 0;
  open_ = false;
  last_file_ = UINT32_MAX;
  const bool sent = tracker_.send(std::move(batch_));
  batch_ = tracker_.new_batch();
  return sent;
}

Batcher::Clock::time_point Batcher::deadline() const {
  return open_ ? started_ + timeout_ : Clock::time_point::max();
}

void Batcher::on_tick(Clock::time_point now) {
  if (!batch_->empty() && now >= deadline()) seal();
}

}  // namespace logship::pipeline
