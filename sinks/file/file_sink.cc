#include "sinks/file/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

SinkPtr FileSink::to_file(std::string path) {
  return SinkPtr(new FileSink("file", std::move(path)));
}

SinkPtr FileSink::to_stdout() { return SinkPtr(new FileSink("stdout", "")); }

FileSink::FileSink(std::string name, std::string path) : name_(std::move(name)), path_(std::move(path)) {}

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

void FileSink::run() {
  std::deque<BatchPtr> group;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      group.swap(queue_);
    }
    std::string error;
    const DeliveryStatus status = write_group(group, error);
    for (BatchPtr& b : group) listener_->on_delivered(std::move(b), status, error);
    group.clear();
  }
}

DeliveryStatus FileSink::write_group(std::deque<BatchPtr>& group, std::string& error) {
  off_t before = -1;
  if (regular_) {
    struct stat st;
    if (::fstat(fd_, &st) == 0) before = st.st_size;
  }
  // Gather the group into one writev per IOV_MAX batches.
  std::vector<iovec> iov;
  iov.reserve(group.size());
  for (const BatchPtr& b : group) {
    if (!b->data().empty()) iov.push_back(iovec{const_cast<char*>(b->data().data()), b->data().size()});
  }
  size_t idx = 0;
  int err = 0;
  while (idx < iov.size()) {
    const int cnt = static_cast<int>(std::min<size_t>(iov.size() - idx, IOV_MAX));
    const ssize_t n = ::writev(fd_, &iov[idx], cnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
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
  if (err == 0 && regular_ && !iov.empty() && ::fdatasync(fd_) != 0) err = errno;
  if (err == 0) return DeliveryStatus::kOk;

  error = name_ + (path_.empty() ? "" : " " + path_) + ": " + std::strerror(err);
  if (before >= 0 && !path_.empty()) {
    // Take back a partial group so the retry does not leave a torn record.
    if (::ftruncate(fd_, before) != 0) {
      log::warn(kLog, "could not remove a partial write", {{"path", path_}, {"error", std::strerror(errno)}});
    }
  }
  return transient(err) ? DeliveryStatus::kRetry : DeliveryStatus::kFatal;
}

}  // namespace logship::sinks
