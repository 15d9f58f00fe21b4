#pragma once
// Framers turn the lines of one container log file into logical records:
// they strip the runtime's framing (CRI prefix, docker's JSON envelope), join
// partial lines, cut over-long records, and track the file offset from which
// reading can safely resume (the checkpoint offset).
//
// Odd input (empty lines, lines that do not follow the format, bad
// timestamps, partials that never finish) is counted in MalformedCounters
// and logged at debug level with the file and offset, never its content.
//
// Ownership and threading: a Framer belongs to one file and is driven by one
// worker thread. Views handed out (Frame) are valid only during the
// FrameHandler::on_frame call.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "parsers/framing/malformed.h"

namespace logship::framing {

/// One logical record.
struct Frame {
  std::string_view ts;       ///< the runtime's timestamp (or the read time); empty when unknown
  std::string_view stream;   ///< "stdout"/"stderr"; empty when unknown
  std::string_view payload;  ///< the record text; json::kPadding readable bytes follow it
  bool truncated = false;    ///< cut to the record size limit
  bool partial = false;      ///< a partial shipped without its continuation (expired or flushed)
  /// docker's "attrs" object (log-opt labels/env) as compact JSON text
  /// ("{...}", valid JSON, emit verbatim); empty when the line had none.
  std::string_view attrs;
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

/// How `ts` is shipped (LOGSHIP_TIMESTAMP_FORMAT).
enum class TimestampFormat {
  kVerbatim,  ///< as the runtime wrote it (validated as RFC 3339)
  kUtc,       ///< RFC 3339 UTC, 9 fractional digits, 'Z'
};

/// One line of input, without its '\n'.
struct Line {
  std::string_view text;  ///< json::kPadding readable bytes follow it
  uint64_t begin = 0;     ///< file offset of the first byte
  uint64_t end = 0;       ///< file offset just past the line's '\n' (or its last byte)
  bool cut = false;       ///< the line was longer than the reader's limit; text is its head
};

using SteadyTime = std::chrono::steady_clock::time_point;

/// How many bytes before a resume offset Framer::resume_after looks at. A
/// stream whose last line lies further back is taken to start fresh.
inline constexpr size_t kResumeLookback = 64 << 10;

struct FramerOptions {
  Format format = Format::kAuto;
  size_t max_record_bytes = 1 << 20;
  TimestampFormat timestamp_format = TimestampFormat::kVerbatim;
  /// A partial with no continuation for this long is shipped by expire()
  /// (LOGSHIP_PARTIAL_TIMEOUT_MS).
  std::chrono::milliseconds partial_timeout{5000};
  /// The time a partial chunk arrives; null means steady_clock::now. Tests
  /// pass a fake clock.
  std::function<SteadyTime()> clock;
  /// Shared counters (the agent's); null: the framer counts privately.
  MalformedCounters* counters = nullptr;
  /// The file's path, for the debug log of odd input.
  std::string path;
};

class Framer {
 public:
  virtual ~Framer() = default;

  /// Consumes one line; emits zero or one frame through `handler`.
  virtual void on_line(const Line& line, FrameHandler& handler) = 0;

  /// Emits whatever is pending (unfinished partials) as records marked
  /// partial. Called at end of input in oneshot mode and when a file is
  /// closed for good (rotation, deletion, shutdown).
  virtual void finish(uint64_t end_offset, FrameHandler& handler) = 0;

  /// The offset up to which everything read is already in emitted frames:
  /// `consumed` unless a partial record that started earlier is pending.
  [[nodiscard]] virtual uint64_t safe_offset(uint64_t consumed) const = 0;

  /// The timestamp given to lines without one (raw text, lines whose
  /// framing or time is invalid); set once per read, RFC 3339 UTC.
  virtual void set_read_time(std::string_view ts) { (void)ts; }

  /// The format of the last framed line (kAuto before any). With kAuto each
  /// line is classified on its own; kRaw means plain text.
  [[nodiscard]] virtual Format format() const = 0;

  /// When the partial that has waited longest for a continuation got its
  /// last chunk; nullopt when no partial is pending.
  [[nodiscard]] virtual std::optional<SteadyTime> pending_since() const { return std::nullopt; }

  /// pending_since() + partial_timeout: when expire() has work to do.
  [[nodiscard]] virtual std::optional<SteadyTime> partial_deadline() const { return std::nullopt; }

  /// Ships, marked partial, every pending partial whose last chunk is
  /// partial_timeout or more before `now`. `consumed` is the reader's
  /// consumed offset (as for safe_offset). Returns how many were shipped.
  virtual size_t expire(SteadyTime now, uint64_t consumed, FrameHandler& handler) {
    (void)now;
    (void)consumed;
    (void)handler;
    return 0;
  }

  /// Resuming at a checkpoint X > 0. Call once on a new framer, after the
  /// reader is positioned at X and before the first on_line (the reader's
  /// FileReader::resume_at does both). `preceding` is the bytes just before
  /// X (up to kResumeLookback of them); its first line is torn and ignored
  /// unless `from_file_start` (preceding begins at offset 0). Lines of at
  /// least `max_line_bytes` are classified by their head, as the reader
  /// would have delivered them (cut).
  ///
  /// Why: a checkpoint X means every record that STARTED before X was
  /// emitted (safe_offset never passes a pending partial's start). So a
  /// stream whose last line before X was a partial had its record emitted
  /// either when it ended after X (the checkpoint held back by another
  /// stream's partial starting at X), or unfinished (expired, flushed). In
  /// the first case its next lines after X, up to and including the one
  /// ending that record, were already delivered: they are skipped and
  /// counted (reason resume_skipped), not shipped as a bogus record. The
  /// first line at X tells the cases apart: when it is not a partial of
  /// another stream, nothing is skipped (what followed an expired partial
  /// was shipped as records of its own, and is again). A stream that
  /// `preceding` says nothing about starts fresh.
  virtual void resume_after(std::string_view preceding, bool from_file_start, size_t max_line_bytes) {
    (void)preceding;
    (void)from_file_start;
    (void)max_line_bytes;
  }

  /// This framer's counters (the shared ones when given in the options).
  [[nodiscard]] virtual const MalformedCounters& counters() const = 0;
};

using FramerPtr = std::unique_ptr<Framer>;

/// Builds a framer. Every record is capped at max_record_bytes (longer ones
/// are cut and marked truncated). kAuto decides per line.
[[nodiscard]] FramerPtr make_framer(const FramerOptions& options);
[[nodiscard]] FramerPtr make_framer(Format format, size_t max_record_bytes);

/// Detects the format of one line: kDocker, kCri, or kRaw (text, including
/// lines that look like CRI/docker but are not valid).
[[nodiscard]] Format detect_format(std::string_view line);

}  // namespace logship::framing
