#include "agent/tail/rotated_lookup.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

#include "agent/tail/discovery.h"

namespace logship::tail {

std::vector<std::string> rotation_dirs(const std::string& path) {
  std::vector<std::string> dirs{parent_dir(path)};
  // The kubelet's containers/ entry is a symlink into pods/<...>/<container>/:
  // the rotated file sits beside the link's target, not beside the link.
  char target[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
  if (n > 0) {
    std::string t(target, static_cast<size_t>(n));
    if (t[0] != '/') t = parent_dir(path) + "/" + t;
    const std::string dir = parent_dir(t);
    if (dir != dirs[0]) dirs.push_back(dir);
  }
  return dirs;
}

std::optional<std::string> find_by_inode(const std::vector<std::string>& dirs, uint64_t dev, uint64_t ino) {
  for (const std::string& dir : dirs) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    std::optional<std::string> found;
    while (dirent* e = ::readdir(d)) {
      if (e->d_ino != ino) continue;  // d_ino saves a stat per entry
      const std::string p = dir + "/" + e->d_name;
      struct stat st;
      if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_dev) == dev &&
          static_cast<uint64_t>(st.st_ino) == ino) {
        found = p;
        break;
      }
    }
    ::closedir(d);
    if (found) return found;
  }
  return std::nullopt;
}

OrphanDecision settle_orphan(const checkpoint::Checkpoint& c, uint64_t offset, bool closed_here) {
  const uint64_t dev = c.identity.dev, ino = c.identity.ino;
  struct stat st;
  if (::stat(c.path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == dev &&
      static_cast<uint64_t>(st.st_ino) == ino) {
    return {};  // not rotated: not ours to settle
  }
  const auto where = find_by_inode(rotation_dirs(c.path), dev, ino);
  if (where) {
    if (closed_here) return {};  // read to its end after its rotation: pruned once gone
    const uint64_t size = ::stat(where->c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    if (size > offset) return OrphanDecision{OrphanDecision::Action::kRead, *where, 0};
    return OrphanDecision{OrphanDecision::Action::kPrune, {}, 0};
  }
  return OrphanDecision{OrphanDecision::Action::kPrune, {}, c.size > offset ? c.size - offset : 0};
}

}  // namespace logship::tail
