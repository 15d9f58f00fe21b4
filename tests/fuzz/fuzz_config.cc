// Config loader (agent/settings.h load_settings: the engine plus every
// component's keys and validation): any environment and command line either
// loads or fails with a ConfigError; nothing else (no crash, no other exception, no UB),
// and a loaded config renders for --check-config.
//
// Input: lines. "--..." lines are arguments; "NAME=value" lines are the
// environment (a NAME without the LOGSHIP_ prefix gets it, so the fuzzer
// reaches the real keys quickly); other lines are arguments too.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/settings.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  while (!in.empty()) {
    const size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    const size_t eq = line.find('=');
    if (line.starts_with("--") || eq == std::string_view::npos || eq == 0) {
      args.emplace_back(line);
      continue;
    }
    std::string name(line.substr(0, eq));
    if (!name.starts_with("LOGSHIP_")) name = "LOGSHIP_" + name;
    env.emplace(std::move(name), std::string(line.substr(eq + 1)));
  }
  try {
    const auto loaded = logship::load_settings(args, env);
    if (loaded.action == logship::config::Action::kRun || loaded.action == logship::config::Action::kCheckConfig) {
      const std::string rendered = logship::render_settings(loaded.settings);
      LOGSHIP_FUZZ_CHECK(!rendered.empty(), rendered);
      (void)loaded.settings.sink_context();
    }
  } catch (const logship::config::ConfigError& e) {
    LOGSHIP_FUZZ_CHECK(e.what()[0] != '\0', "empty ConfigError message");
  } catch (const std::exception& e) {
    logship::fuzz::violated("config load threw something other than ConfigError", e.what());
  }
  return 0;
}
