#include "agent/tail/file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "agent/core/log.h"
#include "agent/core/result.h"
#include "agent/tail/discovery.h"

namespace logship::tail {

FileWatcher::FileWatcher() {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) {
    log::warn("tail", "inotify unavailable; relying on rescans", {{"error", errno_message("inotify_init1")}});
  }
}

FileWatcher::~FileWatcher() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWatcher::watch_dir(const std::string& dir) {
  if (fd_ < 0 || watched_dirs_.contains(dir)) return;
  const int wd = ::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
  if (wd >= 0) {
    watched_dirs_.insert(dir);
    dir_wds_.insert(wd);
  }
}

void FileWatcher::watch_file(const std::string& path, const FileKey& key) {
  if (fd_ < 0) return;
  const int wd = ::inotify_add_watch(fd_, path.c_str(),
                                     IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | IN_CLOSE_WRITE);
  if (wd < 0) return;
  wd_files_[wd] = key;
  file_wds_[key.second] = wd;
  watch_dir(parent_dir(path));
}

void FileWatcher::unwatch_file(const FileKey& key) {
  auto it = file_wds_.find(key.second);
  if (it == file_wds_.end()) return;
  if (auto f = wd_files_.find(it->second); f != wd_files_.end() && f->second == key) {
    ::inotify_rm_watch(fd_, it->second);
    wd_files_.erase(f);
  }
  file_wds_.erase(it);
}

FileWatcher::Events FileWatcher::wait(int wake_fd, std::chrono::steady_clock::time_point until) {
  Events events;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
  pollfd fds[2] = {{wake_fd, POLLIN, 0}, {fd_, POLLIN, 0}};
  const int n = ::poll(fds, fd_ >= 0 ? 2 : 1, static_cast<int>(std::clamp<int64_t>(ms, 0, INT32_MAX)));
  if (n > 0 && fd_ >= 0 && (fds[1].revents & POLLIN)) drain(events);
  return events;
}

void FileWatcher::drain(Events& events) {
  alignas(inotify_event) char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        events.rescan = true;
        events.all_dirty = true;
        continue;
      }
      if (dir_wds_.contains(ev->wd)) {
        events.rescan = true;
        continue;
      }
      auto it = wd_files_.find(ev->wd);
      if (it == wd_files_.end()) continue;
      events.dirty.push_back(it->second);
      if (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB)) events.rescan = true;
    }
  }
}

}  // namespace logship::tail
