#pragma once
// The built-in sinks, from the one list in builtin_sinks.cc (no static
// self-registration): each sink's name (its LOGSHIP_SINK value), key table,
// validate and create functions. BuiltinSinks holds every sink's settings,
// so every sink's keys are loaded and validated whichever sink is chosen,
// and builds the chosen one.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/sink_context.h"
#include "agent/core/result.h"
#include "agent/core/sink.h"

namespace logship {

class BuiltinSinks {
 public:
  BuiltinSinks();
  ~BuiltinSinks();
  BuiltinSinks(BuiltinSinks&&) noexcept;
  BuiltinSinks& operator=(BuiltinSinks&&) noexcept;

  /// LOGSHIP_SINK and LOGSHIP_COMPRESSION, then every sink's own keys, bound
  /// to this object (which must outlive the sections).
  [[nodiscard]] std::vector<config::Section> sections();

  /// LOGSHIP_SINK as spelt ("stdout", "kafka", ...).
  [[nodiscard]] std::string_view chosen() const;

  /// LOGSHIP_COMPRESSION resolved for the chosen sink: the explicit value,
  /// else the sink's default ("zstd" for kafka, "gzip" for http), else "".
  [[nodiscard]] std::string compression() const;

  /// Validates every sink's settings (the chosen one with `selected`).
  /// @throws config::ConfigError naming the key and the reason.
  void validate(const config::SinkContext& context) const;

  /// Builds the chosen sink. Errors name the key and reason.
  [[nodiscard]] Result<SinkPtr> create(const config::SinkContext& context) const;

  /// One sink's settings by type (e.g. sinks::FileSettings), for tests and
  /// tools; nullptr when no listed sink uses that struct.
  template <class S>
  [[nodiscard]] const S* settings_of() const {
    return static_cast<const S*>(find_settings(&config::kOwnerTag<S>));
  }

  struct Selection;  ///< the values of LOGSHIP_SINK / LOGSHIP_COMPRESSION
  class Slot;        ///< one sink's settings and functions

 private:
  [[nodiscard]] const void* find_settings(const void* owner) const;

  std::unique_ptr<Selection> selection_;
  std::vector<std::unique_ptr<Slot>> slots_;  ///< in list order
};

}  // namespace logship
