#pragma once
// Finds the files to read: expands LOGSHIP_INPUT_PATHS globs and keeps each
// underlying file once (the kubelet's containers/ symlinks and the pods/
// files they point to are the same file; the first matching path wins, so
// list the path whose shape carries the metadata you want first).

#include <cstdint>
#include <functional>
#include <set>
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

/// discover() for a source: drops excluded files and, on the first call
/// only, warns about each pattern that matches nothing (a typo, a missing or
/// unreadable directory; later, a pattern matching nothing for a moment,
/// between a rotation's rename and the new file, is normal).
///
/// `on_excluded` is called once per appearance of an excluded file: what
/// the previous call excluded is remembered while it stays, so "files never
/// opened" is counted without remembering every path ever seen (memory
/// bounded by the files present now). `excluded` must be a pure test of the
/// path (namespace, container), so its answer for a path cannot change.
/// Not thread-safe: one source thread calls it.
class FilteredDiscovery {
 public:
  using Excluded = std::function<bool(const std::string& path)>;
  FilteredDiscovery(std::vector<std::string> patterns, Excluded excluded, std::function<void()> on_excluded,
                    bool follow)
      : patterns_(std::move(patterns)),
        excluded_(std::move(excluded)),
        on_excluded_(std::move(on_excluded)),
        follow_(follow) {}

  [[nodiscard]] Result<std::vector<DiscoveredFile>> operator()();

 private:
  std::vector<std::string> patterns_;
  Excluded excluded_;
  std::function<void()> on_excluded_;
  bool follow_;
  bool discovered_once_ = false;
  std::set<std::string> excluded_now_;
};

}  // namespace logship::tail
