#include "agent/processors/level.h"

#include <catch2/catch.hpp>

#include "agent/processors/filters.h"
#include "tests/processors/test_support.h"

using namespace logship;
using namespace logship::processors;
using logship::processors::testing::Collect;
using logship::processors::testing::make_record;
using logship::processors::testing::Padded;

namespace {

std::optional<Level> jl(std::string_view json) { return json_level(Padded(json).view()); }
std::optional<Level> tl(std::string_view text) { return text_level(Padded(text).view()); }

}  // namespace

TEST_CASE("level words: spellings and cases", "[processors][level]") {
  struct Row {
    std::string_view word;
    Level level;
  };
  const Row rows[] = {
      {"TRACE", Level::kTrace},   {"trc", Level::kTrace},      {"Verbose", Level::kTrace},
      {"finest", Level::kTrace},  {"debug", Level::kDebug},    {"DBG", Level::kDebug},
      {"D", Level::kDebug},       {"fine", Level::kDebug},     {"info", Level::kInfo},
      {"INFO", Level::kInfo},     {"Information", Level::kInfo}, {"notice", Level::kInfo},
      {"I", Level::kInfo},        {"warn", Level::kWarn},      {"WARNING", Level::kWarn},
      {"W", Level::kWarn},        {"wrn", Level::kWarn},       {"error", Level::kError},
      {"ERR", Level::kError},     {"e", Level::kError},        {"severe", Level::kError},
      {"dpanic", Level::kError},  {"FATAL", Level::kFatal},    {"critical", Level::kFatal},
      {"CRIT", Level::kFatal},    {"panic", Level::kFatal},    {"emerg", Level::kFatal},
      {"F", Level::kFatal},
  };
  for (const Row& row : rows) {
    INFO(row.word);
    CHECK(level_from_word(row.word) == row.level);
  }
  CHECK_FALSE(level_from_word("verbosely"));
  CHECK_FALSE(level_from_word(""));
  CHECK_FALSE(level_from_word("x"));
}

TEST_CASE("numeric levels: syslog 0..7, pino/bunyan 10..69", "[processors][level]") {
  CHECK(level_from_number("0") == Level::kFatal);
  CHECK(level_from_number("2") == Level::kFatal);
  CHECK(level_from_number("3") == Level::kError);
  CHECK(level_from_number("4") == Level::kWarn);
  CHECK(level_from_number("5") == Level::kInfo);
  CHECK(level_from_number("6") == Level::kInfo);
  CHECK(level_from_number("7") == Level::kDebug);
  CHECK(level_from_number("10") == Level::kTrace);
  CHECK(level_from_number("20") == Level::kDebug);
  CHECK(level_from_number("30") == Level::kInfo);
  CHECK(level_from_number("40") == Level::kWarn);
  CHECK(level_from_number("50") == Level::kError);
  CHECK(level_from_number("60") == Level::kFatal);
  CHECK(level_from_number("35") == Level::kInfo);
  CHECK_FALSE(level_from_number("8"));
  CHECK_FALSE(level_from_number("9"));
  CHECK_FALSE(level_from_number("70"));
  CHECK_FALSE(level_from_number("-1"));
  CHECK_FALSE(level_from_number("30.5"));
}

TEST_CASE("JSON level fields", "[processors][level]") {
  CHECK(jl(R"({"level":"info","msg":"x"})") == Level::kInfo);
  CHECK(jl(R"({"msg":"x","lvl":"WARN"})") == Level::kWarn);
  CHECK(jl(R"({"severity":"ERROR","message":"x"})") == Level::kError);
  CHECK(jl(R"({"@t":"2026","@l":"Debug","@m":"x"})") == Level::kDebug);
  CHECK(jl(R"({"levelname":"CRITICAL"})") == Level::kFatal);
  CHECK(jl(R"({"loglevel":"trace"})") == Level::kTrace);
  CHECK(jl(R"({"log.level":"warn","message":"x"})") == Level::kWarn);
  CHECK(jl(R"({"@timestamp":"t","log":{"logger":"a","level":"error"},"message":"x"})") == Level::kError);
  CHECK(jl(R"({"level":30,"msg":"pino"})") == Level::kInfo);
  CHECK(jl(R"({"level": 50 ,"msg":"pino"})") == Level::kError);
  CHECK(jl(R"({"severity":4})") == Level::kWarn);
  CHECK(jl(R"( { "Level" : "Warning" } )") == Level::kWarn);
  // Escapes in the key and the value are decoded.
  CHECK(jl(R"({"lev\u0065l":"\u0045RROR"})") == Level::kError);
  // Strings before the level with escaped quotes and braces do not confuse the scan.
  CHECK(jl(R"({"msg":"a \"level\":\"debug\" {","level":"fatal"})") == Level::kFatal);
}

