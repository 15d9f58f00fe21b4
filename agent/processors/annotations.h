#pragma once
// Per-pod overrides from `logship.io/*` annotations (SourceInfo::annotations).
//
// A source's annotations map is replaced (new shared_ptr) when its pod's
// metadata changes, so a processor keeps the map it last read and re-reads
// its override only when the pointer differs: one pointer compare per record.
// Holding the shared_ptr (not a raw pointer) rules out a new map reusing the
// old address.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/record.h"

namespace logship::processors {

inline constexpr std::string_view kAnnotationExclude = "logship.io/exclude";
inline constexpr std::string_view kAnnotationExcludePrefix = "logship.io/exclude-";
inline constexpr std::string_view kAnnotationMinLevel = "logship.io/min-level";
inline constexpr std::string_view kAnnotationRateLimit = "logship.io/rate-limit";

using AnnotationMap = std::map<std::string, std::string>;

/// The annotation's value, or null when absent (or the API is off).
[[nodiscard]] inline const std::string* find_annotation(const AnnotationMap* annotations,
                                                        std::string_view key) {
  if (annotations == nullptr) return nullptr;
  const auto it = annotations->find(std::string(key));
  return it == annotations->end() ? nullptr : &it->second;
}

/// Tracks which annotations map a processor has applied.
class AnnotationWatch {
 public:
  /// True when the source's map differs from the one seen last (and then
  /// remembers it); the caller re-reads its overrides.
  [[nodiscard]] bool changed(const SourceInfo* source) {
    const auto& current = source != nullptr ? source->annotations : kNone;
    if (initialised_ && current == seen_) return false;
    initialised_ = true;
    seen_ = current;
    return true;
  }
  [[nodiscard]] const AnnotationMap* map() const { return seen_.get(); }

 private:
  static inline const std::shared_ptr<const AnnotationMap> kNone{};
  std::shared_ptr<const AnnotationMap> seen_;
  bool initialised_ = false;
};

}  // namespace logship::processors
