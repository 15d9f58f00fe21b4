#include "agent/tail/discovery.h"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <utility>

#include "agent/core/log.h"

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

std::string glob_base_dir(const std::string& pattern) {
  const size_t wild = pattern.find_first_of("*?[{");
  const std::string head = wild == std::string::npos ? pattern : pattern.substr(0, wild);
  const size_t slash = head.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : head.substr(0, slash);
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string no_match_reason(const std::string& pattern) {
  const std::string dir = glob_base_dir(pattern);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return errno_message("directory " + dir);
  if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
  if (::access(dir.c_str(), R_OK | X_OK) != 0) return errno_message("directory " + dir);
  return "no file matches";
}

Result<std::vector<DiscoveredFile>> FilteredDiscovery::operator()() {
  auto found = discover(patterns_);
  if (!found) return found;
  if (excluded_) {
    std::set<std::string> excluded_now;
    std::erase_if(*found, [&](const DiscoveredFile& d) {
      if (excluded_now_.contains(d.path)) {
        excluded_now.insert(d.path);
        return true;
      }
      if (!excluded_(d.path)) return false;
      excluded_now.insert(d.path);
      if (on_excluded_) on_excluded_();
      return true;
    });
    excluded_now_ = std::move(excluded_now);
  }
  if (discovered_once_) return found;
  discovered_once_ = true;
  constexpr std::string_view kLog = "tail";
  for (const std::string& pattern : patterns_) {
    const bool matched = std::any_of(found->begin(), found->end(), [&](const DiscoveredFile& d) {
      return d.path.starts_with(glob_base_dir(pattern));
    });
    if (matched) continue;
    log::warn(kLog, "input pattern matches no file",
              {{"key", "LOGSHIP_INPUT_PATHS"}, {"pattern", pattern}, {"reason", no_match_reason(pattern)}});
  }
  if (!follow_ && found->empty()) {
    log::warn(kLog, "no input file matched; nothing to ship", {{"key", "LOGSHIP_INPUT_PATHS"}});
  }
  return found;
}

}  // namespace logship::tail
