#pragma once
// Dropping processors: exclusion by path (a predicate for the tail source)
// and by pod annotation, and the level filter.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/processor.h"
#include "agent/processors/annotations.h"
#include "agent/processors/level.h"
#include "agent/processors/processor_stats.h"

namespace logship::processors {

/// LOGSHIP_INCLUDE_NAMESPACES, LOGSHIP_EXCLUDE_NAMESPACES,
/// LOGSHIP_EXCLUDE_CONTAINERS: fnmatch(3) globs (`*`, `?`, `[..]`,
/// case-sensitive, as Kubernetes names are lower case).
struct PathFilterSettings {
  std::vector<std::string> include_namespaces = {};  ///< empty: every namespace
  std::vector<std::string> exclude_namespaces = {};
  std::vector<std::string> exclude_containers = {};
};

/// The path rules, evaluated by the tail source before it opens a file: an
/// excluded file is never opened and its checkpoint is not touched.
/// Sources without a namespace (paths that are not kubelet's, stdin) are
/// never excluded. Thread-safe (const).
class PathFilter {
 public:
  PathFilter() = default;
  explicit PathFilter(PathFilterSettings settings) : settings_(std::move(settings)) {}

  [[nodiscard]] bool active() const {
    return !settings_.include_namespaces.empty() || !settings_.exclude_namespaces.empty() ||
           !settings_.exclude_containers.empty();
  }
  /// `namespace_name` and `container` as parse_k8s_path() gives them.
  [[nodiscard]] bool excluded(std::string_view namespace_name, std::string_view container) const;
  [[nodiscard]] bool excluded(const SourceInfo& source) const {
    return excluded(source.namespace_name, source.container);
  }

 private:
  PathFilterSettings settings_;
};

/// Whether `logship.io/exclude: "true"` or `logship.io/exclude-<container>:
/// "true"` excludes this container. Values compare case-insensitively;
/// "false" keeps it; anything else counts an annotation error and keeps it.
[[nodiscard]] bool annotation_excludes(const AnnotationMap* annotations,
                                       std::string_view container, ProcessorStats& stats);

/// Drops every record of a source whose pod annotations exclude it.
class AnnotationExcludeProcessor final : public Processor {
 public:
  explicit AnnotationExcludeProcessor(ProcessorStats& stats) : stats_(stats) {}
  [[nodiscard]] std::string_view name() const override { return "exclude"; }
  void process(const Record& record, RecordEmitter& next) override;

 private:
  ProcessorStats& stats_;
  AnnotationWatch watch_;
  bool excluded_ = false;
};

class AnnotationExcludeFactory final : public ProcessorFactory {
 public:
  /// `k8s_api`: annotations can exist at all; without the API no processor is built.
  AnnotationExcludeFactory(bool k8s_api, ProcessorStats& stats) : k8s_api_(k8s_api), stats_(stats) {}
  [[nodiscard]] ProcessorPtr create(const SourceInfo& source) const override;

 private:
  bool k8s_api_;
  ProcessorStats& stats_;
};

/// Drops records below the minimum level (LOGSHIP_MIN_LEVEL, overridden by
/// the pod annotation `logship.io/min-level`). Records with no level ship.
class LevelFilter final : public Processor {
 public:
  LevelFilter(std::optional<Level> global_min, ProcessorStats& stats)
      : global_(global_min), min_(global_min), stats_(stats) {}
  [[nodiscard]] std::string_view name() const override { return "level"; }
  void process(const Record& record, RecordEmitter& next) override;

 private:
  std::optional<Level> global_;
  std::optional<Level> min_;  ///< effective for the current annotations
  ProcessorStats& stats_;
  AnnotationWatch watch_;
};

class LevelFilterFactory final : public ProcessorFactory {
 public:
  LevelFilterFactory(std::optional<Level> global_min, bool k8s_api, ProcessorStats& stats)
      : global_(global_min), k8s_api_(k8s_api), stats_(stats) {}
  /// Null when no minimum is set and no annotation can set one.
  [[nodiscard]] ProcessorPtr create(const SourceInfo& source) const override;

 private:
  std::optional<Level> global_;
  bool k8s_api_;
  ProcessorStats& stats_;
};

}  // namespace logship::processors
