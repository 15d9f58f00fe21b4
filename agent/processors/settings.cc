#include "agent/processors/settings.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "agent/processors/json_scan.h"
#include "agent/processors/redact.h"

namespace logship::processors {
namespace {

constexpr std::array kRows = {
    KeyRow{"LOGSHIP_INCLUDE_NAMESPACES", "list of globs", "", "",
           "only files of these namespaces are read (kubelet paths; others always are)"},
    KeyRow{"LOGSHIP_EXCLUDE_NAMESPACES", "list of globs", "", "",
           "files of these namespaces are never opened"},
    KeyRow{"LOGSHIP_EXCLUDE_CONTAINERS", "list of globs", "", "",
           "files of these container names are never opened"},
    KeyRow{"LOGSHIP_MIN_LEVEL", "enum", "", "trace, debug, info, warn, error, fatal",
           "drop records below this level (records without a level ship); "
           "annotation logship.io/min-level overrides"},
    KeyRow{"LOGSHIP_RATE_LIMIT", "integer (records/s)", "0", "0 (off) .. 1000000",
           "per-container rate limit; annotation logship.io/rate-limit overrides"},
    KeyRow{"LOGSHIP_RATE_BURST", "integer (records)", "2 x LOGSHIP_RATE_LIMIT", "1 .. 100000000",
           "token bucket size of the rate limit"},
    KeyRow{"LOGSHIP_REDACT_KEYS", "list or none", kDefaultRedactKeys, "1..1000 names of 1..128 bytes",
           "JSON keys (any depth, case-insensitive) whose values become \"[REDACTED]\""},
    KeyRow{"LOGSHIP_REDACT_PATTERNS", "list or none", kDefaultRedactPatterns,
           "credit_card, email, bearer, jwt, aws_key, private_key",
           "detectors applied to string values and text lines"},
};

/// "\"value\"" (built by append: g++ 12 warns falsely on "\"" + std::string).
std::string quoted(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('"');
  out.append(value);
  out.push_back('"');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Comma-separated items, trimmed; an empty item is an error.
Result<std::vector<std::string>> split_list(std::string_view value) {
  std::vector<std::string> items;
  size_t pos = 0;
  for (;;) {
    const size_t comma = value.find(',', pos);
    const std::string_view item =
        trim(value.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (item.empty()) return fail(Errc::kInvalid, "empty item in \"" + std::string(value) + "\"");
    items.emplace_back(item);
    if (comma == std::string_view::npos) return items;
    pos = comma + 1;
  }
}

bool is_none(std::string_view value) { return json_scan::iequals_lower(trim(value), "none"); }

Result<uint64_t> parse_count(std::string_view value, uint64_t min, uint64_t max) {
  value = trim(value);
  uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc{} || ptr != value.data() + value.size()) {
    return fail(Errc::kInvalid, quoted(value) + " is not a whole number");
  }
  if (v < min || v > max) {
    return fail(Errc::kInvalid, std::to_string(v) + " is out of bounds " + std::to_string(min) +
                                    ".." + std::to_string(max));
  }
  return v;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out.append(",");
    out.append(item);
  }
  return out;
}

std::string pattern_names(PatternSet set) {
  std::string out;
  for (size_t k = 1; k < kRedactKindCount; ++k) {
    if (set & pattern_bit(static_cast<RedactKind>(k))) {
      if (!out.empty()) out.append(",");
      out.append(kRedactKindNames[k]);
    }
  }
  return out.empty() ? "none" : out;
}

}  // namespace

std::span<const KeyRow> processing_key_rows() { return kRows; }

Result<std::vector<std::string>> parse_glob_list(std::string_view value) {
  auto items = split_list(value);
  if (!items) return items;
  for (const std::string& glob : *items) {
    if (glob.find_first_of(" \t/") != std::string::npos) {
      return fail(Errc::kInvalid, quoted(glob) + ": a glob of names holds no blank or '/'");
    }
    const size_t open = glob.find('[');
    if (open != std::string::npos && glob.find(']', open + 1) == std::string::npos) {
      return fail(Errc::kInvalid, quoted(glob) + ": unclosed '['");
    }
  }
  return items;
}

Result<Level> parse_min_level(std::string_view value) {
  if (const auto level = min_level_from_name(trim(value))) return *level;
  return fail(Errc::kInvalid, quoted(value) + " is not a level; expected trace, debug, info, warn, error or fatal");
}

Result<uint64_t> parse_rate_limit(std::string_view value) { return parse_count(value, 0, kMaxRateLimit); }

Result<uint64_t> parse_rate_burst(std::string_view value) { return parse_count(value, 1, kMaxRateBurst); }

Result<std::vector<std::string>> parse_redact_keys(std::string_view value) {
  if (is_none(value)) return std::vector<std::string>{};
  auto items = split_list(value);
  if (!items) return items;
  if (items->size() > kMaxRedactKeys) {
    return fail(Errc::kInvalid, std::to_string(items->size()) + " keys; at most " +
                                    std::to_string(kMaxRedactKeys));
  }
  for (std::string& key : *items) {
    if (key.size() > kMaxRedactKeyLength) {
      return fail(Errc::kInvalid, "key \"" + key.substr(0, 32) + "...\" is longer than " +
                                      std::to_string(kMaxRedactKeyLength) + " bytes");
    }
    for (char& c : key) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
        return fail(Errc::kInvalid, "key \"" + key + "\" holds a quote, backslash or control byte");
      }
      c = json_scan::ascii_lower(c);
    }
    if (key == "none") return fail(Errc::kInvalid, "\"none\" cannot be combined with keys");
  }
  return items;
}

