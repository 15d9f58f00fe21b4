#pragma once
// Framers turn the lines of one container log file into logical records:
// they strip the runtime's framing (CRI prefix, docker's JSON envelope), join
// partial lines, cut over-long records, and track the file offset from which
// reading can safely resume (the checkpoint offset).
//
// Ownership and threading: a Framer belongs to one file and is driven by one
// worker thread. Views handed out (Frame) are valid only during the
// FrameHandler::on_frame call.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace logship::framing {

/// One logical record.
struct Frame {
  std::string_view ts;       ///< the runtime's timestamp, verbatim; empty when unknown
  std::string_view stream;   ///< "stdout"/"stderr"; empty when unknown
  std::string_view payload;  ///< the record text; json::kPadding readable bytes follow it
  bool truncated = false;    ///< cut to the record size limit
  /// Reading may resume here once this record and all before it are delivered.
  uint64_t commit_offset = 0;
};

/// Receives frames. Implemented by the worker that encodes them.
class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  virtual void on_frame(const Frame& frame) = 0;
};

enum class Format { kAuto, kCri, kDocker, kRaw };

/// One line of input, without its '\n'.
struct Line {
  std::string_view text;  ///< json::kPadding readable bytes follow it
  uint64_t begin = 0;     ///< file offset of the first byte
  uint64_t end = 0;       ///< file offset just past the line's '\n' (or its last byte)
  bool cut = false;       ///< the line was longer than the reader's limit; text is its head
};

class Framer {
 public:
  virtual ~Framer() = default;

  /// Consumes one line; emits zero or one frame through `handler`.
  virtual void on_line(const Line& line, FrameHandler& handler) = 0;

  /// Emits whatever is pending (unfinished partials) as records. Called at end
  /// of input in oneshot mode and when a file is closed for good.
  virtual void finish(uint64_t end_offset, FrameHandler& handler) = 0;

  /// The offset up to which everything read is already in emitted frames:
  /// `consumed` unless a partial record that started earlier is pending.
  [[nodiscard]] virtual uint64_t safe_offset(uint64_t consumed) const = 0;

  /// The timestamp given to formats without one (raw); set once per read.
  virtual void set_read_time(std::string_view ts) { (void)ts; }

  /// The concrete format in use (kAuto until the first line decided it).
  [[nodiscard]] virtual Format format() const = 0;
};

using FramerPtr = std::unique_ptr<Framer>;

/// Builds a framer. `max_record_bytes` caps every record (longer ones are cut
/// and marked truncated). kAuto decides from the first line of the file.
[[nodiscard]] FramerPtr make_framer(Format format, size_t max_record_bytes);

/// Detects the format of one line: kDocker, kCri, or kRaw.
[[nodiscard]] Format detect_format(std::string_view first_line);

}  // namespace logship::framing
