// Tests for the configuration engine (agent/config/config.h) driven by small
// custom tables, for row features the real tables do not use (secret rows,
// exact rows inside a prefix family, sections and their order).

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "tests/config/config_test_util.h"

using namespace logship_config_test;  // NOLINT: test helpers and aliases

namespace {

namespace cfg = logship::config;

// A secret row, a pass-through prefix row and an exact row inside that
// family, bound to a test-only settings struct.
struct EngineSettings {
  std::optional<std::string> token;
  std::chrono::milliseconds timeout{};
  cfg::Entries options;
  std::string special;
};

constexpr cfg::KeySpec kEngineTable[] = {
    {
        .env = "LOGSHIP_TOKEN",
        .kind = cfg::Kind::kString,
        .secret = true,
        .help = "A secret.",
        .bind = cfg::bind<&EngineSettings::token>(),
    },
    {
        .env = "LOGSHIP_TIMEOUT",
        .kind = cfg::Kind::kInteger,
        .default_text = "5",
        .min = 1,
        .max = 10,
        .secret = true,
        .help = "A secret number.",
        .bind = cfg::bind<&EngineSettings::timeout>(),
    },
    {
        .env = "LOGSHIP_KAFKA_OPT_",
        .kind = cfg::Kind::kPrefix,
        .help = "Pass-through.",
        .bind = cfg::bind<&EngineSettings::options>(),
    },
    {
        // An exact row inside the prefix family wins over the prefix.
        .env = "LOGSHIP_KAFKA_OPT_SPECIAL",
        .kind = cfg::Kind::kPath,
        .help = "Exact name inside a prefix family.",
        .bind = cfg::bind<&EngineSettings::special>(),
    },
};

EngineSettings engine_load(const Args& args, const Env& env) {
  EngineSettings s;
  const cfg::Section sections[] = {cfg::Section(kEngineTable, s)};
  (void)cfg::load(sections, args, env);
  return s;
}

std::string engine_render(EngineSettings s) {
  const cfg::Section sections[] = {cfg::Section(kEngineTable, s)};
  return cfg::render(sections);
}

std::string engine_help() {
  EngineSettings s;
  const cfg::Section sections[] = {cfg::Section(kEngineTable, s)};
  return cfg::help(sections);
}

std::string engine_error(const Args& args, const Env& env) {
  try {
    (void)engine_load(args, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("load() did not throw");
  return {};
}

}  // namespace

TEST_CASE("engine: secrets are never printed", "[config]") {
  const EngineSettings c = engine_load({}, {{"LOGSHIP_TOKEN", "hunter2"}});
  CHECK(c.token == "hunter2");
  const auto rendered = engine_render(c);
  CHECK_THAT(rendered, Contains("LOGSHIP_TOKEN=<redacted>\n") &&
                           Contains("LOGSHIP_TIMEOUT=<redacted>\n"));
  CHECK_THAT(rendered, !Contains("hunter2"));
  // Unset secrets render empty, so "not configured" stays visible.
  CHECK_THAT(engine_render(engine_load({}, {})), Contains("LOGSHIP_TOKEN=\n"));
  // Bad values of a secret row do not echo the value.
  const auto message = engine_error({"--timeout=s3cr3t"}, {});
  CHECK_THAT(message, Contains("LOGSHIP_TIMEOUT (flag --timeout): <redacted> is not a decimal"));
  CHECK_THAT(message, !Contains("s3cr3t"));
  CHECK_THAT(engine_help(), Contains("secret"));
}

TEST_CASE("engine: prefix rows collect a pass-through family", "[config]") {
  const EngineSettings c = engine_load({"--kafka-opt-batch-size=100", "--kafka-opt-special=/s"},
                                       {{"LOGSHIP_KAFKA_OPT_BATCH_SIZE", "5"},
                                        {"LOGSHIP_KAFKA_OPT_ACKS", "all"}});
  // Flags win per entry; names are the env-spelt suffix.
  CHECK(c.options == cfg::Entries{{"ACKS", "all"}, {"BATCH_SIZE", "100"}});
  CHECK(c.special == "/s");
  const auto rendered = engine_render(c);
  CHECK_THAT(rendered, Contains("LOGSHIP_KAFKA_OPT_ACKS=all\nLOGSHIP_KAFKA_OPT_BATCH_SIZE=100\n"));
  CHECK_THAT(rendered, Contains("LOGSHIP_KAFKA_OPT_SPECIAL=/s\n"));
  CHECK_THAT(engine_error({}, {{"LOGSHIP_KAFKA_OPT_", "x"}}),
             Contains("LOGSHIP_KAFKA_OPT_: missing option name after the prefix"));
  CHECK_THAT(engine_error({"--kafka-opt-"}, {}), Contains("missing value"));
  CHECK_THAT(engine_help(), Contains("LOGSHIP_KAFKA_OPT_*") && Contains("--kafka-opt-*=<value>"));
}

TEST_CASE("engine: flag names derive from env names", "[config]") {
  CHECK(cfg::flag_name("LOGSHIP_BATCH_MAX_BYTES") == "batch-max-bytes");
  CHECK(cfg::flag_name("LOGSHIP_KAFKA_OPT_") == "kafka-opt-");
  // Every real row round-trips, so every setting really has its flag.
  Config settings;
  for (const auto& section : settings.sections()) {
    for (const auto& spec : section.keys()) {
      INFO(spec.env);
      CHECK(spec.env.starts_with("LOGSHIP_"));
      CHECK_FALSE(spec.help.empty());
      if (spec.kind == cfg::Kind::kPrefix) {
        CHECK(spec.bind.store_entries != nullptr);
        CHECK(spec.bind.fetch_entries != nullptr);
      } else {
        CHECK(spec.bind.store != nullptr);
        CHECK(spec.bind.fetch != nullptr);
      }
    }
  }
}

namespace {

struct OtherSettings {
  bool flag = false;
};
struct OrderSettings {
  std::string a, b, c;
};
constexpr cfg::KeySpec kOrderRows[] = {
    {.env = "LOGSHIP_C", .help = "c", .order = 30, .bind = cfg::bind<&OrderSettings::c>()},
    {.env = "LOGSHIP_A", .help = "a", .order = 10, .bind = cfg::bind<&OrderSettings::a>()},
};
constexpr cfg::KeySpec kMiddleRow[] = {
    {.env = "LOGSHIP_B", .help = "b", .order = 20, .bind = cfg::bind<&OrderSettings::b>()},
};

}  // namespace

TEST_CASE("engine: sections keep their rows apart and are listed by order", "[config]") {
  SECTION("a row bound to another struct is refused") {
    OtherSettings other;
    CHECK_THROWS_AS(cfg::Section(kOrderRows, other), std::logic_error);
  }
  SECTION("the union of two sections is listed by order, whatever section a row is in") {
    OrderSettings first, second;
    const cfg::Section sections[] = {cfg::Section(kOrderRows, first), cfg::Section(kMiddleRow, second)};
    CHECK(cfg::load(sections, {"--b=2", "--c=3"}, {{"LOGSHIP_A", "1"}}) == Action::kRun);
    CHECK(first.a == "1");
    CHECK(first.c == "3");
    CHECK(second.b == "2");  // stored into the second section's object
    CHECK(first.b.empty());
    CHECK(cfg::render(sections) == "LOGSHIP_A=1\nLOGSHIP_B=2\nLOGSHIP_C=3\n");
    const std::string help = cfg::help(sections);
    CHECK(help.find("LOGSHIP_A") < help.find("LOGSHIP_B"));
    CHECK(help.find("LOGSHIP_B") < help.find("LOGSHIP_C"));
  }
  SECTION("a name declared by two components is a programming error") {
    OrderSettings first, second;
    const cfg::Section sections[] = {cfg::Section(kMiddleRow, first), cfg::Section(kMiddleRow, second)};
    CHECK_THROWS_AS(cfg::load(sections, {}, {}), std::logic_error);
  }
  SECTION("the real union declares every name once") {
    Config settings;
    CHECK_NOTHROW(cfg::render(settings.sections()));
  }
}
