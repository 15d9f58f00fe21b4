#pragma once
// The file and stdout sinks: NDJSON appended to a file (LOGSHIP_SINK=file) or
// written to standard output (LOGSHIP_SINK=stdout).
//
// A batch is acknowledged only after its bytes are written and, for a
// regular file, fdatasync'd. Batches queued together are written together
// and share one fdatasync (group commit), which keeps durability cheap.
//
// Output order is the send order, even when the disk is full: a transient
// write error (ENOSPC, EIO, EDQUOT...) is retried here with backoff, holding
// every later batch, and the retry resumes at the byte where the failed
// write stopped (after a failed fdatasync the group is truncated away and
// written again, since the kernel may have dropped its pages). Nothing is
// written twice and no line is torn. Only stop() gives up: what is not
// written is reported kRetry (and a partial group truncated away).
//
// Threading: send() only queues; one writer thread owned by the sink does
// the I/O and calls the DeliveryListener, in send order.

#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "agent/core/sink.h"

namespace logship::sinks {

class FileSink final : public Sink {
 public:
  /// The system calls the writer uses and its retry backoff. Tests inject
  /// faults here; production uses the defaults.
  struct Io {
    std::function<ssize_t(int fd, const iovec* iov, int count)> writev = ::writev;
    std::function<int(int fd)> fdatasync = ::fdatasync;
    std::chrono::milliseconds retry_min{100};
    std::chrono::milliseconds retry_max{5000};
    /// 0: retry until stop(). Otherwise, after retrying this long the batch
    /// and every later one are reported kFatal and nothing more is written.
    std::chrono::milliseconds give_up_after{0};
  };
  /// Follow mode waits for disk space as long as it takes (the input files
  /// are the buffer); oneshot gives up after a few seconds and fails.
  static Io io_for_run(bool oneshot);

  /// Appends to `path` (created if missing).
  static SinkPtr to_file(std::string path);
  /// Same, with injected system calls (tests).
  static SinkPtr to_file(std::string path, Io io);
  /// Writes to file descriptor 1.
  static SinkPtr to_stdout();
  static SinkPtr to_stdout(Io io);
  ~FileSink() override;

  std::string_view name() const override { return name_; }
  [[nodiscard]] Result<void> start(DeliveryListener& listener) override;
  void send(BatchPtr batch) override;
  void stop() override;
  [[nodiscard]] std::optional<std::string> unavailable_reason() const override;
  [[nodiscard]] bool redelivers_internally() const override { return true; }
  void collect_metrics(const std::function<void(const MetricSample&)>& emit) const override;

 private:
  FileSink(std::string name, std::string path, Io io);
  void run();
  /// Writes a group of batches, retrying transient errors until written or
  /// stopped; returns the status for all of them.
  DeliveryStatus write_group(std::deque<BatchPtr>& group, std::string& error);
  /// Writes the group's bytes from `done` on; 0 or the errno that stopped it.
  int write_from(const std::deque<BatchPtr>& group, size_t& done);
  /// Waits `delay` or until stop(); false when stopping.
  bool wait_retry(std::chrono::milliseconds delay);
  void set_failing(std::string reason);
  [[nodiscard]] Result<void> repair_torn_tail();

  std::string name_;
  std::string path_;  // empty: stdout
  Io io_;
  int fd_ = -1;
  bool regular_ = false;  // fdatasync and torn-write repair apply
  DeliveryListener* listener_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BatchPtr> queue_;
  bool stopping_ = false;
  std::string failing_;  // why the last write failed while retrying; empty when healthy
  std::thread writer_;
  std::atomic<uint64_t> write_retries_{0};
};

}  // namespace logship::sinks
