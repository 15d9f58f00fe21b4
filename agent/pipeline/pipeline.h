#pragma once
// The pipeline wires source, framer, encoder, batcher, sink and checkpoints:
//
//   worker thread:  discover -> read chunk -> frame -> parse+enrich+encode
//                   -> batch -> Sink::send           (pauses at memory limit)
//   sink thread(s): write/produce -> DeliveryListener::on_delivered
//   ack thread:     ordered commit of acknowledged positions -> checkpoint
//                   store flush; release memory; retry failed batches
//
// Checkpoints advance only over batches that the sink acknowledged and only
// in batch order, so a crash can repeat records but never skip one.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/sink.h"
#include "agent/pipeline/stats.h"
#include "parsers/framing/framer.h"

namespace logship::pipeline {

struct Options {
  std::vector<std::string> input_paths;
  framing::Format format = framing::Format::kAuto;
  std::optional<std::string> release;
  size_t max_record_bytes = 1 << 20;
  size_t memory_limit = 64 << 20;
  size_t batch_max_bytes = 1 << 20;
  std::chrono::milliseconds batch_timeout{250};
  /// Delivery attempts per batch before oneshot gives up (0: never give up).
  uint32_t max_attempts = 6;
  /// Backoff before the first retry; doubles up to retry_max.
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{30000};
};

class Pipeline final : public DeliveryListener {
 public:
  Pipeline(Options options, SinkPtr sink, std::unique_ptr<checkpoint::CheckpointStore> store);
  ~Pipeline() override;

  /// Oneshot: reads every matched file to its end, waits for every batch to
  /// be acknowledged and committed. An error if anything was not delivered
  /// (its checkpoint then stays before it, so a rerun ships it).
  [[nodiscard]] Result<void> run_oneshot();

  void on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) override;

  const Stats& stats() const { return stats_; }

 private:
  struct FileEntry {
    std::string path;
    FileIdentity identity;
  };
  /// A delivery report handed to the ack thread. A delivered batch's
  /// buffer is recycled at once; only its positions travel on.
  struct Completion {
    uint64_t seq = 0;
    std::vector<FilePosition> positions;  // kOk
    BatchPtr batch;                       // kRetry/kFatal: kept for resending
    DeliveryStatus status = DeliveryStatus::kOk;
    std::string error;
  };

  class Worker;
  friend class Worker;

  // Worker side.
  [[nodiscard]] BatchPtr new_batch();
  /// Hands a full batch to the sink; blocks while the memory limit is reached.
  void send(BatchPtr batch);
  uint32_t add_file(const std::string& path, const FileIdentity& identity);
  void wait_all_delivered();
  [[nodiscard]] bool has_failed();

  // Ack thread.
  void ack_loop();
  void commit_prefix(std::vector<uint32_t>& touched);
  void flush_checkpoints(const std::vector<uint32_t>& touched);

  Options opt_;
  SinkPtr sink_;
  std::unique_ptr<checkpoint::CheckpointStore> store_;
  Stats stats_;

  std::mutex mu_;
  std::condition_variable worker_cv_;  // memory released, batch acknowledged, failure
  std::condition_variable ack_cv_;     // completions arrived, stop requested
  std::deque<Completion> completions_;
  std::vector<BatchPtr> pool_;  // recycled batches (keep their buffers)
  size_t batch_budget_ = 0;     // memory_limit less the worker's fixed buffers
  std::multimap<std::chrono::steady_clock::time_point, BatchPtr> retries_;
  std::map<uint64_t, std::vector<FilePosition>> acked_;  // out-of-order acks by seq
  std::vector<FileEntry> files_;
  std::vector<FilePosition> committed_;  // per file id; offset = committed position
  uint64_t next_seq_ = 0;
  uint64_t next_commit_seq_ = 0;
  size_t in_flight_bytes_ = 0;
  size_t outstanding_ = 0;  // batches sent and not yet acknowledged
  bool failed_ = false;
  std::string failure_;
  bool stop_ack_ = false;
  std::thread ack_thread_;
};

}  // namespace logship::pipeline
