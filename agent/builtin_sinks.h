#pragma once
// The explicit list of built-in sinks (no static self-registration): one
// factory call per LOGSHIP_SINK value.

#include "agent/config/config.h"
#include "agent/core/result.h"
#include "agent/core/sink.h"

namespace logship {

/// Builds the sink chosen by LOGSHIP_SINK. Errors name the key and reason.
[[nodiscard]] Result<SinkPtr> make_sink(const config::Config& config);

}  // namespace logship
