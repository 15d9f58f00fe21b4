#pragma once
// Backfill progress for --oneshot (LOGSHIP_PROGRESS=auto|off|json).
//
// The caller samples its counters periodically (a few times a second) and
// hands each sample to ProgressReporter::update(); the reporter decides when
// to show something:
// - terminal: one line on stderr, redrawn in place with \r at most every
//   `terminal_interval` ("files 3/12  bytes 1.2 GiB/4.0 GiB  85.3 MB/s
//   records 1234567  retries 0  ETA 34s"), erased with \r and clear-to-EOL
//   by finish() so the terminal is left clean;
// - json: a logship log line (component "progress") every `json_interval`,
//   and one more at finish(), for logs collected from a non-terminal.
// The reporter does no I/O of its own beyond its Writer and never reads
// clocks: elapsed time comes with each sample, so it is deterministic under
// test.
//
// Threading: one reporter is used from one thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace logship::admin {

/// LOGSHIP_PROGRESS.
enum class ProgressMode {
  kAuto,  ///< terminal line if stderr is a terminal, else JSON log lines
  kOff,
  kJson,  ///< JSON log lines even on a terminal
};

/// Parses "auto", "off" or "json" (case-insensitive). kInvalid names the key
/// and the accepted values otherwise.
[[nodiscard]] Result<ProgressMode> parse_progress_mode(std::string_view text);

/// How progress is shown, once the mode met the terminal question.
enum class ProgressOutput { kNone, kTerminal, kJson };

/// kAuto picks kTerminal when `stderr_is_terminal`, else kJson.
[[nodiscard]] ProgressOutput resolve_progress_output(ProgressMode mode, bool stderr_is_terminal);

/// One reading of the backfill's counters. Totals are those known at the
/// start of the run (files found, their sizes).
struct ProgressSample {
  uint64_t files_done = 0;
  uint64_t files_total = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_total = 0;
  uint64_t records = 0;
  uint64_t retries = 0;
  std::chrono::nanoseconds elapsed{0};  ///< since the run started
};

/// What the reporter derives from a sample.
struct ProgressStatus {
  ProgressSample sample;
  double bytes_per_second = 0;  ///< average over the run so far
  /// Remaining bytes at the current rate; empty until the rate is known or
  /// when nothing remains unknown (bytes_read >= bytes_total gives 0).
  std::optional<std::chrono::seconds> eta;
};

/// "files 3/12  bytes 1.2 GiB/4.0 GiB  85.3 MB/s  records 1234567  retries 0  ETA 34s"
/// (ETA "?" while unknown). No line ending and no escape sequences.
[[nodiscard]] std::string render_progress_line(const ProgressStatus& status);

/// The JSON log line's fields, written through logship::log (component
/// "progress"): files_done, files_total, bytes_read, bytes_total,
/// bytes_per_second, records, retries, elapsed_ms, eta_s (when known), done.
void log_progress(const ProgressStatus& status, bool done);

class ProgressReporter {
 public:
  /// Writes terminal output (default: to fd 2, retrying short writes).
  using Writer = std::function<void(std::string_view)>;
  /// Emits one JSON progress line (default: log_progress).
  using JsonEmitter = std::function<void(const ProgressStatus&, bool done)>;

  struct Options {
    std::chrono::milliseconds terminal_interval{std::chrono::milliseconds(250)};
    std::chrono::milliseconds json_interval{std::chrono::seconds(10)};
  };

  ProgressReporter(ProgressOutput output, Options options, Writer writer = {}, JsonEmitter json = {});

  /// Shows the sample if its interval has passed since the last one shown
  /// (the first sample is shown at once on a terminal, after one interval as
  /// JSON). Samples after finish() are ignored.
  void update(const ProgressSample& sample);

  /// Ends the display: the terminal line is erased ("\r\x1b[K"); in JSON a
  /// last line with done=true. Idempotent.
  void finish(const ProgressSample& sample);

  /// The status derived from a sample (rate and ETA).
  [[nodiscard]] static ProgressStatus status_of(const ProgressSample& sample);

 private:
  void show(const ProgressSample& sample);

  const ProgressOutput output_;
  const Options options_;
  Writer writer_;
  JsonEmitter json_;
  std::optional<std::chrono::nanoseconds> last_shown_;
  bool line_drawn_ = false;
  bool finished_ = false;
};

}  // namespace logship::admin
