#pragma once
// The pipeline's counters are the agent's (agent/core/stats.h); this name is
// kept for the pipeline's callers.

#include "agent/core/stats.h"

namespace logship::pipeline {
using Stats = logship::Stats;
}  // namespace logship::pipeline
