#include "sinks/file/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "agent/core/log.h"

namespace logship::sinks {
namespace {

constexpr std::string_view kLog = "sink.file";

/// Errors worth retrying: the disk may get space back, NFS may come back.
bool transient(int err) {
  return err == ENOSPC || err == EIO || err == EAGAIN || err == EDQUOT || err == EINTR ||
         err == ETIMEDOUT;
}

}  // namespace

SinkPtr FileSink::to_file(std::string path, Io io) {
  return SinkPtr(new FileSink("file", std::move(path), std::move(io)));
}

SinkPtr FileSink::to_file(std::string path) { return to_file(std::move(path), Io{}); }

SinkPtr FileSink::to_stdout() { return to_stdout(Io{}); }

SinkPtr FileSink::to_stdout(Io io) { return SinkPtr(new FileSink("stdout", "", std::move(io))); }

FileSink::Io FileSink::io_for_run(bool oneshot) {
  Io io;
  if (oneshot) io.give_up_after = std::chrono::seconds(5);
  return io;
}

FileSink::FileSink(std::string name, std::string path, Io io)
    : name_(std::move(name)), path_(std::move(path)), io_(std::move(io)) {}

FileSink::~FileSink() {
  stop();
  if (fd_ >= 0 && !path_.empty()) ::close(fd_);
}

Result<void> FileSink::start(DeliveryListener& listener) {
  listener_ = &listener;
  if (path_.empty()) {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return fail_errno("LOGSHIP_FILE_PATH: open " + path_);
  }
  struct stat st;
  regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  if (regular_ && !path_.empty()) {
    if (auto r = repair_torn_tail(); !r) return r;
  }
  writer_ = std::thread([this] { run(); });
  return {};
}

Result<void> FileSink::repair_torn_tail() {
  // A crash in the middle of a write can leave a record without its newline.
  // That batch was never acknowledged and will be shipped again, so the
  // fragment is removed rather than left to corrupt the next line.
  struct stat st;
  if (::fstat(fd_, &st) != 0) return fail_errno("fstat " + path_);
  off_t end = st.st_size;
  if (end == 0) return {};
  const int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0) return fail_errno("open " + path_);
  char buf[64 << 10];
  off_t keep = -1;
  for (off_t pos = end; pos > 0 && keep < 0;) {
    const off_t from = pos > static_cast<off_t>(sizeof buf) ? pos - static_cast<off_t>(sizeof buf) : 0;
    const ssize_t n = ::pread(rfd, buf, static_cast<size_t>(pos - from), from);
    if (n <= 0) break;
    for (ssize_t i = n - 1; i >= 0; --i) {
      if (buf[i] == '\n') {
        keep = from + i + 1;
        break;
      }
    }
    pos = from;
  }
  ::close(rfd);
  if (keep < 0) keep = 0;
  if (keep == end) return {};
  if (::ftruncate(fd_, keep) != 0) return fail_errno("truncate torn tail of " + path_);
  log::warn(kLog, "removed a partial record left by an interrupted write",
            {{"path", path_}, {"bytes", static_cast<int64_t>(end - keep)}});
  return {};
}

void FileSink::send(BatchPtr batch) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(batch));
  }
  cv_.notify_one();
}

void FileSink::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) writer_.join();
}

std::optional<std::string> FileSink::unavailable_reason() const {
  std::lock_guard lock(mu_);
  if (failing_.empty()) return std::nullopt;
  return failing_;
}

void FileSink::collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
  MetricSample s;
  s.name = "logship_file_sink_write_retries_total";
  s.help = "Writes or fdatasyncs of the file sink retried after a transient error (disk full, EIO).";
  s.value = static_cast<double>(write_retries_.load(std::memory_order_relaxed));
  emit(s);
}

void FileSink::set_failing(std::string reason) {
  std::lock_guard lock(mu_);
  failing_ = std::move(reason);
}

bool FileSink::wait_retry(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, delay, [&] { return stopping_; });
}

