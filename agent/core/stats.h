#pragma once
// The agent's counters, shared by the stages that write them (tail source,
// batcher, delivery tracker) and read by /metrics and the end-of-run log.
// Relaxed atomics: each counter is independent; readers want a recent value,
// not a consistent snapshot.

#include <atomic>
#include <cstdint>

namespace logship {

struct Stats {
  // Tail source.
  std::atomic<uint64_t> files_read{0};
  std::atomic<uint64_t> file_errors{0};
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> rotations{0};      ///< files renamed or deleted under us
  std::atomic<uint64_t> truncations{0};    ///< files that shrank below the read offset
  std::atomic<uint64_t> files_open{0};
  std::atomic<uint64_t> files_closed{0};
  std::atomic<uint64_t> checkpoints_pruned{0};
  std::atomic<uint64_t> checkpoint_errors{0};
  std::atomic<uint64_t> files_lost{0};     ///< checkpointed files gone before they were read to their end
  // Batcher.
  std::atomic<uint64_t> records_read{0};
  std::atomic<uint64_t> records_truncated{0};
  // Delivery tracker.
  std::atomic<uint64_t> batches_sent{0};
  std::atomic<uint64_t> records_sent{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> sink_errors{0};
  std::atomic<uint64_t> sink_retries{0};
  std::atomic<uint64_t> in_flight_bytes{0};
  std::atomic<uint64_t> peak_in_flight_bytes{0};
  std::atomic<uint64_t> last_commit_unix_ms{0};  ///< wall time of the last checkpoint commit
};

}  // namespace logship
