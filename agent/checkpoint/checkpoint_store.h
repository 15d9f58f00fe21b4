#pragma once
// Per-file read checkpoints in LOGSHIP_STATE_DIR, keyed on (device, inode)
// and checked against a fingerprint of the file's first bytes, so a reused
// inode is read from the start rather than from the old file's offset.
//
// The store is written atomically (temp file, fsync, rename, fsync of the
// directory) and only with offsets the sink has acknowledged: the pipeline
// calls put() from its acknowledgement path, never from the read path.
//
// Threading: all methods are safe from any thread (one internal mutex).
// flush() does file I/O; call it off the read path.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <map>
#include <utility>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/result.h"

namespace logship::checkpoint {

/// Bytes hashed for a file's fingerprint (fewer while the file is shorter).
inline constexpr uint32_t kFingerprintBytes = 1024;

struct Checkpoint {
  std::string path;  ///< the path it was read under (informational)
  FileIdentity identity;
  uint64_t offset = 0;
  /// File size when last seen (0: unknown, e.g. read from an older file).
  /// Tells how many bytes were unread if the file disappears.
  uint64_t size = 0;
};

/// Identity of an open file: fstat plus a fingerprint of its first bytes.
[[nodiscard]] Result<FileIdentity> identify(int fd);

/// Where to resume reading `fd` (whose identity is `current`) given a stored
/// checkpoint: its offset if it is the same file, unchanged at the start and
/// not shorter than the offset; otherwise 0.
[[nodiscard]] uint64_t resume_offset(const Checkpoint& stored, int fd, const FileIdentity& current,
                                     uint64_t file_size);

class CheckpointStore {
 public:
  /// Opens (creating if needed) the state directory, takes its lock so that
  /// two agents never share it, and loads the checkpoints. A corrupt file or
  /// an unknown version is an error naming the file, not a silent restart
  /// from zero. Fails too when a checkpoint cannot be written there (an
  /// unwritable or full directory), rather than shipping everything and then
  /// failing every commit.
  /// `reset` (--reset-checkpoints): the checkpoint file is moved aside
  /// (see reset_to()) under the lock and the store starts empty.
  [[nodiscard]] static Result<std::unique_ptr<CheckpointStore>> open(const std::string& dir,
                                                                      bool reset = false);
  ~CheckpointStore();

  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  [[nodiscard]] std::optional<Checkpoint> find(uint64_t dev, uint64_t ino) const;
  void put(const Checkpoint& checkpoint);
  void erase(uint64_t dev, uint64_t ino);
  [[nodiscard]] std::vector<Checkpoint> all() const;

  /// Writes the checkpoints if anything changed since the last flush.
  [[nodiscard]] Result<void> flush();

  const std::string& file_path() const { return file_; }
  /// Where open(dir, reset=true) moved the old checkpoint file; empty when
  /// there was none.
  const std::string& reset_to() const { return reset_to_; }

 private:
  CheckpointStore(std::string dir, int lock_fd);
  [[nodiscard]] Result<void> load();
  [[nodiscard]] Result<void> move_aside();
  [[nodiscard]] Result<void> check_writable() const;

  std::string dir_;
  std::string file_;
  int lock_fd_ = -1;
  mutable std::mutex mu_;
  std::map<std::pair<uint64_t, uint64_t>, Checkpoint> entries_;  // (dev, ino) -> checkpoint
  bool dirty_ = false;
  std::string reset_to_;
};

}  // namespace logship::checkpoint
