#include "agent/tail/file_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "parsers/json/payload_parser.h"

namespace logship::tail {

FileReader::FileReader(size_t chunk_bytes, size_t max_line_bytes)
    : chunk_(chunk_bytes), max_line_(max_line_bytes < chunk_bytes ? chunk_bytes : max_line_bytes) {}

FileReader::~FileReader() {
  if (fd_ >= 0 && !stream_) ::close(fd_);
}

void FileReader::attach_stream(int fd) {
  if (fd_ >= 0 && !stream_) ::close(fd_);
  fd_ = fd;
  stream_ = true;
  seek(0);
}

Result<void> FileReader::open(const std::string& path) {
  if (fd_ >= 0 && !stream_) ::close(fd_);
  stream_ = false;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return fail_errno("open " + path);
  seek(0);
  return {};
}

void FileReader::seek(uint64_t offset) {
  head_ = scan_ = tail_ = 0;
  base_ = read_offset_ = consumed_ = offset;
  skipping_ = false;
}

Result<void> FileReader::resume_at(uint64_t offset, framing::Framer& framer) {
  seek(offset);
  if (stream_ || offset == 0) return {};
  const size_t want = offset < framing::kResumeLookback ? static_cast<size_t>(offset) : framing::kResumeLookback;
  std::string before(want, '\0');
  size_t got = 0;
  while (got < want) {
    const ssize_t n = ::pread(fd_, before.data() + got, want - got, static_cast<off_t>(offset - want + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read before the checkpoint");
    if (n == 0) break;  // the file shrank: the caller's resume_offset checks that
    got += static_cast<size_t>(n);
  }
  if (got < want) return {};  // nothing trustworthy: every stream starts fresh
  framer.resume_after(before, want == offset, max_line_);
  return {};
}

void FileReader::release_buffer() {
  if (has_pending() || !buf_) return;
  buf_.reset();
  cap_ = 0;
  base_ = read_offset_;
  head_ = scan_ = tail_ = 0;
}

void FileReader::make_room() {
  if (!buf_) {
    cap_ = chunk_;
    buf_.reset(new char[cap_ + json::kPadding]);
  }
  if (head_ > 0 && tail_ + chunk_ / 2 > cap_) {
    // Move the unfinished line to the front.
    std::memmove(buf_.get(), buf_.get() + head_, tail_ - head_);
    base_ += head_;
    scan_ -= head_;
    tail_ -= head_;
    head_ = 0;
  }
  if (tail_ == cap_ && cap_ < max_line_) {
    // One line fills the buffer: grow toward the line limit.
    const size_t cap = cap_ * 2 < max_line_ ? cap_ * 2 : max_line_;
    std::unique_ptr<char[]> bigger(new char[cap + json::kPadding]);
    std::memcpy(bigger.get(), buf_.get(), tail_);
    buf_ = std::move(bigger);
    cap_ = cap;
  }
}

Result<size_t> FileReader::read_some(framing::Framer& framer, framing::FrameHandler& handler) {
  make_room();
  if (tail_ == cap_) {
    // A line reached max_line_ without a newline: deliver its head as a cut
    // line and skip the rest. Its checkpoint stays at the line's start until
    // the skip ends, so a restart re-reads it whole rather than mid-line.
    framing::Line line;
    line.text = std::string_view(buf_.get() + head_, tail_ - head_);
    line.begin = base_ + head_;
    line.end = line.begin;
    line.cut = true;
    framer.on_line(line, handler);
    skipping_ = true;
    head_ = scan_ = tail_ = 0;
    base_ = read_offset_;
  }
  ssize_t n;
  do {
    n = stream_ ? ::read(fd_, buf_.get() + tail_, cap_ - tail_)
                : ::pread(fd_, buf_.get() + tail_, cap_ - tail_, static_cast<off_t>(read_offset_));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno("read");
  tail_ += static_cast<size_t>(n);
  read_offset_ += static_cast<uint64_t>(n);
  if (n > 0) deliver_lines(framer, handler);
  return static_cast<size_t>(n);
}

void FileReader::deliver_lines(framing::Framer& framer, framing::FrameHandler& handler) {
  char* const b = buf_.get();
  while (scan_ < tail_) {
    const void* hit = std::memchr(b + scan_, '\n', tail_ - scan_);
    if (hit == nullptr) {
      scan_ = tail_;
      if (skipping_) {
        // Still inside a cut line: drop what was read of it.
        base_ += tail_;
        head_ = scan_ = tail_ = 0;
      }
      return;
    }
    const size_t nl = static_cast<size_t>(static_cast<const char*>(hit) - b);
    if (skipping_) {
      skipping_ = false;
    } else {
      framing::Line line;
      line.text = std::string_view(b + head_, nl - head_);
      line.begin = base_ + head_;
      line.end = base_ + nl + 1;
      framer.on_line(line, handler);
    }
    head_ = scan_ = nl + 1;
    consumed_ = base_ + head_;
  }
}

void FileReader::finish(framing::Framer& framer, framing::FrameHandler& handler) {
  if (tail_ > head_ && !skipping_) {
    framing::Line line;
    line.text = std::string_view(buf_.get() + head_, tail_ - head_);
    line.begin = base_ + head_;
    line.end = base_ + tail_;
    framer.on_line(line, handler);
  }
  head_ = scan_ = tail_;
  consumed_ = base_ + tail_;
  skipping_ = false;
  framer.finish(consumed_, handler);
}

}  // namespace logship::tail
