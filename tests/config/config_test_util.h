// Helpers shared by the configuration tests (config_test.cc,
// config_render_test.cc, config_engine_test.cc): load the union of the
// components' real key tables and read back values or errors.

#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/settings.h"
#include "sinks/file/file_config.h"

namespace logship_config_test {

using logship::config::Action;
using Config = logship::AgentSettings;
using logship::config::ConfigError;
using logship::config::ListenAddress;
using logship::pipeline::LogLevel;
using logship::tail::InputFormat;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Args = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

inline constexpr size_t kKiB = 1024;
inline constexpr size_t kMiB = 1024 * kKiB;
inline constexpr size_t kGiB = 1024 * kMiB;

inline Config load_config(const Args& args, const Env& env = {}) {
  return logship::load_settings(args, env).settings;
}

/// LOGSHIP_FILE_PATH as loaded into the file sink's settings.
inline std::string file_path_of(const Config& c) {
  const auto* file = c.sinks.settings_of<logship::sinks::FileSettings>();
  REQUIRE(file != nullptr);
  return file->path;
}

/// The ConfigError message, or a test failure if load() succeeded.
inline std::string error_of(const Args& args, const Env& env = {}) {
  try {
    (void)logship::load_settings(args, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("load() did not throw ConfigError");
  return {};
}

inline std::string env_error(const std::string& name, const std::string& value) {
  return error_of({}, {{name, value}});
}

inline size_t size_of(const std::string& text) {
  // A generous memory limit keeps the cross-key check out of the way.
  return load_config({"--memory-limit=1GiB"}, {{"LOGSHIP_BATCH_MAX_BYTES", text}})
      .pipeline.batch_max_bytes;
}

inline ListenAddress listen_of(const std::string& text) {
  return load_config({}, {{"LOGSHIP_LISTEN", text}}).pipeline.listen;
}

}  // namespace logship_config_test
