#pragma once
// Internal to logship_config: the declarative key table and the engine that
// interprets it. Nothing outside agent/config/ and its tests should include
// this; the engine entry points take the table as a parameter so tests can
// exercise row kinds (such as kPrefix) that the real table does not use yet.
//
// Adding a setting = one Config field + one KeySpec row in config_table.cc.
// The row's `store`/`fetch` are the only code that knows the field; parsing,
// bounds, error messages, --check-config and --help are all generic.

#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agent/config/config.h"

namespace logship::config::detail {

/// The value syntax of a row. Each kind has exactly one parser and one
/// canonical rendering in config.cc.
enum class Kind : uint8_t {
  kList,     ///< comma-separated, items trimmed, no empty items
  kEnum,     ///< one of `choices` (case-insensitive); Value holds the index
  kPath,     ///< any non-empty string, shown as <path>
  kString,   ///< any non-empty string; optional when the row has no default
  kSize,     ///< byte count with optional K/KB/Ki/KiB/M/... suffix, bounded
  kInteger,  ///< plain decimal, bounded; the unit is stated in `help`
  kListen,   ///< host:port, [v6]:port or off
  kBool,     ///< true/false/1/0/yes/no/on/off; a bare flag means true
  /// A pass-through family such as LOGSHIP_KAFKA_OPT_*: `env` is the prefix
  /// (ending in '_'), every LOGSHIP_<prefix><SUFFIX> variable and matching
  /// --<prefix>-<suffix> flag is collected unparsed into Entries keyed by
  /// SUFFIX, and handed to `store_entries` (the consumer maps e.g.
  /// SASL_MECHANISM to the library's own name). Used by LOGSHIP_KAFKA_OPT_.
  kPrefix,
};

/// A parsed value. Which alternative a row gets is fixed by its Kind:
/// list -> vector, enum/size/integer -> uint64_t, path/string -> string,
/// bool -> bool, listen -> ListenAddress; monostate means unset (only for
/// rows without a default).
using Value = std::variant<std::monostate, std::string, std::vector<std::string>, uint64_t,
                           bool, ListenAddress>;

/// Pass-through entries of a kPrefix row: SUFFIX (env spelling) -> raw value.
using Entries = std::map<std::string, std::string>;

/// One setting. Rows are constant data; lambdas without captures convert to
/// the function pointers, so a row is self-contained.
struct KeySpec {
  std::string_view env = {};      ///< "LOGSHIP_SINK"; the flag is derived from it
  Kind kind = Kind::kString;
  std::string_view default_text = {};  ///< in the user's syntax ("1MiB"); empty = none
  uint64_t min = 0;               ///< kSize / kInteger bounds, inclusive
  uint64_t max = std::numeric_limits<uint64_t>::max();
  std::span<const std::string_view> choices = {};  ///< kEnum, in enum order
  bool secret = false;            ///< value shown as <redacted> everywhere
  std::string_view help = {};     ///< one line for --help
  void (*store)(Config&, Value&&) = nullptr;
  Value (*fetch)(const Config&) = nullptr;
  void (*store_entries)(Config&, Entries&&) = nullptr;  ///< kPrefix only
  Entries (*fetch_entries)(const Config&) = nullptr;     ///< kPrefix only
  /// kPrefix only: whether one entry (by SUFFIX) is secret, for families
  /// where only some members are (a password among tuning knobs). `secret`
  /// still hides every entry when set.
  bool (*entry_secret)(std::string_view suffix) = nullptr;
};

/// Enum spellings in enum order; to_string() and the table share them so the
/// index stored in a Value always matches the enumerator.
inline constexpr std::string_view kInputFormatNames[] = {"auto", "cri", "docker", "raw"};
inline constexpr std::string_view kSinkNames[] = {"stdout", "file", "kafka", "http"};
inline constexpr std::string_view kCompressionNames[] = {"zstd", "lz4", "gzip", "snappy", "none"};
inline constexpr std::string_view kKafkaKeyNames[] = {"none", "trace_id", "pod", "container"};
inline constexpr std::string_view kHttpFormatNames[] = {"ndjson", "loki", "elasticsearch", "splunk_hec",
                                                        "otlp"};
inline constexpr std::string_view kLogLevelNames[] = {"debug", "info", "warn", "error"};
inline constexpr std::string_view kReadFromNames[] = {"head", "tail"};

/// The real table, in --check-config / --help order.
[[nodiscard]] std::span<const KeySpec> key_table();

/// "LOGSHIP_BATCH_MAX_BYTES" -> "batch-max-bytes" (no leading dashes).
[[nodiscard]] std::string flag_name(std::string_view env);

/// The table-driven part of load(): flags, environment, per-row parsing and
/// bounds. Cross-key checks are not included (they know concrete fields).
/// @throws ConfigError
[[nodiscard]] Loaded load_with_table(std::span<const KeySpec> table,
                                     const std::vector<std::string>& args,
                                     const std::map<std::string, std::string>& env);

/// render_effective() / help_text() for an arbitrary table.
[[nodiscard]] std::string render_with_table(std::span<const KeySpec> table,
                                            const Config& config);
[[nodiscard]] std::string help_with_table(std::span<const KeySpec> table);

}  // namespace logship::config::detail
