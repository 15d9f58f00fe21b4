#pragma once
// Reads one log file in large chunks and hands its lines to a Framer.
// Lines are delivered as views into the reader's buffer, with json::kPadding
// readable bytes after each, so the JSON parser works in place.
//
// A line longer than `max_line_bytes` does not stall the file (a known
// failure of other tailers): its head is delivered marked `cut`, the rest up
// to the newline is skipped, and reading goes on.
//
// Ownership and threading: owns its fd and buffer; used by one thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/core/result.h"
#include "parsers/framing/framer.h"

namespace logship::tail {

class FileReader {
 public:
  FileReader(size_t chunk_bytes, size_t max_line_bytes);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  /// Opens `path` read-only (following symlinks) positioned at 0.
  [[nodiscard]] Result<void> open(const std::string& path);

  /// Reads a stream (a pipe, standard input) with read(2) instead of
  /// pread(2); offsets then count bytes read since the start. The fd is not
  /// closed by the reader.
  void attach_stream(int fd);
  int fd() const { return fd_; }

  /// Starts reading at `offset` (a line boundary from a checkpoint).
  void seek(uint64_t offset);

  /// Starts reading at checkpoint `offset` with a new `framer`: seek(), then
  /// (a file, offset > 0) preads up to framing::kResumeLookback bytes before
  /// it and passes them to framer.resume_after(), so the continuation lines
  /// of records delivered before the checkpoint are not shipped again as
  /// records of their own. On a read error the reader is still positioned
  /// at `offset` (the framer then assumes every stream starts fresh).
  [[nodiscard]] Result<void> resume_at(uint64_t offset, framing::Framer& framer);

  /// Reads once and delivers every complete line. Returns the bytes read;
  /// 0 means end of file for now.
  [[nodiscard]] Result<size_t> read_some(framing::Framer& framer, framing::FrameHandler& handler);

  /// End of input: delivers a last line that has no newline, then lets the
  /// framer emit what it still holds.
  void finish(framing::Framer& framer, framing::FrameHandler& handler);

  /// Frees the read buffer while no unfinished line is held, so thousands of
  /// idle followed files cost no buffer memory. The next read reallocates.
  void release_buffer();

  /// True while an unfinished line (no newline yet) is buffered.
  [[nodiscard]] bool has_pending() const { return tail_ > head_ || skipping_; }

  /// File offset up to which every byte belongs to a delivered line.
  uint64_t consumed() const { return consumed_; }
  /// File offset of the next byte to read.
  uint64_t read_offset() const { return read_offset_; }

 private:
  void deliver_lines(framing::Framer& framer, framing::FrameHandler& handler);
  void make_room();

  size_t chunk_;
  size_t max_line_;
  int fd_ = -1;
  bool stream_ = false;  // fd_ is a stream we do not own: read(2), no close
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;          // usable bytes; the allocation has kPadding more
  size_t head_ = 0;         // first byte not yet delivered
  size_t scan_ = 0;         // bytes before this have no newline (from head_)
  size_t tail_ = 0;         // end of valid data
  uint64_t base_ = 0;       // file offset of buf_[0]
  uint64_t read_offset_ = 0;
  uint64_t consumed_ = 0;
  bool skipping_ = false;   // discarding the rest of a cut line
};

}  // namespace logship::tail
