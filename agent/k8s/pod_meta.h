#pragma once
// Pod metadata as records are enriched with it, and the rules that turn a
// pod object from the Kubernetes API into it: which labels and annotations
// are kept (LOGSHIP_K8S_LABELS / LOGSHIP_K8S_ANNOTATIONS) and where each
// container's release comes from (LOGSHIP_RELEASE_FROM).
//
// Everything here is a plain value or a pure function: no I/O, no locks.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/result.h"

namespace logship::k8s {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

/// One pod's metadata. Immutable once published in a PodCache: readers hold
/// it through shared_ptr<const PodMeta> and may keep it as long as they like.
struct PodMeta {
  std::string namespace_name, name, uid, node;
  StringPairs labels;       ///< only those allowed by the label filter, sorted by key
  StringPairs annotations;  ///< only those allowed by the annotation filter, sorted by key
  /// Every `logship.io/*` annotation, whatever the filter: the pod's own
  /// settings for logship (multiline, exclude, min-level, rate-limit), read
  /// by the processors and never copied into records.
  std::shared_ptr<const std::map<std::string, std::string>> control;
  /// container name -> image, for spec.containers, initContainers and
  /// ephemeralContainers.
  std::map<std::string, std::string> images;
  /// container name -> release per release_from; a container without one is
  /// absent.
  std::map<std::string, std::string> releases;

  /// The release of `container`, "" if it has none.
  [[nodiscard]] std::string release_for(std::string_view container) const;

  friend bool operator==(const PodMeta& a, const PodMeta& b) {
    const auto same_control = [](const auto& x, const auto& y) { return x == y || (x && y && *x == *y); };
    return a.namespace_name == b.namespace_name && a.name == b.name && a.uid == b.uid && a.node == b.node &&
           a.labels == b.labels && a.annotations == b.annotations && same_control(a.control, b.control) &&
           a.images == b.images && a.releases == b.releases;
  }
};

/// A pod as the API describes it, before filtering: what api_parser.h
/// extracts from a Pod object. All labels and annotations are here, since
/// release_from may name ones the filters drop.
struct PodObject {
  std::string namespace_name, name, uid, node, resource_version;
  StringPairs labels;       ///< in document order
  StringPairs annotations;  ///< in document order
  /// (container name, image) for containers, then initContainers, then
  /// ephemeralContainers.
  StringPairs containers;
  /// container name -> status imageID ("docker.io/library/nginx@sha256:…"),
  /// from the *ContainerStatuses arrays; the resolved digest of a tagless image.
  std::map<std::string, std::string> image_ids;
};

/// A set of names and prefixes: "app" matches exactly "app", "app.kubernetes.io/*"
/// matches every name starting with "app.kubernetes.io/", and "*" matches all.
class NameFilter {
 public:
  NameFilter() = default;  ///< matches nothing
  /// Fails with kInvalid on an empty pattern (the message names it).
  [[nodiscard]] static Result<NameFilter> create(const std::vector<std::string>& patterns);

  [[nodiscard]] bool matches(std::string_view name) const;
  [[nodiscard]] bool empty() const { return exact_.empty() && prefixes_.empty(); }

 private:
  std::vector<std::string> exact_;     // sorted, for binary search
  std::vector<std::string> prefixes_;  // without the trailing '*'
};

/// One entry of release_from.
struct ReleaseSource {
  enum class Kind { kLabel, kAnnotation, kImageTag };
  Kind kind = Kind::kImageTag;
  std::string key;  ///< label or annotation name; empty for kImageTag

  friend bool operator==(const ReleaseSource&, const ReleaseSource&) = default;
};

/// Parses "label:<key>", "annotation:<key>" or "image-tag" (kInvalid otherwise).
[[nodiscard]] Result<ReleaseSource> parse_release_source(std::string_view text);

/// The tag of an image reference, or its digest ("sha256:…") when it has no
/// tag; "" when it has neither. Registry ports are not tags:
///   "registry:5000/team/app:1.2"      -> "1.2"
///   "registry:5000/team/app"          -> ""
///   "app@sha256:ab…"                  -> "sha256:ab…"
///   "app:1.2@sha256:ab…"              -> "1.2"
[[nodiscard]] std::string image_tag(std::string_view image);

/// Turns PodObjects into PodMeta: filters labels and annotations and resolves
/// each container's release. Immutable after create(); safe to share.
class MetaPolicy {
 public:
  MetaPolicy() = default;  ///< keeps no labels or annotations, resolves no release
  /// Validates the patterns and sources (kInvalid, naming the bad entry).
  [[nodiscard]] static Result<MetaPolicy> create(const std::vector<std::string>& label_filter,
                                                 const std::vector<std::string>& annotation_filter,
                                                 const std::vector<std::string>& release_from);

  [[nodiscard]] PodMeta build(const PodObject& pod) const;

  /// The release of one container: the first source of release_from that
  /// is present and non-empty (an empty label value is as good as none).
  [[nodiscard]] std::string resolve_release(const PodObject& pod, std::string_view container,
                                            std::string_view image) const;

 private:
  NameFilter labels_, annotations_;
  std::vector<ReleaseSource> release_from_;
};

}  // namespace logship::k8s
