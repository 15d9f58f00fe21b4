// The pipeline's keys on their own (with the tail's, whose record size the
// memory check needs), and its validate().

#include "agent/pipeline/pipeline_config.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/config/config.h"

using logship::config::ConfigError;
using logship::pipeline::PipelineSettings;
using logship::tail::TailSettings;

namespace {

struct Loaded {
  PipelineSettings pipeline;
  TailSettings tail;
};

Loaded load(const std::vector<std::string>& args) {
  Loaded l;
  const logship::config::Section sections[] = {
      logship::config::Section(logship::pipeline::pipeline_keys(), l.pipeline),
      logship::config::Section(logship::tail::tail_keys(), l.tail)};
  (void)logship::config::load(sections, args, {});
  logship::pipeline::validate(l.pipeline, l.tail);
  return l;
}

}  // namespace

TEST_CASE("pipeline config: keys, defaults and the memory check", "[pipeline][config]") {
  const Loaded d = load({});
  CHECK(d.pipeline.state_dir == "/var/lib/logship");
  CHECK_FALSE(d.pipeline.release);
  CHECK(d.pipeline.memory_limit == 64u << 20);
  CHECK(d.pipeline.listen == logship::config::ListenAddress{true, "0.0.0.0", 2020});
  CHECK(d.pipeline.log_level == logship::pipeline::LogLevel::kInfo);
  CHECK(load({"--oneshot", "--release=r"}).pipeline.release == "r");
  try {
    (void)load({"--memory-limit=4MiB", "--max-record-bytes=2MiB"});
    FAIL("accepted");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("LOGSHIP_MEMORY_LIMIT (--memory-limit): 4194304 bytes is below "
                                                   "the minimum of 6291456 bytes (6MiB)"));
  }
}

TEST_CASE("pipeline config: LOGSHIP_WORKERS is auto or 1..64", "[pipeline][config]") {
  CHECK(load({}).pipeline.workers == 0u);  // auto
  CHECK(load({"--workers=auto"}).pipeline.workers == 0u);
  CHECK(load({"--workers=AUTO"}).pipeline.workers == 0u);
  CHECK(load({"--workers=1"}).pipeline.workers == 1u);
  CHECK(load({"--workers=64"}).pipeline.workers == 64u);
  for (const char* bad : {"0", "65", "-1", "two", "2x", " "}) {
    INFO(bad);
    try {
      (void)load({std::string("--workers=") + bad});
      FAIL("accepted");
    } catch (const ConfigError& e) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains("LOGSHIP_WORKERS"));
    }
  }
}
