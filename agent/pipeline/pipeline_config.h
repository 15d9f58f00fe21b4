#pragma once
// The pipeline's and the agent process's own settings: state directory,
// release, memory budget, batching, run mode, shutdown, the health/metrics
// endpoint and the agent's log level. main maps them (with TailSettings and
// K8sSettings) into pipeline::Options.

#include <chrono>
#include <cstdint>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/config/key_spec.h"
#include "agent/tail/tail_config.h"

namespace logship::pipeline {

/// The agent's own log verbosity (LOGSHIP_LOG_LEVEL).
enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Set from the keys below by the config engine; the initialisers only keep
/// a default-constructed struct determinate (the defaults live in the rows).
struct PipelineSettings {
  std::string state_dir;
  std::optional<std::string> release;  ///< nullopt when LOGSHIP_RELEASE is unset
  size_t memory_limit = 0;
  size_t batch_max_bytes = 0;
  std::chrono::milliseconds batch_timeout{};
  config::ListenAddress listen;
  bool oneshot = false;
  LogLevel log_level{};
  std::chrono::milliseconds shutdown_timeout{};
  uint32_t workers = 0;  ///< LOGSHIP_WORKERS; 0: auto (cpu_count.h resolve_workers)
};

/// LOGSHIP_STATE_DIR, LOGSHIP_RELEASE, LOGSHIP_MEMORY_LIMIT,
/// LOGSHIP_BATCH_MAX_BYTES, LOGSHIP_BATCH_TIMEOUT_MS, LOGSHIP_LISTEN,
/// LOGSHIP_ONESHOT, LOGSHIP_LOG_LEVEL, LOGSHIP_SHUTDOWN_TIMEOUT_MS,
/// LOGSHIP_WORKERS.
[[nodiscard]] std::span<const config::KeySpec> pipeline_keys();

/// The memory budget must hold two batches and two records of the tail's
/// size. Throws config::ConfigError.
void validate(const PipelineSettings& settings, const tail::TailSettings& tail);

[[nodiscard]] std::string_view to_string(LogLevel level);

}  // namespace logship::pipeline
