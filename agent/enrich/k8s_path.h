#pragma once
// Kubernetes metadata from a log file's path, as the kubelet lays them out:
//   /var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log
//   /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log
// Only the shape of the last path components is checked, so the same tree
// under another root (a test's temp dir, a hostPath mount) works too.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logship::enrich {

struct K8sMeta {
  std::string namespace_name;
  std::string pod;
  std::string pod_uid;       ///< only from the pods/ layout
  std::string container;
  std::string container_id;  ///< only from the containers/ layout
};

/// Metadata from the matched path (not the symlink target); nullopt for
/// other paths.
[[nodiscard]] std::optional<K8sMeta> parse_k8s_path(std::string_view path);

/// What the Kubernetes API adds to the path's metadata for one container.
struct PodDetails {
  std::string node;
  std::string pod_uid;
  std::string image;
  std::vector<std::pair<std::string, std::string>> labels;       ///< already filtered
  std::vector<std::pair<std::string, std::string>> annotations;  ///< already filtered
};

/// The `"k8s":{…}` member (no leading comma) for an output record; empty
/// fields are omitted. `details`, when known, adds node, pod_uid (if the path
/// had none), labels, annotations and the container image.
[[nodiscard]] std::string encode_k8s_member(const K8sMeta& meta, const PodDetails* details = nullptr);

}  // namespace logship::enrich
