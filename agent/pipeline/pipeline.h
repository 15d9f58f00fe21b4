#pragma once
// The pipeline wires the stages (agent/README.md draws them):
//
//   worker thread:  Source::run (tail or stdin: discover, read, frame)
//                   -> processor chain per source -> RecordEncoder
//                   -> Batcher -> DeliveryTracker::send   (pauses at memory limit)
//   with LOGSHIP_WORKERS=N > 1 the worker stops after the processors: it
//   copies records into chunks; N-1 encoder threads encode them and hand
//   them to the Batcher in chunk order (encode_pool.h)
//   sink thread(s): write/produce -> DeliveryListener::on_report
//                   (memory released there, at once)
//   ack thread:     ordered commit of acknowledged positions -> Source::commit
//                   (checkpoint store flush); resends failed batches in order
//
// Checkpoints advance only over batches that the sink acknowledged and only
// in batch order, so a crash can repeat records but never skip one.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/processor.h"
#include "agent/core/sink.h"
#include "agent/pipeline/stats.h"
#include "agent/tail/tail_source.h"
#include "parsers/framing/framer.h"

namespace logship::k8s {
class PodCache;
}

namespace logship::pipeline {

using tail::FileMetrics;
class DeliveryTracker;

struct Options {
  std::vector<std::string> input_paths;
  framing::Format format = framing::Format::kAuto;
  framing::TimestampFormat timestamp_format = framing::TimestampFormat::kVerbatim;
  /// A partial line with no continuation for this long ships marked partial.
  std::chrono::milliseconds partial_timeout{5000};
  /// Shared counters of odd input lines (for /metrics); null: not exported.
  framing::MalformedCounters* malformed = nullptr;
  std::optional<std::string> release;
  size_t max_record_bytes = 1 << 20;
  size_t memory_limit = 64 << 20;
  size_t batch_max_bytes = 1 << 20;
  std::chrono::milliseconds batch_timeout{250};
  /// Threads that encode (LOGSHIP_WORKERS, resolved): 1 encodes on the
  /// worker thread itself; N > 1 adds N-1 encoder threads (encode_pool.h).
  uint32_t workers = 1;
  /// Delivery attempts per batch before giving up (0: never give up, as in
  /// follow mode, where the files are the buffer and waiting is safe).
  uint32_t max_attempts = 6;
  /// Backoff before the first retry; doubles up to retry_max.
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{30000};

  // Follow mode.
  std::chrono::milliseconds rescan_interval{1000};
  bool read_from_tail = false;  ///< for files present at start without a checkpoint
  size_t max_open_files = 1024;
  /// How long a renamed or deleted file stays open at its end, for lines its
  /// writer adds just after the rotation.
  std::chrono::milliseconds rotate_wait{5000};
  std::chrono::milliseconds shutdown_timeout{25000};

  /// Processors run on every record, in order (multiline, filters, redaction).
  ProcessorFactories processors;
  /// Files never opened (LOGSHIP_EXCLUDE_*). Null: none.
  std::function<bool(const std::string& path)> excluded;
  /// Called once each time an excluded file appears (a counter).
  std::function<void()> on_file_excluded;

  /// Pod metadata from the Kubernetes API (LOGSHIP_K8S_API); null when off.
  /// Must outlive the pipeline.
  const k8s::PodCache* pods = nullptr;
  /// True once the pod watcher has listed the node's pods: only then is a
  /// pod missing from the cache worth waiting for.
  std::function<bool()> pods_synced;
  /// How long a new file waits for its pod to reach the cache (LOGSHIP_K8S_WAIT_MS).
  std::chrono::milliseconds pod_wait{500};

  /// Called regularly from the worker thread while it is alive and not stuck
  /// (also while it waits for memory), for /healthz.
  std::function<void()> heartbeat;
  /// Called on readiness changes: the sink accepting (true) or failing (false).
  std::function<void(bool ready, const std::string& reason)> on_ready;
  /// Sees every encoded record (the live tap); called only while
  /// tap_active() is true. Must never block.
  std::function<bool()> tap_active;
  std::function<void(const SourceInfo& source, std::string_view record)> tap_offer;
};

class Pipeline final {
 public:
  Pipeline(Options options, SinkPtr sink, std::unique_ptr<checkpoint::CheckpointStore> store);
  ~Pipeline();

  /// Oneshot: reads every matched file to its end, waits for every batch to
  /// be acknowledged and committed. An error if anything was not delivered
  /// (its checkpoint then stays before it, so a rerun ships it).
  [[nodiscard]] Result<void> run_oneshot();

  /// Follow mode: tails the inputs until request_stop(), then delivers what is
  /// in flight within shutdown_timeout and commits. An error if the deadline
  /// cut delivery short; the sink may then still hold a blocked thread, so
  /// the caller should exit without destroying the pipeline.
  [[nodiscard]] Result<void> run_follow();

  /// stdin mode (LOGSHIP_INPUT_PATHS=-): reads records from standard input
  /// until end of input, delivers them and returns. No checkpoints.
  [[nodiscard]] Result<void> run_stdin();

  /// Asks the run to stop reading and drain. Thread-safe; callable from a
  /// signal-handling thread.
  void request_stop();

  const Stats& stats() const { return stats_; }
  const Sink& sink() const { return *sink_; }

  /// Calls `fn` for every open file's metrics. Thread-safe.
  void for_each_file(const std::function<void(const FileMetrics&)>& fn);

  /// Oneshot progress: files and bytes matched at start. Thread-safe.
  [[nodiscard]] uint64_t total_files() const;
  [[nodiscard]] uint64_t total_bytes() const;

 private:
  class Output;
  [[nodiscard]] Result<void> run(Source& source, bool follow);

  Options opt_;
  SinkPtr sink_;
  std::unique_ptr<checkpoint::CheckpointStore> store_;
  Stats stats_;
  std::atomic<bool> stop_{false};
  std::atomic<Source*> running_{nullptr};
  std::mutex tracker_mu_;  // guards tracker_ against request_stop from another thread
  /// Created by run(); kept for the pipeline's life, since a sink cut short
  /// by the shutdown deadline may still report to it.
  std::unique_ptr<DeliveryTracker> tracker_;
  std::unique_ptr<tail::TailSource> tail_;
};

}  // namespace logship::pipeline
