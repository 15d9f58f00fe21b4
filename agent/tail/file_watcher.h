#pragma once
// inotify for the tail source: watches the glob base directories (new,
// renamed, deleted files) and each open file (appends, rename, deletion of
// exactly that inode). Events only mark work; the tail source's rescan is the
// fallback for whatever inotify misses (overflow, network filesystems).
//
// Ownership and threading: owns the inotify fd; used by the tail source's
// thread only.

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace logship::tail {

using FileKey = std::pair<uint64_t, uint64_t>;  // (dev, ino)

class FileWatcher {
 public:
  FileWatcher();
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  [[nodiscard]] bool enabled() const { return fd_ >= 0; }
  /// Watches a directory for files appearing, moving or going (once per dir).
  void watch_dir(const std::string& dir);
  /// Watches one open file (through a symlink path: the target is watched).
  void watch_file(const std::string& path, const FileKey& key);
  void unwatch_file(const FileKey& key);

  /// What the drained events ask for.
  struct Events {
    bool rescan = false;          ///< a directory changed, a file moved or went, or events were lost
    bool all_dirty = false;       ///< events were lost: every open file may have new data
    std::vector<FileKey> dirty;   ///< files with new data (or renamed/deleted)
  };
  /// Waits until `until`, an event, or `wake_fd` becomes readable; returns
  /// the events drained (none on timeout or wake).
  [[nodiscard]] Events wait(int wake_fd, std::chrono::steady_clock::time_point until);

 private:
  void drain(Events& events);

  int fd_ = -1;
  std::unordered_map<int, FileKey> wd_files_;
  std::unordered_map<uint64_t, int> file_wds_;  // ino -> wd (for unwatch)
  std::set<int> dir_wds_;
  std::set<std::string> watched_dirs_;
};

}  // namespace logship::tail
