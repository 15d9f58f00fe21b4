#include "agent/tail/tail_source.h"

#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <set>

#include "agent/core/log.h"
#include "agent/core/time_format.h"
#include "agent/tail/discovery.h"
#include "agent/tail/file_reader.h"
#include "agent/tail/frame_record.h"
#include "agent/tail/file_table.h"
#include "agent/tail/file_watcher.h"
#include "agent/tail/rotated_lookup.h"

namespace logship::tail {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kLog = "tail";
// Chunks read from one file before the others get a turn.
constexpr int kChunksPerTurn = 4;
// Longest sleep of the follow loop: bounds heartbeat gaps.
constexpr auto kMaxIdleWait = std::chrono::milliseconds(250);

struct TailedFile {
  explicit TailedFile(size_t max_line) : reader(kChunkBytes, max_line) {}
  uint32_t id = 0;
  std::string path;
  FileReader reader;
  framing::FramerPtr framer;
  FileIdentity identity;
  bool rotated = false;  // the path no longer names this file
  bool deleted = false;  // no name at all any more
  bool dirty = true;     // may have unread data
  bool at_eof = false;
  Clock::time_point eof_since;
  std::shared_ptr<FileMetrics> metrics;
};

}  // namespace

class TailSource::Impl final : public framing::FrameHandler {
 public:
  Impl(TailSource& owner, Options o, checkpoint::CheckpointStore& store, Stats& stats)
      : owner_(owner), opt_(std::move(o)), store_(store), stats_(stats) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  ~Impl() override {
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  Clock::time_point now() const { return opt_.clock ? opt_.clock() : Clock::now(); }

  Result<void> run(SourceOutput& out) {
    out_ = &out;
    if (!opt_.follow) return run_oneshot();
    follow();
    return {};
  }

  // ---- oneshot ------------------------------------------------------------

  Result<void> run_oneshot() {
    auto files = discover_();
    if (!files) return std::unexpected(files.error());
    uint64_t bytes = 0;
    for (const auto& f : *files) bytes += f.size;
    owner_.total_bytes_.store(bytes, std::memory_order_relaxed);
    owner_.total_files_.store(files->size(), std::memory_order_relaxed);
    log::info(kLog, "oneshot start", {{"files", static_cast<uint64_t>(files->size())}, {"bytes", bytes}});
    bool read_errors = false;
    for (const auto& f : *files) {
      if (out_->should_stop()) break;
      if (!ship_file(f.path, f.dev, f.ino, /*rotated=*/false)) read_errors = true;
    }
    // Files rotated away while logship was down: their tails still count.
    if (!out_->should_stop()) recover_orphans(/*oneshot=*/true, *files);
    if (read_errors) return fail(Errc::kIo, "some files could not be read (see the log)");
    return {};
  }

  /// Ships one file from its checkpoint to its end. False if it could not be read.
  bool ship_file(const std::string& path, uint64_t dev, uint64_t ino, bool rotated) {
    auto file = open_file(path, dev, ino, /*initial=*/true);
    if (!file) return file.error().sys_errno == ENOENT;  // rotated away since discovery: fine
    TailedFile& f = **file;
    f.rotated = rotated;
    while (!out_->should_stop()) {
      out_->on_tick();
      const int n = read_turn(f, INT32_MAX);
      if (n < 0) break;
      if (n == 0) break;
    }
    const bool complete = !out_->should_stop();
    if (complete) stats_.files_read.fetch_add(1, std::memory_order_relaxed);
    // One file at a time: its buffers go before the next is opened. A
    // rotated file found by inode is done for good: prune its checkpoint.
    close_file(files_.find(FileKey{f.identity.dev, f.identity.ino}), /*flush=*/complete, /*prune=*/rotated && complete);
    return true;
  }

  // ---- follow ---------------------------------------------------------------

  void follow() {
    watcher_ = std::make_unique<FileWatcher>();
    for (const std::string& pattern : opt_.input_paths) watcher_->watch_dir(glob_base_dir(pattern));
    rescan(/*initial=*/true);
    auto next_rescan = Clock::now() + opt_.rescan_interval;
    while (!out_->should_stop()) {
      out_->on_tick();
      const auto t = Clock::now();
      if (rescan_requested_ || t >= next_rescan) {
        rescan(/*initial=*/false);
        rescan_requested_ = false;
        next_rescan = t + opt_.rescan_interval;
      }
      bool progressed = false;
      for (auto it = files_.begin(); it != files_.end() && !out_->should_stop();) {
        TailedFile& f = *it->second;
        if (f.dirty) {
          const int n = read_turn(f, kChunksPerTurn);
          if (n > 0) progressed = true;
          if (n == 0) on_eof(f);
          if (n < 0) f.dirty = false;  // read error: logged; retried at the next rescan
        }
        expire_partials(f, t);
        if (should_close(f, now())) {
          it = close_file(it, /*flush=*/f.rotated, f.deleted);
        } else {
          ++it;
        }
      }
      if (!progressed) wait_for_events(next_rescan);
    }
    // Stopping: unfinished partial records stay unread (their checkpoint is
    // before them); the pipeline drains what was emitted.
    for (auto& [key, f] : files_) table_.closed(f->id);
  }

  // ---- FrameHandler ---------------------------------------------------------

  void on_frame(const framing::Frame& frame) override {
    Record r = to_record(frame);
    current_->metrics->records_read.fetch_add(1, std::memory_order_relaxed);
    out_->on_record(current_->id, r);
  }

  // ---- commit (tracker thread) ----------------------------------------------

  Result<void> commit(std::span<const FilePosition> positions) { return table_.commit(positions, store_, stats_); }

  void set_follow(bool follow) { opt_.follow = follow; }

  void wake() {
    if (wake_fd_ < 0) return;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  void for_each_file(const std::function<void(const FileMetrics&)>& fn) const { table_.for_each_open(fn); }

 private:
  using FileMap = std::map<FileKey, std::unique_ptr<TailedFile>>;
  /// Opens a file and positions it at its checkpoint (or per read_from).
  Result<TailedFile*> open_file(const std::string& path, uint64_t dev, uint64_t ino, bool initial) {
    auto f = std::make_unique<TailedFile>(opt_.framer.max_record_bytes + kLineSlack);
    if (auto r = f->reader.open(path); !r) {
      if (r.error().sys_errno != ENOENT) {
        log::warn(kLog, "cannot read file", {{"path", path}, {"error", r.error().message}});
        stats_.file_errors.fetch_add(1, std::memory_order_relaxed);
      }
      return std::unexpected(r.error());
    }
    auto id = checkpoint::identify(f->reader.fd());
    if (!id) {
      log::warn(kLog, "cannot stat file", {{"path", path}, {"error", id.error().message}});
      return std::unexpected(id.error());
    }
    if (id->dev != dev || id->ino != ino) return std::unexpected(Error{Errc::kIo, path + ": replaced since discovery", ENOENT});
    f->identity = *id;
    f->path = path;
    struct stat st {};
    const uint64_t size = ::fstat(f->reader.fd(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    const FileKey key{id->dev, id->ino};
    uint64_t start = 0;
    std::optional<checkpoint::Checkpoint> stored;
    if (auto c = closed_.find(key); c != closed_.end()) {
      stored = c->second;  // closed earlier in this run; may be ahead of the store
    } else {
      stored = store_.find(id->dev, id->ino);
    }
    if (stored) {
      start = checkpoint::resume_offset(*stored, f->reader.fd(), f->identity, size);
      if (start == 0 && stored->offset != 0) {
        log::info(kLog, "file changed since its checkpoint; reading from the start", {{"path", path}});
      }
    } else if (initial && opt_.read_from_tail) {
      start = size;
    }
    f->id = table_.add(path, key, size);
    framing::FramerOptions fo = opt_.framer;
    fo.path = path;
    f->framer = framing::make_framer(fo);
    // Resuming inside the file: the bytes before the checkpoint tell the
    // framer which streams were mid-record there (their continuation lines
    // were delivered with the record). Without them every stream starts fresh.
    if (auto r = f->reader.resume_at(start, *f->framer); !r) {
      log::warn(kLog, "cannot read before the checkpoint", {{"path", path}, {"error", r.error().message}});
    }
    f->metrics = std::make_shared<FileMetrics>();
    f->metrics->path = path;
    f->metrics->fd = f->reader.fd();
    f->metrics->read_offset.store(start, std::memory_order_relaxed);
    table_.opened(f->id, f->metrics);
    if (watcher_) watcher_->watch_file(path, key);
    stats_.files_open.fetch_add(1, std::memory_order_relaxed);
    log::debug(kLog, "file opened", {{"path", path}, {"offset", start}});
    // A file written to in the last minute may belong to a pod the API has
    // not told us about yet: worth a short wait. Old files never wait.
    const auto mtime = std::chrono::seconds(st.st_mtim.tv_sec);
    const auto now_wall = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    out_->on_source_opened(f->id, path, now_wall - mtime < std::chrono::seconds(60));
    out_->on_position(FilePosition{f->id, start, f->identity, false});
    TailedFile* raw = f.get();
    files_[key] = std::move(f);
    return raw;
  }

  /// Reads up to `max_chunks` chunks. Returns chunks read, 0 at end of
  /// file, -1 on a read error.
  int read_turn(TailedFile& f, int max_chunks) {
    current_ = &f;
    int chunks = 0;
    while (chunks < max_chunks && !out_->should_stop()) {
      read_time_.clear();
      append_rfc3339_nano(read_time_, std::chrono::system_clock::now());
      f.framer->set_read_time(read_time_);
      auto n = f.reader.read_some(*f.framer, *this);
      if (!n) {
        log::warn(kLog, "read failed", {{"path", f.path}, {"error", n.error().message}});
        stats_.file_errors.fetch_add(1, std::memory_order_relaxed);
        return -1;
      }
      if (*n == 0) break;
      ++chunks;
      f.at_eof = false;
      stats_.bytes_read.fetch_add(*n, std::memory_order_relaxed);
      f.metrics->bytes_read.fetch_add(*n, std::memory_order_relaxed);
      f.metrics->read_offset.store(f.reader.read_offset(), std::memory_order_relaxed);
      position(f);
    }
    return chunks;
  }

  void position(TailedFile& f, bool prune = false) {
    out_->on_position(FilePosition{f.id, f.framer->safe_offset(f.reader.consumed()), f.identity, prune});
  }

  /// A partial line (docker chunk without newline, CRI P without F) that has
  /// waited LOGSHIP_PARTIAL_TIMEOUT_MS ships as it is, so it does not hold the
  /// file's checkpoint back.
  void expire_partials(TailedFile& f, Clock::time_point now) {
    const auto deadline = f.framer->partial_deadline();
    if (!deadline || *deadline > now) return;
    current_ = &f;
    if (f.framer->expire(now, f.reader.consumed(), *this) > 0) position(f);
  }

  /// At the end of what a file holds: notice truncation and deletion, and
  /// free the read buffer while the file is idle.
  void on_eof(TailedFile& f) {
    f.dirty = false;
    struct stat st;
    if (::fstat(f.reader.fd(), &st) == 0) {
      const uint64_t size = static_cast<uint64_t>(st.st_size);
      table_.note_size(f.id, size);
      // Shorter than what was read, or (truncated and already regrown) the
      // first bytes differ from the fingerprint taken when it was opened.
      const checkpoint::Checkpoint here{f.path, f.identity, f.reader.read_offset(), size};
      if (size < f.reader.read_offset() ||
          checkpoint::resume_offset(here, f.reader.fd(), f.identity, size) != f.reader.read_offset()) {
        // copytruncate: what was before is gone; ship what is held, start over.
        stats_.truncations.fetch_add(1, std::memory_order_relaxed);
        log::info(kLog, "file truncated; reading from the start",
                  {{"path", f.path}, {"size", size}, {"offset", f.reader.read_offset()}});
        current_ = &f;
        f.reader.finish(*f.framer, *this);
        framing::FramerOptions fo = opt_.framer;
        fo.path = f.path;
        f.framer = framing::make_framer(fo);
        f.reader.seek(0);
        if (auto id = checkpoint::identify(f.reader.fd())) f.identity = *id;
        out_->on_position(FilePosition{f.id, 0, f.identity, false});
        f.dirty = true;
        return;
      }
      if (st.st_nlink == 0 && !f.deleted) {
        f.deleted = true;
        if (!f.rotated) {
          f.rotated = true;
          stats_.rotations.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    refresh_identity(f);
    if (!f.at_eof) {
      f.at_eof = true;
      f.eof_since = now();
    }
    f.reader.release_buffer();
  }

  /// A file shorter than the fingerprint length when opened gets a longer
  /// fingerprint once it has grown.
  void refresh_identity(TailedFile& f) {
    if (f.identity.fingerprint_len >= checkpoint::kFingerprintBytes) return;
    if (f.reader.read_offset() <= f.identity.fingerprint_len) return;
    if (auto again = checkpoint::identify(f.reader.fd()); again && again->ino == f.identity.ino) f.identity = *again;
  }

  bool should_close(const TailedFile& f, Clock::time_point now) const {
    if (!f.at_eof || f.dirty) return false;
    // A renamed or deleted file is kept for late writes, then let go.
    if (f.rotated) return now - f.eof_since >= opt_.rotate_wait;
    // Over the open-file cap, idle files make room for waiting ones; only
    // when nothing is half-read, so no partial record is lost.
    return over_cap_ && !f.reader.has_pending() && f.framer->safe_offset(f.reader.consumed()) == f.reader.consumed() &&
           now - f.eof_since >= std::chrono::milliseconds(100);
  }

  /// Closes a file. `flush`: nothing more will come, so a last line without
  /// newline and any unfinished partial are shipped. `prune`: the file is
  /// gone (or done for good): its checkpoint goes once this is delivered.
  FileMap::iterator close_file(FileMap::iterator it, bool flush, bool prune) {
    TailedFile& f = *it->second;
    current_ = &f;
    if (flush) f.reader.finish(*f.framer, *this);
    const uint64_t offset = f.framer->safe_offset(f.reader.consumed());
    const FilePosition final_position{f.id, offset, f.identity, prune};
    out_->on_source_closed(f.id, final_position);
    if (prune) {
      closed_.erase(it->first);
    } else {
      closed_[it->first] = checkpoint::Checkpoint{f.path, f.identity, offset, offset};
    }
    if (watcher_) watcher_->unwatch_file(it->first);
    table_.closed(f.id);
    stats_.files_open.fetch_sub(1, std::memory_order_relaxed);
    stats_.files_closed.fetch_add(1, std::memory_order_relaxed);
    log::debug(kLog, prune ? "file fully read; closed and checkpoint pruned" : "file closed",
               {{"path", f.path}, {"offset", offset}});
    current_ = nullptr;
    return files_.erase(it);
  }

  /// Matches the globs against what is open: opens new files (up to the
  /// cap), marks files whose path now names another file as rotated, and
  /// settles checkpoints whose file no glob finds.
  void rescan(bool initial) {
    auto found = discover_();
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
      if (files_.size() >= opt_.max_open_files) {
        ++waiting;
        continue;
      }
      (void)open_file(d.path, d.dev, d.ino, initial);
    }
    over_cap_ = waiting > 0;
    for (auto& [key, f] : files_) {
      if (!f->rotated && !seen.contains(key)) {
        f->rotated = true;
        f->dirty = true;
        stats_.rotations.fetch_add(1, std::memory_order_relaxed);
        log::info(kLog, "file rotated away; reading it to its end", {{"path", f->path}});
      }
    }
    recover_orphans(/*oneshot=*/false, *found);
  }

  /// Checkpoints whose file the globs do not find: a file renamed while
  /// logship was down (or closed after its rotation) is looked for by inode
  /// and read to its end; a file gone for good is pruned, and counted as
  /// lost when it held bytes nobody read.
  void recover_orphans(bool oneshot, const std::vector<DiscoveredFile>& found) {
    std::set<FileKey> matched;
    for (const auto& d : found) matched.insert(FileKey{d.dev, d.ino});
    for (const checkpoint::Checkpoint& c : store_.all()) {
      const FileKey key{c.identity.dev, c.identity.ino};
      if (matched.contains(key) || files_.contains(key)) continue;
      if (opt_.excluded && opt_.excluded(c.path)) continue;
      // What this run already read of it may be ahead of the store.
      const auto closed = closed_.find(key);
      const uint64_t offset = closed != closed_.end() ? std::max(c.offset, closed->second.offset) : c.offset;
      const OrphanDecision d = settle_orphan(c, offset, closed != closed_.end());
      if (d.action == OrphanDecision::Action::kKeep) continue;
      if (d.action == OrphanDecision::Action::kRead) {
        log::info(kLog, "reading a rotated file to its end", {{"path", d.path}, {"was", c.path}, {"offset", offset}});
        if (oneshot) {
          (void)ship_file(d.path, key.first, key.second, /*rotated=*/true);
        } else if (auto f = open_file(d.path, key.first, key.second, /*initial=*/false)) {
          (*f)->rotated = true;
          (*f)->dirty = true;
        }
        continue;
      }
      if (d.lost_bytes > 0) {
        stats_.files_lost.fetch_add(1, std::memory_order_relaxed);
        log::warn(kLog, "file deleted before it was read to its end", {{"path", c.path}, {"unread_bytes", d.lost_bytes}});
      }
      store_.erase(key.first, key.second);
      closed_.erase(key);
      pruned_any_ = true;
      stats_.checkpoints_pruned.fetch_add(1, std::memory_order_relaxed);
    }
    if (pruned_any_) {
      pruned_any_ = false;
      if (auto r = store_.flush(); !r) {
        stats_.checkpoint_errors.fetch_add(1, std::memory_order_relaxed);
        log::error(kLog, "checkpoint write failed", {{"error", r.error().message}});
      }
    }
  }

  /// Sleeps until inotify reports something, a stop, or the next deadline.
  void wait_for_events(Clock::time_point next_rescan) {
    const auto t = Clock::now();
    auto until = std::min({next_rescan, t + kMaxIdleWait, out_->next_deadline()});
    for (const auto& [key, f] : files_) {
      // eof_since is on the (possibly fake) clock of now(): wait the rest.
      if (f->rotated && f->at_eof) until = std::min(until, t + (f->eof_since + opt_.rotate_wait - now()));
      if (auto d = f->framer->partial_deadline()) until = std::min(until, *d);
    }
    const FileWatcher::Events ev = watcher_->wait(wake_fd_, until);
    if (ev.rescan) rescan_requested_ = true;
    if (ev.all_dirty) {
      for (auto& [k, f] : files_) f->dirty = true;
    }
    for (const FileKey& key : ev.dirty) {
      if (auto f = files_.find(key); f != files_.end()) f->second->dirty = true;
    }
  }

  TailSource& owner_;
  Options opt_;
  checkpoint::CheckpointStore& store_;
  Stats& stats_;
  SourceOutput* out_ = nullptr;
  std::unique_ptr<FileWatcher> watcher_;
  int wake_fd_ = -1;
  FileMap files_;
  std::map<FileKey, checkpoint::Checkpoint> closed_;  // closed in this run, not pruned
  FilteredDiscovery discover_{opt_.input_paths, opt_.excluded, opt_.on_file_excluded, opt_.follow};
  bool rescan_requested_ = false;
  bool over_cap_ = false;
  bool pruned_any_ = false;
  TailedFile* current_ = nullptr;
  std::string read_time_;

  FileTable table_;
};

TailSource::TailSource(Options options, checkpoint::CheckpointStore& store, Stats& stats)
    : impl_(std::make_unique<Impl>(*this, std::move(options), store, stats)) {}
TailSource::~TailSource() = default;
Result<void> TailSource::run(SourceOutput& out) { return impl_->run(out); }
Result<void> TailSource::commit(std::span<const FilePosition> positions) { return impl_->commit(positions); }
void TailSource::wake() { impl_->wake(); }
void TailSource::set_follow(bool follow) { impl_->set_follow(follow); }
void TailSource::for_each_file(const std::function<void(const FileMetrics&)>& fn) const { impl_->for_each_file(fn); }

}  // namespace logship::tail