Result<PatternSet> parse_redact_patterns(std::string_view value) {
  if (is_none(value)) return PatternSet{0};
  auto items = split_list(value);
  if (!items) return fail(items.error().code, items.error().message);
  PatternSet set = 0;
  for (const std::string& item : *items) {
    bool known = false;
    for (size_t k = 1; k < kRedactKindCount; ++k) {
      if (json_scan::iequals_lower(item, kRedactKindNames[k])) {
        set |= pattern_bit(static_cast<RedactKind>(k));
        known = true;
      }
    }
    if (!known) {
      return fail(Errc::kInvalid, "unknown pattern \"" + item +
                                      "\"; expected credit_card, email, bearer, jwt, aws_key, "
                                      "private_key or none");
    }
  }
  return set;
}

Result<ProcessingSettings> load_processing_settings(const SettingLookup& lookup) {
  ProcessingSettings s;
  const auto keyed = [](std::string_view env, const Error& e) {
    return fail(Errc::kInvalid, std::string(env) + ": " + e.message);
  };
  const std::pair<std::string_view, std::vector<std::string>*> globs[] = {
      {"LOGSHIP_INCLUDE_NAMESPACES", &s.path.include_namespaces},
      {"LOGSHIP_EXCLUDE_NAMESPACES", &s.path.exclude_namespaces},
      {"LOGSHIP_EXCLUDE_CONTAINERS", &s.path.exclude_containers}};
  for (const auto& [env, field] : globs) {
    if (const auto v = lookup(env)) {
      auto parsed = parse_glob_list(*v);
      if (!parsed) return keyed(env, parsed.error());
      *field = std::move(*parsed);
    }
  }
  if (const auto v = lookup("LOGSHIP_MIN_LEVEL")) {
    const auto parsed = parse_min_level(*v);
    if (!parsed) return keyed("LOGSHIP_MIN_LEVEL", parsed.error());
    s.min_level = *parsed;
  }
  if (const auto v = lookup("LOGSHIP_RATE_LIMIT")) {
    const auto parsed = parse_rate_limit(*v);
    if (!parsed) return keyed("LOGSHIP_RATE_LIMIT", parsed.error());
    s.throttle.rate = *parsed;
  }
  if (const auto v = lookup("LOGSHIP_RATE_BURST")) {
    const auto parsed = parse_rate_burst(*v);
    if (!parsed) return keyed("LOGSHIP_RATE_BURST", parsed.error());
    if (s.throttle.rate == 0) {
      return fail(Errc::kInvalid, "LOGSHIP_RATE_BURST: set without LOGSHIP_RATE_LIMIT (no limit to burst over)");
    }
    s.throttle.burst = *parsed;
  }
  {
    const auto v = lookup("LOGSHIP_REDACT_KEYS");
    auto parsed = parse_redact_keys(v ? std::string_view(*v) : kDefaultRedactKeys);
    if (!parsed) return keyed("LOGSHIP_REDACT_KEYS", parsed.error());
    s.redact_keys = std::move(*parsed);
  }
  {
    const auto v = lookup("LOGSHIP_REDACT_PATTERNS");
    const auto parsed = parse_redact_patterns(v ? std::string_view(*v) : kDefaultRedactPatterns);
    if (!parsed) return keyed("LOGSHIP_REDACT_PATTERNS", parsed.error());
    s.redact_patterns = *parsed;
  }
  return s;
}

std::string render_processing_rules(const ProcessingSettings& s, bool k8s_api) {
  std::string out;
  const auto line = [&](std::string_view name, const std::string& rule) {
    out.append(name).append(": ").append(rule).push_back('\n');
  };
  line("include namespaces", s.path.include_namespaces.empty() ? "all" : join(s.path.include_namespaces));
  line("exclude namespaces", s.path.exclude_namespaces.empty() ? "none" : join(s.path.exclude_namespaces));
  line("exclude containers", s.path.exclude_containers.empty() ? "none" : join(s.path.exclude_containers));
  line("exclude annotations", k8s_api ? "logship.io/exclude, logship.io/exclude-<container>"
                                      : "off (LOGSHIP_K8S_API=false)");
  std::string level = s.min_level ? std::string(level_name(*s.min_level)) : "off (every level ships)";
  if (k8s_api) level += "; per pod: logship.io/min-level";
  line("min level", level);
  std::string rate = s.throttle.rate == 0
                         ? std::string("off")
                         : std::to_string(s.throttle.rate) + " records/s per container, burst " +
                               std::to_string(s.throttle.effective_burst());
  if (k8s_api) rate += "; per pod: logship.io/rate-limit";
  line("rate limit", rate);
  line("redact keys", s.redact_keys.empty() ? "none" : join(s.redact_keys));
  line("redact patterns", pattern_names(s.redact_patterns));
  return out;
}

ProcessorFactories build_processor_factories(const ProcessingSettings& s, bool k8s_api,
                                             ProcessorStats& stats, SteadyClockFn clock) {
  ProcessorFactories out;
  if (k8s_api) out.push_back(std::make_shared<AnnotationExcludeFactory>(true, stats));
  if (s.min_level || k8s_api) out.push_back(std::make_shared<LevelFilterFactory>(s.min_level, k8s_api, stats));
  if (s.throttle.rate != 0 || k8s_api) {
    out.push_back(std::make_shared<ThrottleFactory>(s.throttle, k8s_api, std::move(clock), stats));
  }
  auto redact = std::make_shared<RedactConfig>();
  redact->keys = KeySet(s.redact_keys);
  redact->patterns = s.redact_patterns;
  if (redact->enabled()) out.push_back(std::make_shared<RedactFactory>(std::move(redact), stats));
  return out;
}

}  // namespace logship::processors
