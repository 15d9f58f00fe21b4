#include "agent/pipeline/pipeline.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <set>
#include <unordered_map>

#include "agent/core/log.h"
#include "agent/core/time_format.h"
#include "agent/enrich/k8s_path.h"
#include "agent/enrich/record_encoder.h"
#include "agent/k8s/pod_cache.h"
#include "agent/tail/discovery.h"
#include "agent/tail/file_reader.h"

namespace logship::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using FileKey = std::pair<uint64_t, uint64_t>;  // (dev, ino)

constexpr std::string_view kLog = "pipeline";
// Read size per syscall. Large enough that syscalls are noise, small
// enough to stay in L2 while the lines are framed and parsed.
constexpr size_t kChunkBytes = 256 << 10;
// A line may exceed the record limit by its framing (CRI prefix, docker
// JSON escaping) before the framer cuts the record itself.
constexpr size_t kLineSlack = 128 << 10;
// Chunks read from one file before the others get a turn.
constexpr int kChunksPerTurn = 4;
// Longest sleep of the follow loop: bounds heartbeat gaps.
constexpr auto kMaxIdleWait = std::chrono::milliseconds(250);

void bump_peak(std::atomic<uint64_t>& peak, uint64_t value) {
  uint64_t cur = peak.load(std::memory_order_relaxed);
  while (value > cur && !peak.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

/// The directory part of a glob before its first wildcard: watched for new files.
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

}  // namespace

/// Reads files and turns them into batches. Runs on the thread that called
/// run_oneshot/run_follow.
class Pipeline::Worker final : public framing::FrameHandler {
 public:
  explicit Worker(Pipeline& p) : p_(p), encoder_(p.opt_.release) { batch_ = p_.new_batch(); }

  ~Worker() override {
    if (inotify_fd_ >= 0) ::close(inotify_fd_);
  }

  // ---- oneshot ------------------------------------------------------------

  /// Ships one file from its checkpoint to its end. False if it could not be read.
  bool ship_file(const tail::DiscoveredFile& found) {
    auto file = open_file(found, /*initial=*/true);
    if (!file) return file.error().sys_errno == ENOENT;  // rotated away since discovery: fine
    TailedFile& f = **file;
    while (!p_.has_failed() && !p_.stopping()) {
      const int n = read_turn(f, INT32_MAX);
      if (n < 0) return false;
      if (n == 0) break;
    }
    if (!p_.has_failed() && !p_.stopping()) {
      f.reader.finish(*f.framer, *this);
      refresh_identity(f);
      set_position(f, f.framer->safe_offset(f.reader.consumed()));
      p_.stats_.files_read.fetch_add(1, std::memory_order_relaxed);
    }
    // One file at a time: its buffers go before the next is opened.
    forget_metrics(f);
    p_.stats_.files_open.fetch_sub(1, std::memory_order_relaxed);
    current_ = nullptr;
    files_.erase(FileKey{f.identity.dev, f.identity.ino});
    return true;
  }

  // ---- stdin ----------------------------------------------------------------

  void ship_stdin() {
    TailedFile f(p_.opt_.max_record_bytes + kLineSlack);
    f.reader.attach_stream(STDIN_FILENO);
    f.path = "-";
    f.checkpointed = false;
    f.framer = framing::make_framer(p_.opt_.format, p_.opt_.max_record_bytes);
    f.metrics = std::make_shared<FileMetrics>();
    f.metrics->path = "-";
    f.metrics->fd = STDIN_FILENO;
    f.file_id = UINT32_MAX;
    {
      std::lock_guard lock(p_.metrics_mu_);
      p_.file_metrics_[f.file_id] = f.metrics;
    }
    while (!p_.stopping() && !p_.has_failed()) {
      heartbeat();
      // Wait for input, but never longer than the batch may age: an app that
      // writes a line now and then must still see it shipped promptly.
      auto wait = kMaxIdleWait;
      if (!batch_->empty()) {
        const auto age = Clock::now() - batch_started_;
        if (age >= p_.opt_.batch_timeout) {
          seal();
          continue;
        }
        wait = std::min<std::chrono::milliseconds>(
            wait, std::chrono::ceil<std::chrono::milliseconds>(p_.opt_.batch_timeout - age));
      }
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {p_.wake_fd_, POLLIN, 0}};
      const int ready = ::poll(fds, 2, static_cast<int>(wait.count()));
      if (ready <= 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const int n = read_turn(f, 1);
      if (n <= 0) break;  // end of input (or a read error, logged)
    }
    if (!p_.stopping() && !p_.has_failed()) f.reader.finish(*f.framer, *this);
    forget_metrics(f);
    seal();
  }

  // ---- follow ---------------------------------------------------------------

  void follow() {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      log::warn(kLog, "inotify unavailable; relying on rescans",
                {{"error", errno_message("inotify_init1")}});
    }
    for (const std::string& pattern : p_.opt_.input_paths) watch_dir(glob_base_dir(pattern));
    wait_for_pod_list();
    rescan(/*initial=*/true);
    auto next_rescan = Clock::now() + p_.opt_.rescan_interval;
    while (!p_.stopping() && !p_.has_failed()) {
      heartbeat();
      p_.refresh_readiness();
      auto now = Clock::now();
      if (rescan_requested_ || now >= next_rescan) {
        rescan(/*initial=*/false);
        rescan_requested_ = false;
        next_rescan = now + p_.opt_.rescan_interval;
      }
      bool progressed = false;
      for (auto it = files_.begin(); it != files_.end() && !p_.stopping();) {
        TailedFile& f = *it->second;
        if (f.dirty) {
          const int n = read_turn(f, kChunksPerTurn);
          if (n > 0) progressed = true;
          if (n == 0) on_eof(f);
          if (n < 0) f.dirty = false;  // read error: logged; retried at the next rescan
        }
        if (should_close(f, now)) {
          it = close_file(it);
        } else {
          ++it;
        }
      }
      if (!batch_->empty() && Clock::now() - batch_started_ >= p_.opt_.batch_timeout) seal();
      if (!progressed) wait_for_events(next_rescan);
    }
    // Stopping: whatever was read goes out with the drain. Unfinished
    // partial records stay unread (their checkpoint is before them).
    seal();
  }

  void on_frame(const framing::Frame& frame) override {
    if (batch_->record_count() == 0) batch_started_ = Clock::now();
    // Minimal adaptation to the Record-based encoder (the lead's pipeline
    // rewrite builds Records in the processor stage).
    Record record;
    record.ts = frame.ts;
    record.stream = frame.stream;
    record.payload = frame.payload;
    record.truncated = frame.truncated;
    record.commit_offset = frame.commit_offset;
    encoder_.encode(record, current_->source, *batch_);
    ++records_;
    current_->metrics->records_read.fetch_add(1, std::memory_order_relaxed);
    if (frame.truncated) p_.stats_.records_truncated.fetch_add(1, std::memory_order_relaxed);
    set_position(*current_, frame.commit_offset);
    if (batch_->data().size() >= p_.opt_.batch_max_bytes) seal();
  }

  /// Sends the current batch if it holds anything.
  void seal() {
    if (batch_->empty()) return;
    p_.stats_.records_read.fetch_add(records_, std::memory_order_relaxed);
    records_ = 0;
    last_file_ = UINT32_MAX;
    p_.send(std::move(batch_));
    batch_ = p_.new_batch();
  }

 private:
  struct TailedFile {
    TailedFile(size_t max_line) : reader(kChunkBytes, max_line) {}
    uint32_t file_id = 0;
    std::string path;
    tail::FileReader reader;
    framing::FramerPtr framer;
    enrich::SourceContext source;
    std::optional<enrich::K8sMeta> path_meta;
    std::shared_ptr<const k8s::PodMeta> pod;  // from the API, when known
    uint64_t pod_generation = 0;
    FileIdentity identity;
    bool rotated = false;  // the path no longer names this file
    bool deleted = false;  // no name at all any more
    bool dirty = true;     // may have unread data
    bool at_eof = false;
    bool checkpointed = true;  // false for standard input
    Clock::time_point eof_since;
    int wd = -1;
    std::shared_ptr<FileMetrics> metrics;
  };
  using FileMap = std::map<FileKey, std::unique_ptr<TailedFile>>;

  void heartbeat() {
    if (p_.opt_.heartbeat) p_.opt_.heartbeat();
  }

  /// Opens a file and positions it at its checkpoint (or per read_from).
  Result<TailedFile*> open_file(const tail::DiscoveredFile& found, bool initial) {
    auto f = std::make_unique<TailedFile>(p_.opt_.max_record_bytes + kLineSlack);
    if (auto r = f->reader.open(found.path); !r) {
      if (r.error().sys_errno != ENOENT) {
        log::warn(kLog, "cannot read file", {{"path", found.path}, {"error", r.error().message}});
        p_.stats_.file_errors.fetch_add(1, std::memory_order_relaxed);
      }
      return std::unexpected(r.error());
    }
    auto id = checkpoint::identify(f->reader.fd());
    if (!id) {
      log::warn(kLog, "cannot stat file", {{"path", found.path}, {"error", id.error().message}});
      return std::unexpected(id.error());
    }
    f->identity = *id;
    f->path = found.path;
    struct stat st {};
    const uint64_t size = ::fstat(f->reader.fd(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    const FileKey key{id->dev, id->ino};
    uint64_t start = 0;
    std::optional<checkpoint::Checkpoint> stored;
    if (auto c = closed_.find(key); c != closed_.end()) {
      stored = c->second;  // closed earlier in this run; may be ahead of the store
    } else {
      stored = p_.store_->find(id->dev, id->ino);
    }
    if (stored) {
      start = checkpoint::resume_offset(*stored, f->reader.fd(), f->identity, size);
      if (start == 0 && stored->offset != 0) {
        log::info(kLog, "file changed since its checkpoint; reading from the start", {{"path", found.path}});
      }
    } else if (initial && p_.opt_.read_from_tail) {
      start = size;
    }
    f->reader.seek(start);
    f->file_id = p_.add_file(found.path, f->identity);
    f->framer = framing::make_framer(p_.opt_.format, p_.opt_.max_record_bytes);
    f->path_meta = enrich::parse_k8s_path(found.path);
    // A file written to in the last minute may belong to a pod the API has
    // not told us about yet: worth a short wait. Old files never wait, so a
    // node full of dead pods' logs does not slow the start.
    const auto mtime = std::chrono::seconds(st.st_mtim.tv_sec);
    const auto now_wall = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    apply_pod_metadata(*f, /*may_wait=*/now_wall - mtime < std::chrono::seconds(60));
    f->metrics = std::make_shared<FileMetrics>();
    f->metrics->path = found.path;
    f->metrics->fd = f->reader.fd();
    f->metrics->read_offset.store(start, std::memory_order_relaxed);
    {
      std::lock_guard lock(p_.metrics_mu_);
      p_.file_metrics_[f->file_id] = f->metrics;
    }
    if (inotify_fd_ >= 0) {
      // Watching the file itself (through the symlink) catches appends,
      // renames and deletion of exactly this inode.
      f->wd = ::inotify_add_watch(inotify_fd_, found.path.c_str(),
                                  IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | IN_CLOSE_WRITE);
      if (f->wd >= 0) wd_files_[f->wd] = key;
      watch_dir(parent_dir(found.path));
    }
    p_.stats_.files_open.fetch_add(1, std::memory_order_relaxed);
    log::debug(kLog, "file opened", {{"path", found.path}, {"offset", start}});
    TailedFile* raw = f.get();
    files_[key] = std::move(f);
    return raw;
  }

  /// At start, give the pod watcher up to LOGSHIP_K8S_WAIT_MS to list the
  /// node's pods, so the files already there get their metadata from the
  /// first record on. An API that is down delays shipping by that bound only.
  void wait_for_pod_list() {
    if (!p_.opt_.pods || !p_.opt_.pods_synced) return;
    const auto deadline = Clock::now() + p_.opt_.pod_wait;
    while (!p_.opt_.pods_synced() && Clock::now() < deadline && !p_.stopping()) {
      heartbeat();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  /// Sets the file's k8s member and release from its path and, with the
  /// Kubernetes API on, from its pod's metadata.
  void apply_pod_metadata(TailedFile& f, bool may_wait) {
    if (!f.path_meta) return;
    std::shared_ptr<const k8s::PodMeta> pod;
    if (const k8s::PodCache* pods = p_.opt_.pods) {
      f.pod_generation = pods->generation();
      const bool wait = may_wait && p_.opt_.pod_wait.count() > 0 && p_.opt_.pods_synced && p_.opt_.pods_synced();
      pod = wait ? pods->wait_for(f.path_meta->namespace_name, f.path_meta->pod, Clock::now() + p_.opt_.pod_wait)
                 : pods->find(f.path_meta->namespace_name, f.path_meta->pod);
    }
    if (pod && pod == f.pod) return;
    f.pod = pod;
    if (!pod) {
      f.source.k8s_member = enrich::encode_k8s_member(*f.path_meta);
      f.source.release_member.clear();
      return;
    }
    const std::string& container = f.path_meta->container;
    enrich::PodDetails details;
    details.node = pod->node;
    details.pod_uid = pod->uid;
    if (auto it = pod->images.find(container); it != pod->images.end()) details.image = it->second;
    details.labels = pod->labels;
    details.annotations = pod->annotations;
    f.source.k8s_member = enrich::encode_k8s_member(*f.path_meta, &details);
    const std::string release = pod->release_for(container);
    f.source.release_member = release.empty() ? std::string() : enrich::encode_release_member(release);
  }

  /// Reads up to `max_chunks` chunks. Returns chunks read, 0 at end of
  /// file, -1 on a read error.
  int read_turn(TailedFile& f, int max_chunks) {
    current_ = &f;
    // Pod metadata changed (a pod appeared, its labels changed): cheap check.
    if (p_.opt_.pods && p_.opt_.pods->generation() != f.pod_generation) apply_pod_metadata(f, false);
    int chunks = 0;
    while (chunks < max_chunks && !p_.stopping()) {
      read_time_.clear();
      append_rfc3339_nano(read_time_, std::chrono::system_clock::now());
      f.framer->set_read_time(read_time_);
      auto n = f.reader.read_some(*f.framer, *this);
      if (!n) {
        log::warn(kLog, "read failed", {{"path", f.path}, {"error", n.error().message}});
        p_.stats_.file_errors.fetch_add(1, std::memory_order_relaxed);
        return -1;
      }
      if (*n == 0) break;
      ++chunks;
      f.at_eof = false;
      p_.stats_.bytes_read.fetch_add(*n, std::memory_order_relaxed);
      f.metrics->bytes_read.fetch_add(*n, std::memory_order_relaxed);
      f.metrics->read_offset.store(f.reader.read_offset(), std::memory_order_relaxed);
      set_position(f, f.framer->safe_offset(f.reader.consumed()));
    }
    return chunks;
  }

  /// At the end of what a file holds: notice truncation and deletion, and
  /// free the read buffer while the file is idle.
  void on_eof(TailedFile& f) {
    f.dirty = false;
    struct stat st;
    if (::fstat(f.reader.fd(), &st) == 0) {
      const uint64_t size = static_cast<uint64_t>(st.st_size);
      // Shorter than what was read, or (truncated and already regrown) the
      // first bytes differ from the fingerprint taken when it was opened.
      const checkpoint::Checkpoint here{f.path, f.identity, f.reader.read_offset()};
      if (size < f.reader.read_offset() ||
          checkpoint::resume_offset(here, f.reader.fd(), f.identity, size) != f.reader.read_offset()) {
        // copytruncate: what was before is gone; ship what is held, start over.
        p_.stats_.truncations.fetch_add(1, std::memory_order_relaxed);
        log::info(kLog, "file truncated; reading from the start",
                  {{"path", f.path}, {"size", size}, {"offset", f.reader.read_offset()}});
        current_ = &f;
        f.reader.finish(*f.framer, *this);
        f.framer = framing::make_framer(p_.opt_.format, p_.opt_.max_record_bytes);
        f.reader.seek(0);
        if (auto id = checkpoint::identify(f.reader.fd())) f.identity = *id;
        set_position(f, 0);
        f.dirty = true;
        return;
      }
      if (st.st_nlink == 0 && !f.deleted) {
        f.deleted = true;
        if (!f.rotated) {
          f.rotated = true;
          p_.stats_.rotations.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    refresh_identity(f);
    if (!f.at_eof) {
      f.at_eof = true;
      f.eof_since = Clock::now();
    }
    f.reader.release_buffer();
  }

  /// A file shorter than the fingerprint length when opened gets a longer
  /// fingerprint once it has grown.
  void refresh_identity(TailedFile& f) {
    if (f.identity.fingerprint_len >= checkpoint::kFingerprintBytes) return;
    if (f.reader.read_offset() <= f.identity.fingerprint_len) return;
    if (auto again = checkpoint::identify(f.reader.fd()); again && again->ino == f.identity.ino) {
      f.identity = *again;
    }
  }

  bool should_close(const TailedFile& f, Clock::time_point now) const {
    if (!f.at_eof || f.dirty) return false;
    // A renamed or deleted file is kept for late writes, then let go.
    if (f.rotated) return now - f.eof_since >= p_.opt_.rotate_wait;
    // Over the open-file cap, idle files make room for waiting ones; only
    // when nothing is half-read, so no partial record is lost.
    return over_cap_ && !f.reader.has_pending() && f.framer->safe_offset(f.reader.consumed()) == f.reader.consumed() &&
           now - f.eof_since >= std::chrono::milliseconds(100);
  }

  FileMap::iterator close_file(FileMap::iterator it) {
    TailedFile& f = *it->second;
    current_ = &f;
    const bool gone = f.deleted;
    if (f.rotated) {
      // Nothing more will come: ship a last line without newline and any
      // unfinished partial.
      f.reader.finish(*f.framer, *this);
    }
    const uint64_t offset = f.framer->safe_offset(f.reader.consumed());
    batch_->set_position(FilePosition{f.file_id, offset, f.identity, gone});
    last_file_ = UINT32_MAX;
    if (gone) {
      closed_.erase(it->first);
    } else {
      closed_[it->first] = checkpoint::Checkpoint{f.path, f.identity, offset};
    }
    if (f.wd >= 0 && inotify_fd_ >= 0) {
      ::inotify_rm_watch(inotify_fd_, f.wd);
      wd_files_.erase(f.wd);
    }
    forget_metrics(f);
    p_.stats_.files_open.fetch_sub(1, std::memory_order_relaxed);
    p_.stats_.files_closed.fetch_add(1, std::memory_order_relaxed);
    log::debug(kLog, gone ? "deleted file fully read; closed" : "file closed",
               {{"path", f.path}, {"offset", offset}});
    return files_.erase(it);
  }

  void forget_metrics(const TailedFile& f) {
    std::lock_guard lock(p_.metrics_mu_);
    p_.file_metrics_.erase(f.file_id);
  }

  /// Matches the globs against what is open: opens new files (up to the
  /// cap), marks files whose path now names another file as rotated.
  void rescan(bool initial) {
    auto found = tail::discover(p_.opt_.input_paths);
    if (!found) {
      log::warn(kLog, "rescan failed", {{"error", found.error().message}});
      return;
    }
    std::set<FileKey> seen;
    size_t waiting = 0;
    for (const auto& d : *found) {
      const FileKey key{d.dev, d.ino};
      seen.insert(key);
      auto it = files_.find(key);
      if (it != files_.end()) {
        it->second->dirty = true;  // catch appends inotify missed
        continue;
      }
      if (auto c = closed_.find(key); c != closed_.end() && c->second.offset == d.size) {
        continue;  // closed to make room and unchanged since
      }
      if (files_.size() >= p_.opt_.max_open_files) {
        ++waiting;
        continue;
      }
      (void)open_file(d, initial);
    }
    over_cap_ = waiting > 0;
    for (auto& [key, f] : files_) {
      if (!f->rotated && !seen.contains(key)) {
        f->rotated = true;
        f->dirty = true;
        p_.stats_.rotations.fetch_add(1, std::memory_order_relaxed);
        log::info(kLog, "file rotated away; reading it to its end", {{"path", f->path}});
      }
    }
  }

  void watch_dir(const std::string& dir) {
    if (inotify_fd_ < 0 || watched_dirs_.contains(dir)) return;
    const int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(),
                                       IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
    if (wd >= 0) {
      watched_dirs_.insert(dir);
      dir_wds_.insert(wd);
    }
  }

  /// Sleeps until inotify reports something, a stop, or the next deadline.
  void wait_for_events(Clock::time_point next_rescan) {
    auto until = std::min(next_rescan, Clock::now() + kMaxIdleWait);
    if (!batch_->empty()) until = std::min(until, batch_started_ + p_.opt_.batch_timeout);
    for (const auto& [key, f] : files_) {
      if (f->rotated && f->at_eof) until = std::min(until, f->eof_since + p_.opt_.rotate_wait);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    pollfd fds[2] = {{p_.wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    const int n = ::poll(fds, inotify_fd_ >= 0 ? 2 : 1, static_cast<int>(std::max<int64_t>(ms, 0)));
    if (n <= 0) return;
    if (inotify_fd_ >= 0 && (fds[1].revents & POLLIN)) drain_inotify();
  }

  void drain_inotify() {
    alignas(inotify_event) char buf[16384];
    for (;;) {
      const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
      if (n <= 0) return;
      for (ssize_t off = 0; off < n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        if (ev->mask & IN_Q_OVERFLOW) {
          rescan_requested_ = true;
          for (auto& [k, f] : files_) f->dirty = true;
          continue;
        }
        if (dir_wds_.contains(ev->wd)) {
          rescan_requested_ = true;
          continue;
        }
        auto it = wd_files_.find(ev->wd);
        if (it == wd_files_.end()) continue;
        if (auto f = files_.find(it->second); f != files_.end()) {
          f->second->dirty = true;
          if (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB)) rescan_requested_ = true;
        }
      }
    }
  }

  void set_position(TailedFile& f, uint64_t offset) {
    if (!f.checkpointed) return;
    if (offset == last_offset_ && f.file_id == last_file_) return;
    last_offset_ = offset;
    last_file_ = f.file_id;
    batch_->set_position(FilePosition{f.file_id, offset, f.identity, false});
  }

  Pipeline& p_;
  enrich::RecordEncoder encoder_;
  FileMap files_;
  std::map<FileKey, checkpoint::Checkpoint> closed_;  // closed in this run, not deleted
  std::unordered_map<int, FileKey> wd_files_;
  std::set<int> dir_wds_;
  std::set<std::string> watched_dirs_;
  int inotify_fd_ = -1;
  bool rescan_requested_ = false;
  bool over_cap_ = false;
  TailedFile* current_ = nullptr;
  uint32_t last_file_ = UINT32_MAX;
  uint64_t last_offset_ = 0;
  uint64_t records_ = 0;
  std::string read_time_;
  BatchPtr batch_;
  Clock::time_point batch_started_;
};

Pipeline::Pipeline(Options options, SinkPtr sink, std::unique_ptr<checkpoint::CheckpointStore> store)
    : opt_(std::move(options)), sink_(std::move(sink)), store_(std::move(store)) {
  // LOGSHIP_MEMORY_LIMIT bounds all data the agent holds, so the worker's
  // fixed buffers (read chunk, longest line, two partial joins, the batch
  // being built) come out of it; batches in flight get the rest.
  const size_t fixed = kChunkBytes + opt_.max_record_bytes + kLineSlack + 2 * opt_.max_record_bytes +
                       opt_.batch_max_bytes + opt_.batch_max_bytes / 4;
  batch_budget_ = opt_.memory_limit > 2 * fixed ? opt_.memory_limit - fixed : opt_.memory_limit / 2;
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Pipeline::~Pipeline() {
  {
    std::lock_guard lock(mu_);
    stop_ack_ = true;
    abandon_ = true;
  }
  ack_cv_.notify_all();
  if (ack_thread_.joinable()) ack_thread_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Pipeline::request_stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
  // Take the lock so a waiter cannot miss the flag between check and wait.
  { std::lock_guard lock(mu_); }
  worker_cv_.notify_all();
}

bool Pipeline::has_failed() {
  std::lock_guard lock(mu_);
  return failed_;
}

void Pipeline::set_ready(bool ready, const std::string& reason) {
  // Called with mu_ held; the callback only flips a flag in the admin server.
  if (ready == ready_) return;
  ready_ = ready;
  if (opt_.on_ready) opt_.on_ready(ready, reason);
}

void Pipeline::refresh_readiness() {
  const auto reason = sink_->unavailable_reason();
  std::lock_guard lock(mu_);
  if (!threads_started_) return;
  if (reason) {
    set_ready(false, *reason);
  } else if (delivery_failing_) {
    set_ready(false, "sink failing: " + delivery_error_);
  } else {
    set_ready(true, "");
  }
}

void Pipeline::for_each_file(const std::function<void(const FileMetrics&)>& fn) {
  std::lock_guard lock(metrics_mu_);
  for (const auto& [id, m] : file_metrics_) fn(*m);
}

Result<void> Pipeline::start_threads() {
  if (auto r = sink_->start(*this); !r) return std::unexpected(r.error());
  ack_thread_ = std::thread([this] { ack_loop(); });
  threads_started_ = true;
  std::lock_guard lock(mu_);
  set_ready(true, "");
  return {};
}

bool Pipeline::drain(Clock::time_point deadline) {
  {
    std::unique_lock lock(mu_);
    while (outstanding_ > 0) {
      if (opt_.heartbeat) opt_.heartbeat();
      const auto step = std::min(deadline, Clock::now() + std::chrono::milliseconds(500));
      worker_cv_.wait_until(lock, step, [&] { return outstanding_ == 0; });
      if (outstanding_ > 0 && Clock::now() >= deadline) return false;
    }
  }
  sink_->stop();
  {
    std::lock_guard lock(mu_);
    stop_ack_ = true;
  }
  ack_cv_.notify_all();
  ack_thread_.join();
  return true;
}

Result<void> Pipeline::run_oneshot() {
  if (auto r = start_threads(); !r) return r;
  auto files = tail::discover(opt_.input_paths);
  if (!files) {
    (void)drain(Clock::now());
    return std::unexpected(files.error());
  }
  log::info(kLog, "oneshot start", {{"files", static_cast<uint64_t>(files->size())}});
  bool read_errors = false;
  {
    Worker worker(*this);
    for (const auto& f : *files) {
      if (!worker.ship_file(f)) read_errors = true;
      if (has_failed() || stopping()) break;
    }
    worker.seal();
  }
  // Oneshot waits for its sink as long as the retry policy allows; a stop
  // request bounds the wait by the shutdown timeout.
  auto deadline = Clock::time_point::max();
  if (stopping()) deadline = Clock::now() + opt_.shutdown_timeout;
  if (!drain(deadline)) {
    (void)store_->flush();
    return fail(Errc::kUnavailable, "stopped before everything in flight was delivered");
  }
  // The ack thread flushed as it went; a last flush catches a failed one.
  if (auto r = store_->flush(); !r) {
    stats_.checkpoint_errors.fetch_add(1, std::memory_order_relaxed);
    return std::unexpected(r.error());
  }
  std::lock_guard lock(mu_);
  if (failed_) return fail(Errc::kUnavailable, "delivery failed: " + failure_);
  if (read_errors) return fail(Errc::kIo, "some files could not be read (see the log)");
  if (stopping()) return fail(Errc::kClosed, "stopped before every file was read to its end");
  return {};
}

Result<void> Pipeline::run_follow() {
  if (auto r = start_threads(); !r) return r;
  log::info(kLog, "following", {{"inputs", static_cast<uint64_t>(opt_.input_paths.size())}});
  {
    Worker worker(*this);
    worker.follow();
  }
  const auto deadline = Clock::now() + opt_.shutdown_timeout;
  log::info(kLog, "draining", {{"timeout_ms", static_cast<int64_t>(opt_.shutdown_timeout.count())}});
  const bool drained = drain(deadline);
  if (auto r = store_->flush(); !r) {
    stats_.checkpoint_errors.fetch_add(1, std::memory_order_relaxed);
    log::error(kLog, "checkpoint write failed", {{"error", r.error().message}});
  }
  if (!drained) {
    std::lock_guard lock(mu_);
    return fail(Errc::kUnavailable, "shutdown timeout: " + std::to_string(outstanding_) +
                                        " batches were not acknowledged and will be read again at the next start");
  }
  std::lock_guard lock(mu_);
  if (failed_) return fail(Errc::kUnavailable, "delivery failed: " + failure_);
  return {};
}

Result<void> Pipeline::run_stdin() {
  if (auto r = start_threads(); !r) return r;
  {
    Worker worker(*this);
    worker.ship_stdin();
  }
  auto deadline = Clock::time_point::max();
  if (stopping()) deadline = Clock::now() + opt_.shutdown_timeout;
  if (!drain(deadline)) {
    return fail(Errc::kUnavailable, "shutdown timeout: not everything read from standard input was delivered");
  }
  std::lock_guard lock(mu_);
  if (failed_) return fail(Errc::kUnavailable, "delivery failed: " + failure_);
  return {};
}

BatchPtr Pipeline::new_batch() {
  {
    std::lock_guard lock(mu_);
    if (!pool_.empty()) {
      BatchPtr b = std::move(pool_.back());
      pool_.pop_back();
      return b;
    }
  }
  auto b = std::make_unique<Batch>();
  // The last record may overshoot the size a little; a huge one reallocates.
  b->data().reserve(opt_.batch_max_bytes + opt_.batch_max_bytes / 4);
  return b;
}

bool Pipeline::send(BatchPtr batch) {
  const size_t charge = batch->memory_bytes();
  {
    std::unique_lock lock(mu_);
    // The files are the buffer: rather than hold more, the worker stops here
    // (and so stops reading) until acknowledgements free memory. With nothing
    // in flight a batch always goes, so one oversized batch cannot deadlock.
    for (;;) {
      if (failed_ || in_flight_bytes_ == 0 || in_flight_bytes_ + charge <= batch_budget_) break;
      if (stopping()) return false;  // never sent: its records are read again next start
      worker_cv_.wait_for(lock, std::chrono::milliseconds(500));
      lock.unlock();
      if (opt_.heartbeat) opt_.heartbeat();  // waiting on a slow sink is backpressure, not a hang
      refresh_readiness();                   // a sink failing now shows on /readyz
      lock.lock();
    }
    batch->seq = next_seq_++;
    batch->charged_bytes = charge;
    in_flight_bytes_ += charge;
    ++outstanding_;
    stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
    bump_peak(stats_.peak_in_flight_bytes, in_flight_bytes_);
  }
  stats_.batches_sent.fetch_add(1, std::memory_order_relaxed);
  batch->attempts = 1;
  sink_->send(std::move(batch));
  return true;
}

uint32_t Pipeline::add_file(const std::string& path, const FileIdentity& identity) {
  std::lock_guard lock(mu_);
  const FileKey key{identity.dev, identity.ino};
  if (auto it = file_ids_.find(key); it != file_ids_.end()) {
    files_[it->second] = FileEntry{path, identity};
    return it->second;
  }
  files_.push_back(FileEntry{path, identity});
  committed_.push_back(FilePosition{});
  const auto id = static_cast<uint32_t>(files_.size() - 1);
  file_ids_[key] = id;
  return id;
}

void Pipeline::on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) {
  Completion c;
  c.seq = batch->seq;
  c.status = status;
  c.error = std::string(error);
  {
    std::lock_guard lock(mu_);
    if (status == DeliveryStatus::kOk) {
      // Free the memory now, on the sink's thread, so reading resumes without
      // waiting for the checkpoint write on the ack thread.
      stats_.records_sent.fetch_add(batch->record_count(), std::memory_order_relaxed);
      stats_.bytes_sent.fetch_add(batch->data().size(), std::memory_order_relaxed);
      c.positions = batch->positions();
      in_flight_bytes_ -= batch->charged_bytes;
      stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
      batch->reset();
      if (pool_.size() < 4) pool_.push_back(std::move(batch));
      delivery_failing_ = false;
    } else {
      c.batch = std::move(batch);
      delivery_failing_ = true;
      delivery_error_ = std::string(error);
      set_ready(false, "sink failing: " + delivery_error_);
    }
    completions_.push_back(std::move(c));
  }
  if (status == DeliveryStatus::kOk) worker_cv_.notify_all();
  ack_cv_.notify_one();
}

void Pipeline::ack_loop() {
  std::mt19937_64 rng(std::random_device{}());
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = Clock::now();
    // Resend batches whose backoff has passed.
    while (!retries_.empty() && retries_.begin()->first <= now) {
      BatchPtr b = std::move(retries_.begin()->second);
      retries_.erase(retries_.begin());
      ++b->attempts;
      lock.unlock();
      stats_.sink_retries.fetch_add(1, std::memory_order_relaxed);
      sink_->send(std::move(b));
      lock.lock();
    }
    if (abandon_) return;
    if (completions_.empty()) {
      if (stop_ack_ && outstanding_ == 0) return;
      if (retries_.empty()) {
        ack_cv_.wait(lock);
      } else {
        ack_cv_.wait_until(lock, retries_.begin()->first);
      }
      continue;
    }
    std::deque<Completion> done;
    done.swap(completions_);
    std::vector<uint32_t> touched;
    for (Completion& c : done) {
      if (c.status == DeliveryStatus::kOk) {
        acked_.emplace(c.seq, std::move(c.positions));
        --outstanding_;
        continue;
      }
      Batch& b = *c.batch;
      stats_.sink_errors.fetch_add(1, std::memory_order_relaxed);
      const bool give_up = c.status == DeliveryStatus::kFatal || failed_ ||
                           (opt_.max_attempts != 0 && b.attempts >= opt_.max_attempts);
      if (give_up) {
        // Not committed: a rerun starts before this batch.
        if (!failed_) {
          failed_ = true;
          failure_ = c.error;
          // Nothing more will be committed; waiting retries are abandoned.
          for (auto& [when, waiting] : retries_) {
            in_flight_bytes_ -= waiting->charged_bytes;
            --outstanding_;
          }
          retries_.clear();
        }
        log::error(kLog, "batch not delivered",
                   {{"sink", sink_->name()}, {"error", c.error}, {"attempts", b.attempts}});
        in_flight_bytes_ -= b.charged_bytes;
        --outstanding_;
        continue;
      }
      // Exponential backoff with full jitter, so many agents retrying against
      // one recovering endpoint do not arrive in lockstep.
      const auto cap = std::min<int64_t>(opt_.retry_max.count(),
                                         opt_.retry_initial.count() << std::min<uint32_t>(b.attempts - 1, 20));
      const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, cap)(rng));
      log::warn(kLog, "batch delivery failed; will retry",
                {{"sink", sink_->name()}, {"error", c.error}, {"attempt", b.attempts},
                 {"retry_in_ms", static_cast<int64_t>(delay.count())}});
      retries_.emplace(Clock::now() + delay, std::move(c.batch));
    }
    commit_prefix(touched);
    stats_.in_flight_bytes.store(in_flight_bytes_, std::memory_order_relaxed);
    worker_cv_.notify_all();
    if (!touched.empty()) {
      lock.unlock();
      flush_checkpoints(touched);
      lock.lock();
    }
  }
}

void Pipeline::commit_prefix(std::vector<uint32_t>& touched) {
  // Only a contiguous run of acknowledged batches may move checkpoints:
  // batch N+1's positions assume batch N's records were delivered.
  while (!acked_.empty() && acked_.begin()->first == next_commit_seq_) {
    for (const FilePosition& pos : acked_.begin()->second) {
      committed_[pos.file_id] = pos;
      touched.push_back(pos.file_id);
    }
    acked_.erase(acked_.begin());
    ++next_commit_seq_;
  }
}

void Pipeline::flush_checkpoints(const std::vector<uint32_t>& touched) {
  for (uint32_t id : touched) {
    FilePosition pos;
    std::string path;
    {
      std::lock_guard lock(mu_);
      pos = committed_[id];
      path = files_[id].path;
    }
    if (pos.prune) {
      store_->erase(pos.identity.dev, pos.identity.ino);
      stats_.checkpoints_pruned.fetch_add(1, std::memory_order_relaxed);
    } else {
      store_->put(checkpoint::Checkpoint{path, pos.identity, pos.offset});
    }
  }
  if (auto r = store_->flush(); !r) {
    stats_.checkpoint_errors.fetch_add(1, std::memory_order_relaxed);
    log::error(kLog, "checkpoint write failed", {{"error", r.error().message}});
  }
}

}  // namespace logship::pipeline
