#pragma once
// Typed settings of the filtering and redaction processors, their parsers
// and the --check-config rendering. The agent's config component owns the
// key table; these functions are what its rows call (see README.md here for
// the rows: name, type, default, bounds, help).
//
// Parsers return the reason alone ("\"verbose\" is not a level; ..."); the
// caller prefixes the key (and flag). load_processing_settings() does that
// itself: "LOGSHIP_MIN_LEVEL: ...". Config loading only: not the data path.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/processor.h"
#include "agent/core/result.h"
#include "agent/processors/filters.h"
#include "agent/processors/level.h"
#include "agent/processors/processor_stats.h"
#include "agent/processors/redact_patterns.h"
#include "agent/processors/throttle.h"

namespace logship::processors {

/// The default of LOGSHIP_REDACT_KEYS.
inline constexpr std::string_view kDefaultRedactKeys =
    "password,passwd,secret,token,authorization,api_key,apikey,access_token,refresh_token,"
    "client_secret,cookie,set-cookie";
/// The default of LOGSHIP_REDACT_PATTERNS (kDefaultPatterns).
inline constexpr std::string_view kDefaultRedactPatterns = "credit_card,bearer,jwt,aws_key,private_key";

inline constexpr uint64_t kMaxRateLimit = 1'000'000;    ///< records/s
inline constexpr uint64_t kMaxRateBurst = 100'000'000;  ///< records
inline constexpr size_t kMaxRedactKeyLength = 128;
inline constexpr size_t kMaxRedactKeys = 1000;

struct ProcessingSettings {
  PathFilterSettings path;
  std::optional<Level> min_level;  ///< nullopt: every level ships
  ThrottleSettings throttle;
  std::vector<std::string> redact_keys = {};  ///< lower case; empty: key redaction off
  PatternSet redact_patterns = kDefaultPatterns;
};

/// One row of the key table, as documented in README.md.
struct KeyRow {
  std::string_view env;
  std::string_view type;
  std::string_view default_text;  ///< empty: unset
  std::string_view bounds;
  std::string_view help;
};
[[nodiscard]] std::span<const KeyRow> processing_key_rows();

/// LOGSHIP_INCLUDE_NAMESPACES / _EXCLUDE_NAMESPACES / _EXCLUDE_CONTAINERS:
/// comma-separated globs, items trimmed; empty items, blanks inside an
/// item, a '/' or an unclosed '[' are errors.
[[nodiscard]] Result<std::vector<std::string>> parse_glob_list(std::string_view value);
/// LOGSHIP_MIN_LEVEL: trace, debug, info, warn (warning), error, fatal.
[[nodiscard]] Result<Level> parse_min_level(std::string_view value);
/// LOGSHIP_RATE_LIMIT: 0 (off) .. kMaxRateLimit records/s.
[[nodiscard]] Result<uint64_t> parse_rate_limit(std::string_view value);
/// LOGSHIP_RATE_BURST: 1 .. kMaxRateBurst records.
[[nodiscard]] Result<uint64_t> parse_rate_burst(std::string_view value);
/// LOGSHIP_REDACT_KEYS: comma-separated names (lower-cased) or `none` (empty result).
[[nodiscard]] Result<std::vector<std::string>> parse_redact_keys(std::string_view value);
/// LOGSHIP_REDACT_PATTERNS: comma-separated detector names or `none` (0).
[[nodiscard]] Result<PatternSet> parse_redact_patterns(std::string_view value);

/// Returns the raw value of a LOGSHIP_* key, nullopt when unset.
using SettingLookup = std::function<std::optional<std::string>(std::string_view env)>;

/// Every key through its parser, defaults applied, cross-key checks
/// (LOGSHIP_RATE_BURST needs LOGSHIP_RATE_LIMIT). The error names the key.
[[nodiscard]] Result<ProcessingSettings> load_processing_settings(const SettingLookup& lookup);

/// The effective rules for --check-config, one "name: rule" line each.
[[nodiscard]] std::string render_processing_rules(const ProcessingSettings& settings,
                                                  bool k8s_api);

/// The chain's factories, in order: annotation exclude, level filter,
/// throttle, redaction (cheap drops first, so redaction never works on a
/// record that is dropped). Factories that can never build a processor are
/// left out. `stats` must outlive the factories; `clock` defaults to
/// steady_clock::now.
[[nodiscard]] ProcessorFactories build_processor_factories(const ProcessingSettings& settings,
                                                           bool k8s_api, ProcessorStats& stats,
                                                           SteadyClockFn clock = {});

}  // namespace logship::processors
