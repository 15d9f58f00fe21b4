#pragma once
// The tail source's settings: which files, how they are framed, where an
// unknown file is read from, and the follow-mode limits. Declared here, next
// to the code that reads them; the config engine (agent/config) loads them.

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/key_spec.h"

namespace logship::tail {

/// How tailed files are framed (LOGSHIP_INPUT_FORMAT).
enum class InputFormat { kAuto, kCri, kDocker, kRaw };

/// Where a file first seen without a checkpoint is read from (LOGSHIP_READ_FROM).
enum class ReadFrom { kHead, kTail };

/// Set from the keys below by the config engine; the initialisers only keep
/// a default-constructed struct determinate (the defaults live in the rows).
struct TailSettings {
  std::vector<std::string> input_paths;  ///< globs, or the single "-" for stdin
  InputFormat input_format{};
  size_t max_record_bytes = 0;
  // Follow mode.
  std::chrono::milliseconds rescan_interval{};
  ReadFrom read_from{};
  size_t max_open_files = 0;
  std::chrono::milliseconds rotate_wait{};

  /// LOGSHIP_INPUT_PATHS=-: records come from standard input (`app | logship`).
  [[nodiscard]] bool reads_stdin() const;
};

/// LOGSHIP_INPUT_PATHS, LOGSHIP_INPUT_FORMAT, LOGSHIP_MAX_RECORD_BYTES,
/// LOGSHIP_RESCAN_MS, LOGSHIP_READ_FROM, LOGSHIP_MAX_OPEN_FILES,
/// LOGSHIP_ROTATE_WAIT_MS; bound to TailSettings.
[[nodiscard]] std::span<const config::KeySpec> tail_keys();

/// Checks that involve more than one value; throws config::ConfigError.
void validate(const TailSettings& settings);

/// Canonical spellings, as accepted in LOGSHIP_INPUT_FORMAT / LOGSHIP_READ_FROM.
[[nodiscard]] std::string_view to_string(InputFormat format);
[[nodiscard]] std::string_view to_string(ReadFrom from);

}  // namespace logship::tail
