#pragma once
// What a sink gets from the agent besides its own settings: a small, fixed
// context instead of the whole configuration, so a sink cannot grow hidden
// dependencies on other components' keys.

#include <cstddef>
#include <string>

namespace logship::config {

struct SinkContext {
  /// LOGSHIP_ONESHOT: the run ends when the inputs are shipped (a sink must
  /// not wait for a destination for ever).
  bool oneshot = false;
  /// LOGSHIP_MEMORY_LIMIT: the agent's budget for buffered records, which a
  /// sink's own queues should stay within.
  size_t memory_budget = 0;
  /// LOGSHIP_MAX_RECORD_BYTES: the largest record a batch can hold.
  size_t max_record_bytes = 0;
  /// LOGSHIP_STATE_DIR: where a sink may keep files (e.g. a dead letter).
  std::string state_dir;
  /// LOGSHIP_COMPRESSION resolved for the chosen sink: the explicit value or
  /// the sink's default, as spelt in the key ("zstd", "gzip", "none", ...);
  /// empty for a sink without a default when the key is unset.
  std::string compression;
};

}  // namespace logship::config
