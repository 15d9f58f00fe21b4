#include "agent/processors/processors_config.h"

#include <string_view>

#include "agent/config/config.h"

namespace logship::processors {
namespace {

using config::bind;
using config::Kind;
using config::KeySpec;

// Row checks: the processors' own parsers; the engine prefixes the key.
template <auto Parse>
std::string check_with(std::string_view text) {
  const auto r = Parse(text);
  return r ? std::string() : r.error().message;
}
std::string check_multiline(std::string_view text) {
  const auto r = parse_multiline(text);
  return r ? std::string() : r.error();
}

constexpr std::string_view kTimestampNames[] = {"verbatim", "utc"};

constexpr KeySpec kKeys[] = {
    {
        .env = "LOGSHIP_MULTILINE",
        .kind = Kind::kString,
        .default_text = "off",
        .help = "Join stack traces into one record: off, auto (every language), or a list of "
                "java, python, go, ruby, node, dotnet; logship.io/multiline overrides per pod.",
        .order = 650,
        .check = check_multiline,
        .bind = bind<&ProcessorsConfig::multiline>(),
    },
    {
        .env = "LOGSHIP_MULTILINE_TIMEOUT_MS",
        .kind = Kind::kInteger,
        .default_text = "1000",
        .min = 1,
        .max = 600000,
        .help = "A stack trace with no new line for this many milliseconds ships as it is.",
        .order = 651,
        .bind = bind<&ProcessorsConfig::multiline_timeout>(),
    },
    {
        .env = "LOGSHIP_INCLUDE_NAMESPACES",
        .kind = Kind::kString,
        .help = "Globs: only files of these namespaces are read (unset: all).",
        .order = 660,
        .check = check_with<parse_glob_list>,
        .bind = bind<&ProcessorsConfig::include_namespaces>(),
    },
    {
        .env = "LOGSHIP_EXCLUDE_NAMESPACES",
        .kind = Kind::kString,
        .help = "Globs: files of these namespaces are never opened.",
        .order = 661,
        .check = check_with<parse_glob_list>,
        .bind = bind<&ProcessorsConfig::exclude_namespaces>(),
    },
    {
        .env = "LOGSHIP_EXCLUDE_CONTAINERS",
        .kind = Kind::kString,
        .help = "Globs: files of these container names are never opened.",
        .order = 662,
        .check = check_with<parse_glob_list>,
        .bind = bind<&ProcessorsConfig::exclude_containers>(),
    },
    {
        .env = "LOGSHIP_MIN_LEVEL",
        .kind = Kind::kString,
        .help = "Drop records below this level (trace, debug, info, warn, error, fatal); "
                "logship.io/min-level overrides per pod. Unset: every level ships.",
        .order = 663,
        .check = check_with<parse_min_level>,
        .bind = bind<&ProcessorsConfig::min_level>(),
    },
    {
        .env = "LOGSHIP_RATE_LIMIT",
        .kind = Kind::kString,
        .default_text = "0",
        .help = "Records per second per container, 0 (off) .. 1000000; logship.io/rate-limit overrides.",
        .order = 664,
        .check = check_with<parse_rate_limit>,
        .bind = bind<&ProcessorsConfig::rate_limit>(),
    },
    {
        .env = "LOGSHIP_RATE_BURST",
        .kind = Kind::kString,
        .help = "Token bucket size in records, 1 .. 100000000 (unset: twice the rate); needs LOGSHIP_RATE_LIMIT.",
        .order = 665,
        .check = check_with<parse_rate_burst>,
        .bind = bind<&ProcessorsConfig::rate_burst>(),
    },
    {
        .env = "LOGSHIP_REDACT_KEYS",
        .kind = Kind::kString,
        .default_text = kDefaultRedactKeys,
        .help = "JSON keys (any depth, case-insensitive) whose values become \"[REDACTED]\", or none.",
        .order = 666,
        .check = check_with<parse_redact_keys>,
        .bind = bind<&ProcessorsConfig::redact_keys>(),
    },
    {
        .env = "LOGSHIP_REDACT_PATTERNS",
        .kind = Kind::kString,
        .default_text = kDefaultRedactPatterns,
        .help = "Detectors on string values and text lines (credit_card, email, bearer, jwt, aws_key, "
                "private_key), or none.",
        .order = 667,
        .check = check_with<parse_redact_patterns>,
        .bind = bind<&ProcessorsConfig::redact_patterns>(),
    },
};

constexpr KeySpec kFramingKeys[] = {
    {
        .env = "LOGSHIP_PARTIAL_TIMEOUT_MS",
        .kind = Kind::kInteger,
        .default_text = "5000",
        .min = 1,
        .max = 3600000,
        .help = "A partial line (CRI P / docker without newline) with no continuation for this many "
                "milliseconds ships marked \"partial\":true.",
        .order = 112,
        .bind = bind<&FramingConfig::partial_timeout>(),
    },
    {
        .env = "LOGSHIP_TIMESTAMP_FORMAT",
        .kind = Kind::kEnum,
        .default_text = "verbatim",
        .choices = kTimestampNames,
        .help = "How ts is shipped: verbatim (as the runtime wrote it) or utc (RFC 3339 UTC, nanoseconds).",
        .order = 114,
        .bind = bind<&FramingConfig::timestamp_format>(),
    },
};

}  // namespace

std::span<const config::KeySpec> processors_keys() { return kKeys; }
std::span<const config::KeySpec> framing_keys() { return kFramingKeys; }

void validate(ProcessorsConfig& c) {
  const auto langs = parse_multiline(c.multiline);
  if (!langs) config::fail("LOGSHIP_MULTILINE: " + langs.error());
  c.multiline_langs = *langs;
  const std::pair<std::string_view, const std::optional<std::string>*> raw[] = {
      {"LOGSHIP_INCLUDE_NAMESPACES", &c.include_namespaces},
      {"LOGSHIP_EXCLUDE_NAMESPACES", &c.exclude_namespaces},
      {"LOGSHIP_EXCLUDE_CONTAINERS", &c.exclude_containers},
      {"LOGSHIP_MIN_LEVEL", &c.min_level},
      {"LOGSHIP_RATE_LIMIT", &c.rate_limit},
      {"LOGSHIP_RATE_BURST", &c.rate_burst},
      {"LOGSHIP_REDACT_KEYS", &c.redact_keys},
      {"LOGSHIP_REDACT_PATTERNS", &c.redact_patterns},
  };
  auto loaded = load_processing_settings([&raw](std::string_view env) -> std::optional<std::string> {
    for (const auto& [name, value] : raw) {
      if (name == env) return *value;
    }
    return std::nullopt;
  });
  if (!loaded) config::fail(loaded.error().message);
  c.processing = std::move(*loaded);
}

std::string render_rules(const ProcessorsConfig& c, bool k8s_api) {
  std::string rules = "multiline: " + multiline_name(c.multiline_langs) + ", timeout " +
                      std::to_string(c.multiline_timeout.count()) + " ms" +
                      (k8s_api ? "; per pod: logship.io/multiline" : "") + "\n" +
                      render_processing_rules(c.processing, k8s_api);
  std::string out;
  size_t start = 0;
  while (start < rules.size()) {
    const size_t end = rules.find('\n', start);
    out += "# ";
    out.append(rules, start, end == std::string::npos ? std::string::npos : end - start + 1);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace logship::processors
