#pragma once
// The stdout and file sinks' keys and factories (see agent/builtin_sinks.cc).

#include <span>
#include <string>

#include "agent/config/key_spec.h"
#include "agent/config/sink_context.h"
#include "agent/core/result.h"
#include "agent/core/sink.h"

namespace logship::sinks {

/// The stdout sink has no settings of its own.
struct StdoutSettings {};

[[nodiscard]] std::span<const config::KeySpec> stdout_keys();
void validate(const StdoutSettings& settings, const config::SinkContext& context, bool selected);
[[nodiscard]] Result<SinkPtr> create(const StdoutSettings& settings, const config::SinkContext& context);

struct FileSettings {
  std::string path;  ///< LOGSHIP_FILE_PATH; empty unless set, required when chosen
};

/// LOGSHIP_FILE_PATH.
[[nodiscard]] std::span<const config::KeySpec> file_keys();
/// Throws config::ConfigError.
void validate(const FileSettings& settings, const config::SinkContext& context, bool selected);
[[nodiscard]] Result<SinkPtr> create(const FileSettings& settings, const config::SinkContext& context);

}  // namespace logship::sinks
