#include "agent/processors/settings.h"

#include <catch2/catch.hpp>
#include <map>

using namespace logship;
using namespace logship::processors;

namespace {

SettingLookup env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view key) -> std::optional<std::string> {
    const auto it = vars.find(std::string(key));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(std::map<std::string, std::string> vars) {
  const auto r = load_processing_settings(env(std::move(vars)));
  return r ? std::string() : r.error().message;
}

}  // namespace

TEST_CASE("defaults", "[processors][settings]") {
  const auto s = load_processing_settings(env({}));
  REQUIRE(s);
  CHECK(s->path.include_namespaces.empty());
  CHECK_FALSE(s->min_level);
  CHECK(s->throttle.rate == 0);
  CHECK(s->redact_keys.size() == 12);
  CHECK(s->redact_patterns == kDefaultPatterns);
  const std::string rules = render_processing_rules(*s, false);
  CHECK(rules.find("min level: off") != std::string::npos);
  CHECK(rules.find("redact patterns: credit_card,bearer,jwt,aws_key,private_key") != std::string::npos);
  // Only redaction is on by default, and without the API nothing else is built.
  ProcessorStats stats;
  const auto factories = build_processor_factories(*s, false, stats);
  CHECK(factories.size() == 1);
  CHECK(build_processor_factories(*s, true, stats).size() == 4);
}

TEST_CASE("values parse and render", "[processors][settings]") {
  const auto s = load_processing_settings(env({{"LOGSHIP_INCLUDE_NAMESPACES", " shop , team-* "},
                                               {"LOGSHIP_EXCLUDE_CONTAINERS", "istio-proxy"},
                                               {"LOGSHIP_MIN_LEVEL", "WARNING"},
                                               {"LOGSHIP_RATE_LIMIT", "100"},
                                               {"LOGSHIP_REDACT_KEYS", "Password,SSN"},
                                               {"LOGSHIP_REDACT_PATTERNS", "email,jwt"}}));
  REQUIRE(s);
  CHECK(s->path.include_namespaces == std::vector<std::string>{"shop", "team-*"});
  CHECK(s->min_level == Level::kWarn);
  CHECK(s->throttle.effective_burst() == 200);
  CHECK(s->redact_keys == std::vector<std::string>{"password", "ssn"});
  CHECK(s->redact_patterns == (pattern_bit(RedactKind::kEmail) | pattern_bit(RedactKind::kJwt)));
  const std::string rules = render_processing_rules(*s, true);
  CHECK(rules.find("include namespaces: shop,team-*") != std::string::npos);
  CHECK(rules.find("min level: warn; per pod: logship.io/min-level") != std::string::npos);
  CHECK(rules.find("rate limit: 100 records/s per container, burst 200") != std::string::npos);
  CHECK(rules.find("redact patterns: email,jwt") != std::string::npos);

  const auto off = load_processing_settings(
      env({{"LOGSHIP_REDACT_KEYS", "none"}, {"LOGSHIP_REDACT_PATTERNS", "NONE"}}));
  REQUIRE(off);
  CHECK(off->redact_keys.empty());
  CHECK(off->redact_patterns == 0);
  ProcessorStats stats;
  CHECK(build_processor_factories(*off, false, stats).empty());
}

TEST_CASE("bad values fail naming the key", "[processors][settings]") {
  CHECK(error_of({{"LOGSHIP_MIN_LEVEL", "verbose"}}).starts_with("LOGSHIP_MIN_LEVEL: \"verbose\" is not a level"));
  CHECK(error_of({{"LOGSHIP_RATE_LIMIT", "ten"}}).starts_with("LOGSHIP_RATE_LIMIT: "));
  CHECK(error_of({{"LOGSHIP_RATE_LIMIT", "2000000"}}).find("out of bounds") != std::string::npos);
  CHECK(error_of({{"LOGSHIP_RATE_BURST", "5"}}).starts_with("LOGSHIP_RATE_BURST: set without"));
  CHECK(error_of({{"LOGSHIP_RATE_LIMIT", "5"}, {"LOGSHIP_RATE_BURST", "0"}}).starts_with("LOGSHIP_RATE_BURST: "));
  CHECK(error_of({{"LOGSHIP_EXCLUDE_NAMESPACES", "a,,b"}}).starts_with("LOGSHIP_EXCLUDE_NAMESPACES: empty item"));
  CHECK(error_of({{"LOGSHIP_EXCLUDE_CONTAINERS", "/var/log/x"}}).starts_with("LOGSHIP_EXCLUDE_CONTAINERS: "));
  CHECK(error_of({{"LOGSHIP_INCLUDE_NAMESPACES", "[ab"}}).find("unclosed") != std::string::npos);
  CHECK(error_of({{"LOGSHIP_REDACT_PATTERNS", "ssn"}}).starts_with("LOGSHIP_REDACT_PATTERNS: unknown pattern \"ssn\""));
  CHECK(error_of({{"LOGSHIP_REDACT_PATTERNS", "jwt,none"}}).starts_with("LOGSHIP_REDACT_PATTERNS: unknown pattern \"none\""));
  CHECK(error_of({{"LOGSHIP_REDACT_KEYS", "a\"b"}}).starts_with("LOGSHIP_REDACT_KEYS: "));
  CHECK(error_of({{"LOGSHIP_REDACT_KEYS", "x,none"}}).starts_with("LOGSHIP_REDACT_KEYS: "));
  CHECK(processing_key_rows().size() == 8);
}

TEST_CASE("counters are visited under their metric names", "[processors][settings]") {
  ProcessorStats stats;
  stats.dropped_level = 3;
  stats.add_redaction(RedactKind::kJwt, 2);
  std::map<std::string, uint64_t> seen;
  for_each_counter(stats, [&](std::string_view name, std::string_view label, std::string_view value, uint64_t n) {
    seen[std::string(name) + "{" + std::string(label) + "=" + std::string(value) + "}"] = n;
  });
  CHECK(seen.at("logship_records_dropped_total{reason=level}") == 3);
  CHECK(seen.at("logship_redactions_total{kind=jwt}") == 2);
  CHECK(seen.at("logship_records_dropped_total{reason=throttled}") == 0);
  CHECK(seen.count("logship_files_excluded_total{=}") == 1);
  CHECK(seen.size() == 3 + kRedactKindCount + 3);
}
