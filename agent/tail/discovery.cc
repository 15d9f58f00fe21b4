#include "agent/tail/discovery.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

namespace logship::tail {

Result<std::vector<DiscoveredFile>> discover(const std::vector<std::string>& globs) {
  std::vector<DiscoveredFile> out;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  for (const std::string& pattern : globs) {
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &g);
    if (rc == GLOB_NOSPACE) {
      ::globfree(&g);
      return fail(Errc::kIo, "glob " + pattern + ": out of memory");
    }
    std::vector<std::string> paths;
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    std::sort(paths.begin(), paths.end());
    for (std::string& path : paths) {
      struct stat st;
      // stat follows symlinks: a dangling link or a directory is not a log file.
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      const auto id = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
      if (!seen.insert(id).second) continue;
      out.push_back(DiscoveredFile{std::move(path), id.first, id.second,
                                   static_cast<uint64_t>(st.st_size)});
    }
  }
  return out;
}

}  // namespace logship::tail
