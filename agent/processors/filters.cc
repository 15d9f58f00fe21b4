#include "agent/processors/filters.h"

#include <fnmatch.h>

#include "agent/processors/json_scan.h"

namespace logship::processors {
namespace {

bool matches_any(const std::vector<std::string>& globs, std::string_view name) {
  if (globs.empty()) return false;
  const std::string text(name);  // fnmatch needs a terminated string
  for (const std::string& glob : globs) {
    if (fnmatch(glob.c_str(), text.c_str(), 0) == 0) return true;
  }
  return false;
}

/// "true" -> 1, "false" -> 0, anything else -> -1.
int truth(const std::string& value) {
  if (json_scan::iequals_lower(value, "true")) return 1;
  if (json_scan::iequals_lower(value, "false")) return 0;
  return -1;
}

}  // namespace

bool PathFilter::excluded(std::string_view namespace_name, std::string_view container) const {
  if (namespace_name.empty()) return false;  // not a kubelet path: no rule applies
  if (!settings_.include_namespaces.empty() &&
      !matches_any(settings_.include_namespaces, namespace_name)) {
    return true;
  }
  if (matches_any(settings_.exclude_namespaces, namespace_name)) return true;
  return !container.empty() && matches_any(settings_.exclude_containers, container);
}

bool annotation_excludes(const AnnotationMap* annotations, std::string_view container,
                         ProcessorStats& stats) {
  if (annotations == nullptr) return false;
  bool excluded = false;
  const auto check = [&](const std::string* value) {
    if (value == nullptr) return;
    const int t = truth(*value);
    if (t < 0) stats.annotation_errors.fetch_add(1, std::memory_order_relaxed);
    excluded |= t == 1;
  };
  check(find_annotation(annotations, kAnnotationExclude));
  if (!container.empty()) {
    std::string key(kAnnotationExcludePrefix);
    key.append(container);
    check(find_annotation(annotations, key));
  }
  return excluded;
}

void AnnotationExcludeProcessor::process(const Record& record, RecordEmitter& next) {
  if (watch_.changed(record.source)) {
    excluded_ = annotation_excludes(watch_.map(),
                                    record.source != nullptr ? std::string_view(record.source->container)
                                                             : std::string_view(),
                                    stats_);
  }
  if (excluded_) {
    stats_.dropped_excluded.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  next.emit(record);
}

ProcessorPtr AnnotationExcludeFactory::create(const SourceInfo& /*source*/) const {
  if (!k8s_api_) return nullptr;
  return std::make_unique<AnnotationExcludeProcessor>(stats_);
}

void LevelFilter::process(const Record& record, RecordEmitter& next) {
  if (watch_.changed(record.source)) {
    min_ = global_;
    if (const std::string* value = find_annotation(watch_.map(), kAnnotationMinLevel)) {
      if (const auto level = min_level_from_name(*value)) {
        min_ = level;
      } else {
        stats_.annotation_errors.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  if (!min_ || *min_ == Level::kTrace) {
    next.emit(record);
    return;
  }
  const std::optional<Level> level = record.kind == PayloadKind::kJsonObject
                                         ? json_level(record.payload)
                                         : text_level(record.payload);
  if (level && *level < *min_) {
    stats_.dropped_level.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  next.emit(record);
}

ProcessorPtr LevelFilterFactory::create(const SourceInfo& /*source*/) const {
  if (!global_ && !k8s_api_) return nullptr;
  return std::make_unique<LevelFilter>(global_, stats_);
}

}  // namespace logship::processors
