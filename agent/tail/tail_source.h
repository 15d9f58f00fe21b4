#pragma once
// The tail source: finds the files matched by LOGSHIP_INPUT_PATHS, reads
// them from their checkpoints, follows appends, rotation (rename, copytruncate,
// deletion) and the open-file cap, frames their lines and hands records and
// resume positions to the pipeline (SourceOutput). It also owns the
// checkpoints: commit() stores the positions the delivery tracker found
// acknowledged.
//
//   oneshot: every matched file from its checkpoint to its end, one at a time
//   follow:  inotify + periodic rescan until the output says stop
//
// Files that a checkpoint names but the globs no longer find (a rotation
// while logship was down: kubelet renames 0.log to 0.log.<time>) are looked
// for by inode in their directory and read to their end; files gone for good
// are pruned from the checkpoints and, when unread bytes were lost with them,
// counted (logship_files_lost_total).
//
// Threading: run() on one thread (the worker); commit() on the delivery
// tracker's thread; for_each_file() and wake() from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/source.h"
#include "agent/core/stats.h"
#include "parsers/framing/framer.h"

namespace logship::tail {

/// Read size per syscall: large enough that syscalls are noise, small enough
/// to stay in L2 while the lines are framed and parsed.
inline constexpr size_t kChunkBytes = 256 << 10;
/// A line may exceed the record limit by its framing (CRI prefix, docker
/// JSON escaping) before the framer cuts the record itself.
inline constexpr size_t kLineSlack = 128 << 10;

struct Options {
  std::vector<std::string> input_paths;
  /// Framing of every file (format, record limit, timestamps, partial
  /// timeout, shared malformed-line counters); `path` is set per file.
  framing::FramerOptions framer;
  bool follow = false;
  std::chrono::milliseconds rescan_interval{1000};
  bool read_from_tail = false;  ///< for files present at start without a checkpoint
  size_t max_open_files = 1024;
  /// How long a renamed or deleted file stays open at its end, for lines its
  /// writer adds just after the rotation.
  std::chrono::milliseconds rotate_wait{5000};
  /// Files not to read at all (LOGSHIP_EXCLUDE_*): never opened, their
  /// checkpoints untouched. Null: none.
  std::function<bool(const std::string& path)> excluded;
  /// Called once each time an excluded file appears (for
  /// logship_files_excluded_total); `excluded` itself must be a pure test.
  std::function<void()> on_file_excluded;
  /// The clock for rotate waits and idle closes; null: steady_clock. Tests
  /// pass a fake one.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

/// Per-file counters for /metrics, for files currently open.
struct FileMetrics {
  std::string path;
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> records_read{0};
  int fd = -1;  ///< open while listed (entries are removed before the file is closed)
  std::atomic<uint64_t> read_offset{0};  ///< next byte to read
};

class TailSource final : public Source {
 public:
  TailSource(Options options, checkpoint::CheckpointStore& store, Stats& stats);
  ~TailSource() override;

  [[nodiscard]] Result<void> run(SourceOutput& out) override;
  [[nodiscard]] Result<void> commit(std::span<const FilePosition> positions) override;
  void wake() override;

  /// Follow mode (tail until stopped) or oneshot (to the end of each file).
  /// Set before run().
  void set_follow(bool follow);

  /// Calls `fn` for every open file's metrics. Thread-safe.
  void for_each_file(const std::function<void(const FileMetrics&)>& fn) const;

  /// Total bytes and files matched at the start of a oneshot run (progress).
  [[nodiscard]] uint64_t total_bytes() const { return total_bytes_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t total_files() const { return total_files_.load(std::memory_order_relaxed); }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> total_bytes_{0};
  std::atomic<uint64_t> total_files_{0};
};

}  // namespace logship::tail
