#pragma once
// Log level detection for the level filter (LOGSHIP_MIN_LEVEL).
//
// JSON record: the first top-level field among `level`, `lvl`, `severity`,
// `levelname`, `@l`, `loglevel`, `log.level` (ECS dotted key) or `level`
// inside a top-level `log` object (ECS nested), whose value maps to a level.
// Keys compare case-insensitively (ASCII), escapes decoded.
//
// Values, case-insensitive:
//   trace: trace trc finest finer verbose vrb t
//   debug: debug dbg fine config d
//   info:  info inf information informational notice i
//   warn:  warn warning wrn w
//   error: error err eror dpanic severe e
//   fatal: fatal ftl critical crit alert emerg emergency panic f c
// Numbers (integers; how to tell the scales apart): 0..7 are syslog
// severities (7 debug, 6 and 5 info, 4 warn, 3 error, 2..0 fatal), which no
// other scheme uses; 10..69 are pino/bunyan levels by tens (10 trace,
// 20 debug, 30 info, 40 warn, 50 error, 60 fatal); anything else
// (8, 9, 70, negatives, fractions) is no level. The field name does not
// matter, so a numeric `severity` and a numeric `level` read the same way.
//
// Text record: only a leading token, after whitespace and ANSI colour codes:
// a level word (not the single letters, and not the words that often start
// an ordinary sentence: fine, finer, finest, config, verbose, severe,
// information, informational, and the rare eror/dpanic) alone or in [..] / <..>, followed by
// a space, ':', end or the closing bracket (`ERROR`, `[WARN]`, `<info>`,
// `Error: x`); `level=info` / `lvl=warn` (logfmt, value optionally quoted);
// or klog's `I1126 ...` (one of IWEF, then four digits).
//
// A record with no level (or one we cannot read) has none: the filter ships it.

#include <cstdint>
#include <optional>
#include <string_view>

namespace logship::processors {

enum class Level : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kFatal };

/// "trace", "debug", "info", "warn", "error", "fatal".
[[nodiscard]] std::string_view level_name(Level level);

/// A minimum level as configured (LOGSHIP_MIN_LEVEL, logship.io/min-level):
/// trace, debug, info, warn (or warning), error, fatal; case-insensitive.
[[nodiscard]] std::optional<Level> min_level_from_name(std::string_view name);

/// A level word from the table above (case-insensitive), including the
/// single-letter forms; nullopt otherwise.
[[nodiscard]] std::optional<Level> level_from_word(std::string_view word);

/// A numeric level value (JSON number text such as "30" or "4").
[[nodiscard]] std::optional<Level> level_from_number(std::string_view number);

/// Level of a JSON object payload. Needs the 64 padding bytes after it.
[[nodiscard]] std::optional<Level> json_level(std::string_view object);

/// Level of a text payload from its leading token.
[[nodiscard]] std::optional<Level> text_level(std::string_view text);

}  // namespace logship::processors
