#pragma once
// The pipeline wires source, framer, encoder, batcher, sink and checkpoints:
//
//   worker thread:  discover -> read chunk -> frame -> parse+enrich+encode
//                   -> batch -> Sink::send           (pauses at memory limit)
//   sink thread(s): write/produce -> DeliveryListener::on_delivered
//                   (memory released there, at once)
//   ack thread:     ordered commit of acknowledged positions -> checkpoint
//                   store flush; retry failed batches with backoff
//
// Checkpoints advance only over batches that the sink acknowledged and only
// in batch order, so a crash can repeat records but never skip one.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/sink.h"
#include "agent/pipeline/stats.h"
#include "parsers/framing/framer.h"

namespace logship::k8s {
class PodCache;
}

namespace logship::pipeline {

struct Options {
  std::vector<std::string> input_paths;
  framing::Format format = framing::Format::kAuto;
  std::optional<std::string> release;
  size_t max_record_bytes = 1 << 20;
  size_t memory_limit = 64 << 20;
  size_t batch_max_bytes = 1 << 20;
  std::chrono::milliseconds batch_timeout{250};
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
};

/// Per-file counters for /metrics, for files currently open.
struct FileMetrics {
  std::string path;
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> records_read{0};
  int fd = -1;  ///< open while listed (entries are removed before the file is closed)
  std::atomic<uint64_t> read_offset{0};  ///< next byte to read
};

class Pipeline final : public DeliveryListener {
 public:
  Pipeline(Options options, SinkPtr sink, std::unique_ptr<checkpoint::CheckpointStore> store);
  ~Pipeline() override;

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
  /// until end of input, delivers them and returns. Backpressure stops
  /// reading, so a writer on a pipe blocks. No checkpoints (a stream cannot
  /// be re-read).
  [[nodiscard]] Result<void> run_stdin();

  /// Asks the run to stop reading and drain. Thread-safe; callable from a
  /// signal-handling thread.
  void request_stop();

  void on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) override;

  const Stats& stats() const { return stats_; }
  const Sink& sink() const { return *sink_; }

  /// Re-evaluates readiness from the sink's own view of its destination.
  void refresh_readiness();

  /// Calls `fn` for every open file's metrics. Thread-safe.
  void for_each_file(const std::function<void(const FileMetrics&)>& fn);

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

  [[nodiscard]] Result<void> start_threads();
  /// Waits for outstanding batches until `deadline`, then stops sink and ack
  /// thread. False if the deadline passed first.
  [[nodiscard]] bool drain(std::chrono::steady_clock::time_point deadline);

  // Worker side.
  [[nodiscard]] BatchPtr new_batch();
  /// Hands a full batch to the sink; blocks while the memory budget is used
  /// up. Returns false (batch dropped, never sent) if a stop cut the wait.
  bool send(BatchPtr batch);
  uint32_t add_file(const std::string& path, const FileIdentity& identity);
  [[nodiscard]] bool has_failed();
  [[nodiscard]] bool stopping() const { return stop_.load(std::memory_order_relaxed); }
  void set_ready(bool ready, const std::string& reason);

  // Ack thread.
  void ack_loop();
  void commit_prefix(std::vector<uint32_t>& touched);
  void flush_checkpoints(const std::vector<uint32_t>& touched);

  Options opt_;
  SinkPtr sink_;
  std::unique_ptr<checkpoint::CheckpointStore> store_;
  Stats stats_;
  std::atomic<bool> stop_{false};
  int wake_fd_ = -1;  // eventfd: wakes the follow loop on stop

  std::mutex mu_;
  std::condition_variable worker_cv_;  // memory released, batch acknowledged, failure, stop
  std::condition_variable ack_cv_;     // completions arrived, stop requested
  std::deque<Completion> completions_;
  std::vector<BatchPtr> pool_;  // recycled batches (keep their buffers)
  size_t batch_budget_ = 0;     // memory_limit less the worker's fixed buffers
  std::multimap<std::chrono::steady_clock::time_point, BatchPtr> retries_;
  std::map<uint64_t, std::vector<FilePosition>> acked_;  // out-of-order acks by seq
  std::vector<FileEntry> files_;
  std::map<std::pair<uint64_t, uint64_t>, uint32_t> file_ids_;  // (dev, ino) -> index in files_
  std::vector<FilePosition> committed_;  // per file id
  uint64_t next_seq_ = 0;
  uint64_t next_commit_seq_ = 0;
  size_t in_flight_bytes_ = 0;
  size_t outstanding_ = 0;  // batches sent and not yet acknowledged
  bool failed_ = false;
  std::string failure_;
  bool stop_ack_ = false;
  bool abandon_ = false;  // destructor: stop the ack thread even with batches outstanding
  bool ready_ = false;
  bool delivery_failing_ = false;  // the last report for some batch was a failure
  std::string delivery_error_;
  bool threads_started_ = false;
  std::thread ack_thread_;

  std::mutex metrics_mu_;
  std::map<uint32_t, std::shared_ptr<FileMetrics>> file_metrics_;  // open files only
};

}  // namespace logship::pipeline
