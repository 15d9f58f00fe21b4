#include "agent/settings.h"

namespace logship {

std::vector<config::Section> AgentSettings::sections() {
  std::vector<config::Section> out = {
      config::Section(tail::tail_keys(), tail),
      config::Section(pipeline::pipeline_keys(), pipeline),
      config::Section(k8s::k8s_keys(), k8s),
      config::Section(processors::framing_keys(), framing),
      config::Section(processors::processors_keys(), processors),
      config::Section(admin::admin_keys(), admin),
  };
  for (auto& section : sinks.sections()) out.push_back(section);
  return out;
}

config::SinkContext AgentSettings::sink_context() const {
  return config::SinkContext{
      .oneshot = pipeline.oneshot,
      .memory_budget = pipeline.memory_limit,
      .max_record_bytes = tail.max_record_bytes,
      .state_dir = pipeline.state_dir,
      .compression = sinks.compression(),
  };
}

LoadedSettings load_settings(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  LoadedSettings loaded;
  AgentSettings& s = loaded.settings;
  loaded.action = config::load(s.sections(), args, env);
  if (loaded.action == config::Action::kRun || loaded.action == config::Action::kCheckConfig) {
    s.sinks.validate(s.sink_context());
    k8s::validate(s.k8s, env);
    tail::validate(s.tail);
    pipeline::validate(s.pipeline, s.tail);
    processors::validate(s.processors);
    admin::validate(s.admin);
  }
  return loaded;
}

std::string render_settings(const AgentSettings& settings) {
  // sections() hands out writable bindings for load(); render() only reads
  // through them, so the const_cast never writes to `settings`.
  return config::render(const_cast<AgentSettings&>(settings).sections()) +
         processors::render_rules(settings.processors, settings.k8s.api);
}

std::string help_text() {
  AgentSettings defaults;
  return config::help(defaults.sections());
}

}  // namespace logship
