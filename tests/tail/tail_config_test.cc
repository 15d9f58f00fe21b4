// The tail source's keys on their own: loaded through the engine with only
// this component's section, and its validate().

#include "agent/tail/tail_config.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/config/config.h"

using logship::config::ConfigError;
using logship::tail::TailSettings;

namespace {

TailSettings load(const std::vector<std::string>& args) {
  TailSettings s;
  const logship::config::Section sections[] = {logship::config::Section(logship::tail::tail_keys(), s)};
  (void)logship::config::load(sections, args, {});
  logship::tail::validate(s);
  return s;
}

}  // namespace

TEST_CASE("tail config: its keys load without any other component", "[tail][config]") {
  const TailSettings d = load({});
  CHECK(d.input_paths == std::vector<std::string>{"/var/log/containers/*.log"});
  CHECK(d.input_format == logship::tail::InputFormat::kAuto);
  CHECK(d.max_record_bytes == 1u << 20);
  CHECK(d.read_from == logship::tail::ReadFrom::kHead);
  CHECK_FALSE(d.reads_stdin());
  const TailSettings c = load({"--input-paths=-", "--input-format=raw", "--read-from=tail"});
  CHECK(c.reads_stdin());
  CHECK(c.input_format == logship::tail::InputFormat::kRaw);
  CHECK(logship::tail::to_string(c.read_from) == "tail");
}

TEST_CASE("tail config: stdin is a source of its own", "[tail][config]") {
  for (const char* paths : {"-,/a/*.log", "/a/*.log,-", "-,-"}) {
    INFO(paths);
    try {
      (void)load({std::string("--input-paths=") + paths});
      FAIL("accepted");
    } catch (const ConfigError& e) {
      CHECK(std::string(e.what()) == "LOGSHIP_INPUT_PATHS: - (standard input) cannot be combined with file globs");
    }
  }
}