TEST_CASE("JSON records without a readable level", "[processors][level]") {
  CHECK_FALSE(jl(R"({"msg":"no level here"})"));
  CHECK_FALSE(jl(R"({"level":"custom","msg":"x"})"));
  CHECK_FALSE(jl(R"({"level":null})"));
  // Nested deeper than the top level (except log.level) does not count.
  CHECK_FALSE(jl(R"({"http":{"level":"debug"},"msg":"x"})"));
  CHECK_FALSE(jl(R"({"items":[{"level":"debug"}]})"));
  CHECK_FALSE(jl("{}"));
  CHECK_FALSE(jl(R"({"level")"));  // cut short
}

TEST_CASE("first level field wins; an unreadable one is skipped", "[processors][level]") {
  CHECK(jl(R"({"level":"info","severity":"ERROR"})") == Level::kInfo);
  CHECK(jl(R"({"level":"custom","severity":"ERROR"})") == Level::kError);
}

TEST_CASE("text leading tokens", "[processors][level]") {
  CHECK(tl("ERROR something failed") == Level::kError);
  CHECK(tl("[WARN] disk almost full") == Level::kWarn);
  CHECK(tl("<info> started") == Level::kInfo);
  CHECK(tl("Error: connection refused") == Level::kError);
  CHECK(tl("  DEBUG x") == Level::kDebug);
  CHECK(tl("level=info msg=started") == Level::kInfo);
  CHECK(tl("lvl=\"warn\" msg=x") == Level::kWarn);
  CHECK(tl("I1126 12:00:00.000000       1 main.go:10] started") == Level::kInfo);
  CHECK(tl("E1126 12:00:00.000000       1 main.go:10] failed") == Level::kError);
  CHECK(tl("\x1b[31mERROR\x1b[0m colourful") == Level::kError);
  CHECK(tl("\x1b[1;33m[WARN]\x1b[0m colourful") == Level::kWarn);
  CHECK(tl("WARNING") == Level::kWarn);
}

TEST_CASE("text without a leading level token", "[processors][level]") {
  CHECK_FALSE(tl("2026-12-01 07:00:00 ERROR late token"));
  CHECK_FALSE(tl("I think so"));
  CHECK_FALSE(tl("Errors: 3"));
  CHECK_FALSE(tl("Config loaded from /etc/app"));
  CHECK_FALSE(tl("[WARN disk"));
  CHECK_FALSE(tl("GET /healthz 200"));
  CHECK_FALSE(tl(""));
}

TEST_CASE("level filter drops below the minimum, ships records without a level",
          "[processors][level]") {
  ProcessorStats stats;
  LevelFilter filter(Level::kWarn, stats);
  Collect out;
  const Padded debug(R"({"level":"debug","msg":"x"})");
  const Padded error(R"({"level":"error","msg":"x"})");
  const Padded none(R"({"msg":"x"})");
  const Padded text_info("INFO hello");
  const Padded text_plain("plain text");
  filter.process(make_record(debug, PayloadKind::kJsonObject), out);
  filter.process(make_record(error, PayloadKind::kJsonObject), out);
  filter.process(make_record(none, PayloadKind::kJsonObject), out);
  filter.process(make_record(text_info, PayloadKind::kText), out);
  filter.process(make_record(text_plain, PayloadKind::kText), out);
  REQUIRE(out.out.size() == 3);
  CHECK(out.out[0].payload == error.view());
  CHECK(out.out[0].data == error.view().data());  // passed through, not copied
  CHECK(out.out[1].payload == none.view());
  CHECK(out.out[2].payload == text_plain.view());
  CHECK(stats.dropped_level.load() == 2);
}

TEST_CASE("logship.io/min-level overrides per pod", "[processors][level]") {
  ProcessorStats stats;
  SourceInfo source;
  source.annotations = std::make_shared<AnnotationMap>(AnnotationMap{{"logship.io/min-level", "error"}});
  LevelFilterFactory factory(std::nullopt, true, stats);
  auto filter = factory.create(source);
  REQUIRE(filter);
  Collect out;
  const Padded warn(R"({"level":"warn"})");
  filter->process(make_record(warn, PayloadKind::kJsonObject, &source), out);
  CHECK(out.out.empty());
  // The pod's metadata changes: the annotation is gone, everything ships again.
  source.annotations = std::make_shared<AnnotationMap>();
  filter->process(make_record(warn, PayloadKind::kJsonObject, &source), out);
  CHECK(out.out.size() == 1);
  // A bad value is counted and the global setting (none) applies.
  source.annotations = std::make_shared<AnnotationMap>(AnnotationMap{{"logship.io/min-level", "loud"}});
  filter->process(make_record(warn, PayloadKind::kJsonObject, &source), out);
  CHECK(out.out.size() == 2);
  CHECK(stats.annotation_errors.load() == 1);
  // Without the API and without a global level no filter is built.
  CHECK_FALSE(LevelFilterFactory(std::nullopt, false, stats).create(source));
}
