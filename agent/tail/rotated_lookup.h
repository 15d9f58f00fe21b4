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

namespace logship::tail {

/// Directories where a file last read as `path` may be now.
[[nodiscard]] std::vector<std::string> rotation_dirs(const std::string& path);

/// A regular file in one of `dirs` with this (dev, ino), or nullopt.
[[nodiscard]] std::optional<std::string> find_by_inode(const std::vector<std::string>& dirs, uint64_t dev,
                                                       uint64_t ino);

}  // namespace logship::tail
