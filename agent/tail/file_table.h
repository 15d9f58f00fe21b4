#pragma once
// The tail source's table of files: a stable id per (device, inode) with the
// path it was read under and its last seen size, the per-file metrics of the
// files open now, and the commit of acknowledged positions into the
// checkpoint store.
//
// Threading: add/note_size/open/close from the tail source's thread;
// commit() from the delivery tracker's thread; for_each_open() from the
// admin thread. One mutex each for the table and the metrics.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/stats.h"
#include "agent/tail/tail_source.h"

namespace logship::tail {

class FileTable {
 public:
  using Key = std::pair<uint64_t, uint64_t>;  // (dev, ino)

  /// The id of file `key` (the same id when it comes back), now read as `path`.
  uint32_t add(const std::string& path, const Key& key, uint64_t size);
  void note_size(uint32_t id, uint64_t size);

  /// Lists an open file's metrics (for /metrics) until closed().
  void opened(uint32_t id, std::shared_ptr<FileMetrics> metrics);
  void closed(uint32_t id);
  void for_each_open(const std::function<void(const FileMetrics&)>& fn) const;

  /// Stores acknowledged positions (prunes the gone ones) and flushes.
  [[nodiscard]] Result<void> commit(std::span<const FilePosition> positions, checkpoint::CheckpointStore& store,
                                    Stats& stats);

 private:
  struct Entry {
    std::string path;
    uint64_t size = 0;  // last seen, for the lost-bytes warning
  };
  std::mutex mu_;
  std::vector<Entry> entries_;
  std::map<Key, uint32_t> ids_;
  mutable std::mutex metrics_mu_;
  std::map<uint32_t, std::shared_ptr<FileMetrics>> metrics_;  // open files only
};

}  // namespace logship::tail