void FileSink::run() {
  std::deque<BatchPtr> group;
  // Once a batch is given up (stopped while failing, or a fatal error), no
  // later batch may be written: it would land before the given-up one.
  std::optional<DeliveryStatus> gave_up;
  std::string gave_up_error;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      group.swap(queue_);
    }
    std::string error;
    DeliveryStatus status;
    if (gave_up) {
      status = *gave_up;
      error = gave_up_error;
    } else {
      status = write_group(group, error);
      if (status != DeliveryStatus::kOk) {
        gave_up = status;
        gave_up_error = error;
      }
    }
    for (BatchPtr& b : group) listener_->on_delivered(std::move(b), status, error);
    group.clear();
  }
}

int FileSink::write_from(const std::deque<BatchPtr>& group, size_t& done) {
  std::vector<iovec> iov;
  iov.reserve(group.size());
  size_t skip = done;
  for (const BatchPtr& b : group) {
    const std::string& d = b->data();
    if (skip >= d.size()) {
      skip -= d.size();
      continue;
    }
    iov.push_back(iovec{const_cast<char*>(d.data()) + skip, d.size() - skip});
    skip = 0;
  }
  size_t idx = 0;
  while (idx < iov.size()) {
    const int cnt = static_cast<int>(std::min<size_t>(iov.size() - idx, IOV_MAX));
    const ssize_t n = io_.writev(fd_, &iov[idx], cnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
    size_t left = static_cast<size_t>(n);
    while (idx < iov.size() && left >= iov[idx].iov_len) {
      left -= iov[idx].iov_len;
      ++idx;
    }
    if (idx < iov.size() && left > 0) {
      iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
      iov[idx].iov_len -= left;
    }
  }
  return 0;
}

DeliveryStatus FileSink::write_group(std::deque<BatchPtr>& group, std::string& error) {
  off_t before = -1;
  if (regular_ && !path_.empty()) {
    struct stat st;
    if (::fstat(fd_, &st) == 0) before = st.st_size;
  }
  size_t total = 0;
  for (const BatchPtr& b : group) total += b->data().size();
  size_t done = 0;  // bytes of the group written so far
  auto take_back = [&] {
    // A group given up must not leave a torn record: it will be sent again.
    if (before >= 0 && done > 0 && ::ftruncate(fd_, before) != 0) {
      log::warn(kLog, "could not remove a partial write", {{"path", path_}, {"error", std::strerror(errno)}});
    }
  };
  auto delay = io_.retry_min;
  bool retried = false;
  std::chrono::steady_clock::time_point give_up_at{};
  for (;;) {
    int err = write_from(group, done);
    bool sync_failed = false;
    if (err == 0 && regular_ && total > 0 && io_.fdatasync(fd_) != 0) {
      err = errno;
      sync_failed = true;
    }
    if (err == 0) {
      if (retried) {
        set_failing("");
        log::info(kLog, "writing again after a transient error", {{"path", path_}});
      }
      error.clear();
      return DeliveryStatus::kOk;
    }
    error = name_ + (path_.empty() ? "" : " " + path_) + ": " + std::strerror(err);
    if (!transient(err)) {
      take_back();
      return DeliveryStatus::kFatal;
    }
    if (sync_failed && before >= 0) {
      // After a failed fdatasync the kernel may have dropped the dirty
      // pages while keeping the file size: write the whole group again.
      if (::ftruncate(fd_, before) == 0) done = 0;
    }
    if (!retried) {
      log::warn(kLog, "write failed; holding this and later batches and retrying",
                {{"path", path_}, {"error", std::strerror(err)}});
      retried = true;
      give_up_at = std::chrono::steady_clock::now() + io_.give_up_after;
    } else if (io_.give_up_after.count() > 0 && std::chrono::steady_clock::now() >= give_up_at) {
      take_back();
      set_failing("");
      error += " (gave up retrying)";
      return DeliveryStatus::kFatal;
    }
    set_failing(error + " (retrying)");
    write_retries_.fetch_add(1, std::memory_order_relaxed);
    if (!wait_retry(delay)) {
      take_back();
      set_failing("");
      return DeliveryStatus::kRetry;
    }
    delay = std::min(delay * 2, io_.retry_max);
  }
}

}  // namespace logship::sinks
