#pragma once
// Finds the files to read: expands LOGSHIP_INPUT_PATHS globs and keeps each
// underlying file once (the kubelet's containers/ symlinks and the pods/
// files they point to are the same file; the first matching path wins, so
// list the path whose shape carries the metadata you want first).

#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/result.h"

namespace logship::tail {

struct DiscoveredFile {
  std::string path;  ///< as matched (a symlink stays a symlink path)
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
};

/// Expands `globs` in order (matches sorted within each glob); regular files
/// only, symlinks followed. Errors only for an unusable pattern.
[[nodiscard]] Result<std::vector<DiscoveredFile>> discover(const std::vector<std::string>& globs);

/// The directory part of a glob before its first wildcard: watched for new files.
[[nodiscard]] std::string glob_base_dir(const std::string& pattern);
/// The directory holding `path` ("." for a bare name).
[[nodiscard]] std::string parent_dir(const std::string& path);
/// Why `pattern` matches nothing, for the operator: its directory is
/// missing, not a directory, not searchable, or simply holds no match.
[[nodiscard]] std::string no_match_reason(const std::string& pattern);

}  // namespace logship::tail
