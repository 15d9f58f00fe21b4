#pragma once
// Pipeline counters. Written by the pipeline's threads with relaxed atomics;
// read by whoever reports them (the end-of-run log line, later /metrics).

#include <atomic>
#include <cstdint>

namespace logship::pipeline {

struct Stats {
  std::atomic<uint64_t> files_read{0};
  std::atomic<uint64_t> file_errors{0};
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> records_read{0};
  std::atomic<uint64_t> records_truncated{0};
  std::atomic<uint64_t> batches_sent{0};
  std::atomic<uint64_t> records_sent{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> sink_errors{0};
  std::atomic<uint64_t> sink_retries{0};
  std::atomic<uint64_t> checkpoint_errors{0};
  std::atomic<uint64_t> rotations{0};      ///< files renamed or deleted under us
  std::atomic<uint64_t> truncations{0};    ///< files that shrank below the read offset
  std::atomic<uint64_t> files_open{0};
  std::atomic<uint64_t> files_closed{0};
  std::atomic<uint64_t> checkpoints_pruned{0};
  std::atomic<uint64_t> in_flight_bytes{0};
  std::atomic<uint64_t> peak_in_flight_bytes{0};
};

}  // namespace logship::pipeline
