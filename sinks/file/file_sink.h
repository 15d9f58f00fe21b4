#pragma once
// The file and stdout sinks: NDJSON appended to a file (LOGSHIP_SINK=file) or
// written to standard output (LOGSHIP_SINK=stdout).
//
// A batch is acknowledged only after its bytes are written and, for a
// regular file, fdatasync'd. Batches queued together are written together
// and share one fdatasync (group commit), which keeps durability cheap.
//
// Threading: send() only queues; one writer thread owned by the sink does
// the I/O and calls the DeliveryListener, in send order.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "agent/core/sink.h"

namespace logship::sinks {

class FileSink final : public Sink {
 public:
  /// Appends to `path` (created if missing).
  static SinkPtr to_file(std::string path);
  /// Writes to file descriptor 1.
  static SinkPtr to_stdout();
  ~FileSink() override;

  std::string_view name() const override { return name_; }
  [[nodiscard]] Result<void> start(DeliveryListener& listener) override;
  void send(BatchPtr batch) override;
  void stop() override;

 private:
  FileSink(std::string name, std::string path);
  void run();
  /// Writes a group of batches; returns the status for all of them.
  DeliveryStatus write_group(std::deque<BatchPtr>& group, std::string& error);
  [[nodiscard]] Result<void> repair_torn_tail();

  std::string name_;
  std::string path_;  // empty: stdout
  int fd_ = -1;
  bool regular_ = false;  // fdatasync and torn-write repair apply
  DeliveryListener* listener_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BatchPtr> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace logship::sinks
