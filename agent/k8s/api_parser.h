#pragma once
// Parsing of Kubernetes API responses with simdjson: Pod objects, PodList
// pages and watch events ({"type":…,"object":…}, one per line of a watch
// stream). Only the fields logship uses are extracted; unknown fields are
// ignored, as the API's compatibility rules expect of clients.
//
// Threading: an ApiParser reuses one simdjson parser's memory and is used by
// one thread at a time. simdjson stays out of this header.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/k8s/pod_meta.h"

namespace logship::k8s {

/// One page of `GET /api/v1/pods` (kind PodList).
struct PodListPage {
  std::string resource_version;  ///< metadata.resourceVersion: where a watch resumes
  std::string continue_token;    ///< metadata.continue; empty on the last page
  std::vector<PodObject> items;
};

/// One watch event.
struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kError;
  /// The object's metadata.resourceVersion (every type but kError).
  std::string resource_version;
  /// kAdded, kModified, kDeleted: the pod (kDeleted: its last state).
  PodObject pod;
  /// kError: the Status object's code (410 = the resourceVersion is too old)
  /// and message.
  int64_t code = 0;
  std::string message;
};

/// A Status object's code, reason and message, e.g. from a 4xx body.
struct ApiStatus {
  int64_t code = 0;
  std::string reason, message;
};

class ApiParser {
 public:
  ApiParser();
  ~ApiParser();
  ApiParser(const ApiParser&) = delete;
  ApiParser& operator=(const ApiParser&) = delete;

  /// A Pod object. kInvalid when it is not JSON, not an object, or lacks
  /// metadata.name or metadata.namespace.
  [[nodiscard]] Result<PodObject> parse_pod(std::string_view json);

  /// A PodList. kInvalid as parse_pod, also for any bad item: a list is
  /// applied whole or not at all.
  [[nodiscard]] Result<PodListPage> parse_pod_list(std::string_view json);

  /// One watch event line (surrounding whitespace allowed). kInvalid for
  /// unknown types, and for a pod event whose pod is invalid.
  [[nodiscard]] Result<WatchEvent> parse_watch_event(std::string_view json);

  /// A Status object (an error response's body); fields missing from it are
  /// left empty. kInvalid when the body is not a JSON object.
  [[nodiscard]] Result<ApiStatus> parse_status(std::string_view json);

  /// Drops the parser's buffers (they grow to the largest document parsed),
  /// e.g. after a large list.
  void release_memory();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logship::k8s
