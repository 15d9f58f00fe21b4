#pragma once
// The processor stage's keys (multiline, exclude/include, level, throttle,
// redaction) and the framer's (partial timeout, timestamp format), declared
// for the config engine (agent/config/README.md). Values are kept as the
// user wrote them and checked by the processors' own parsers (each row's
// `check`), so a bad value fails at start with the key and the reason;
// validate() then builds the typed settings the factories take.

#include <chrono>
#include <optional>
#include <span>
#include <string>

#include "agent/config/key_spec.h"
#include "agent/processors/multiline_rules.h"
#include "agent/processors/settings.h"
#include "parsers/framing/framer.h"

namespace logship::processors {

/// Raw values of the processor keys (set by the config engine), and the
/// typed settings validate() derives from them.
struct ProcessorsConfig {
  std::string multiline;  ///< LOGSHIP_MULTILINE as written
  std::chrono::milliseconds multiline_timeout{};
  std::optional<std::string> include_namespaces;
  std::optional<std::string> exclude_namespaces;
  std::optional<std::string> exclude_containers;
  std::optional<std::string> min_level;
  std::optional<std::string> rate_limit;
  std::optional<std::string> rate_burst;
  std::optional<std::string> redact_keys;
  std::optional<std::string> redact_patterns;

  // Derived by validate().
  LangSet multiline_langs = 0;
  ProcessingSettings processing;
};

/// LOGSHIP_MULTILINE, LOGSHIP_MULTILINE_TIMEOUT_MS, LOGSHIP_INCLUDE_NAMESPACES,
/// LOGSHIP_EXCLUDE_NAMESPACES, LOGSHIP_EXCLUDE_CONTAINERS, LOGSHIP_MIN_LEVEL,
/// LOGSHIP_RATE_LIMIT, LOGSHIP_RATE_BURST, LOGSHIP_REDACT_KEYS,
/// LOGSHIP_REDACT_PATTERNS.
[[nodiscard]] std::span<const config::KeySpec> processors_keys();

/// Parses every value into `multiline_langs` and `processing` (cross-key
/// rules included). Throws config::ConfigError naming the key.
void validate(ProcessorsConfig& config);

/// The effective rules for --check-config, each line starting with "# ".
[[nodiscard]] std::string render_rules(const ProcessorsConfig& config, bool k8s_api);

/// The framer's keys (LOGSHIP_PARTIAL_TIMEOUT_MS, LOGSHIP_TIMESTAMP_FORMAT),
/// listed with the tail's.
struct FramingConfig {
  std::chrono::milliseconds partial_timeout{};
  framing::TimestampFormat timestamp_format{};
};
[[nodiscard]] std::span<const config::KeySpec> framing_keys();

}  // namespace logship::processors
