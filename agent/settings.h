#pragma once
// The agent's configuration: every component's typed settings, loaded by the
// engine (agent/config) from the union of their key tables, then validated
// by each component, all before anything starts. main uses this; the
// components never see each other's settings (a sink gets a SinkContext).

#include <map>
#include <string>
#include <vector>

#include "agent/admin/admin_config.h"
#include "agent/builtin_sinks.h"
#include "agent/config/config.h"
#include "agent/config/sink_context.h"
#include "agent/k8s/k8s_config.h"
#include "agent/pipeline/pipeline_config.h"
#include "agent/processors/processors_config.h"
#include "agent/tail/tail_config.h"

namespace logship {

struct AgentSettings {
  tail::TailSettings tail;
  pipeline::PipelineSettings pipeline;
  k8s::K8sSettings k8s;
  processors::FramingConfig framing;        ///< LOGSHIP_PARTIAL_TIMEOUT_MS, LOGSHIP_TIMESTAMP_FORMAT
  processors::ProcessorsConfig processors;  ///< multiline, filters, throttle, redaction
  admin::AdminConfig admin;                 ///< LOGSHIP_TAP, LOGSHIP_TAP_LISTEN, LOGSHIP_PROGRESS
  BuiltinSinks sinks;  ///< LOGSHIP_SINK, LOGSHIP_COMPRESSION and every sink's own

  /// Every component's keys bound to the fields above (which must outlive them).
  [[nodiscard]] std::vector<config::Section> sections();

  /// What the chosen sink gets besides its own settings.
  [[nodiscard]] config::SinkContext sink_context() const;
};

struct LoadedSettings {
  AgentSettings settings;
  config::Action action = config::Action::kRun;
};

/// Parses flags and environment (config::load) and, unless the action is
/// kHelp or kVersion, validates every component: each sink's keys whichever
/// is chosen, then k8s (with the in-cluster environment), tail, pipeline.
/// @throws config::ConfigError on the first problem.
[[nodiscard]] LoadedSettings load_settings(const std::vector<std::string>& args,
                                           const std::map<std::string, std::string>& env);

/// --check-config output for loaded settings.
[[nodiscard]] std::string render_settings(const AgentSettings& settings);

/// --help text (the defaults' table).
[[nodiscard]] std::string help_text();

}  // namespace logship
