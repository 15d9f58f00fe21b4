#pragma once
// Finding a checkpointed file that the globs no longer match: a rename
// rotation while logship was down (kubelet: 0.log -> 0.log.<time> in the same
// directory; logrotate: .1 or dated names) leaves the file's unread tail on
// disk under a name nobody tails. Looked for by (device, inode) in the
// directory of the checkpoint's path and, for a /var/log/containers symlink,
// in the directory of its target.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"

namespace logship::tail {

/// Directories where a file last read as `path` may be now.
[[nodiscard]] std::vector<std::string> rotation_dirs(const std::string& path);

/// A regular file in one of `dirs` with this (dev, ino), or nullopt.
[[nodiscard]] std::optional<std::string> find_by_inode(const std::vector<std::string>& dirs, uint64_t dev,
                                                       uint64_t ino);

/// What to do with a checkpoint whose file the globs did not find.
struct OrphanDecision {
  enum class Action {
    kKeep,   ///< its path still names it (excluded, or a configuration change), or it was closed here
             ///< after its rotation and is still on disk: leave it
    kRead,   ///< found under another name with unread bytes: read it to its end
    kPrune,  ///< gone (or fully read under another name): drop the checkpoint
  };
  Action action = Action::kKeep;
  std::string path;          ///< kRead: where it is now
  uint64_t lost_bytes = 0;   ///< kPrune: bytes it held beyond `offset` as far as the checkpoint knew
};

/// Decides for checkpoint `c`; `offset` is what this run has read of it
/// (at least c.offset); `closed_here`: this run closed it after a rotation.
[[nodiscard]] OrphanDecision settle_orphan(const checkpoint::Checkpoint& c, uint64_t offset, bool closed_here);

}  // namespace logship::tail
