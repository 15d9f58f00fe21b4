#pragma once
// A Record is one logical log record between framing and encoding: what the
// processor stage sees. It views bytes owned by someone else (the reader's
// buffer, the framer's join buffer, or a processor's own buffer) and is valid
// only for the duration of the call that hands it over.
//
// No third-party types: the parsed payload is described by plain views, so
// processors never see simdjson.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace logship {

/// Per-source context, prepared once when a source (file, stdin) is opened
/// and refreshed when its pod metadata changes. Owned by the source; stable
/// while the source is open.
struct SourceInfo {
  std::string path;            ///< "-" for standard input
  std::string namespace_name;  ///< from the kubelet path; empty when unknown
  std::string pod;
  std::string container;
  /// The pod's annotations from the Kubernetes API (all of them, not only
  /// the ones LOGSHIP_K8S_ANNOTATIONS copies into records); null when the API
  /// is off or the pod is unknown. Processors read `logship.io/*` here.
  std::shared_ptr<const std::map<std::string, std::string>> annotations;
};

/// What the payload is, once the encoder's parser has looked at it.
enum class PayloadKind : uint8_t {
  kText,        ///< not a JSON object: shipped as a JSON string
  kJsonObject,  ///< exactly one valid JSON object: shipped byte for byte
};

/// One record. Views are valid only during the call that passes the record.
struct Record {
  std::string_view ts;       ///< the runtime's timestamp as shipped; empty when unknown
  std::string_view stream;   ///< "stdout"/"stderr"; empty when unknown
  std::string_view payload;  ///< the record text; 64 readable padding bytes follow it
  /// docker's "attrs" object (log-opt labels/env) as compact JSON; empty when none
  std::string_view attrs;
  PayloadKind kind = PayloadKind::kText;
  bool truncated = false;  ///< cut to LOGSHIP_MAX_RECORD_BYTES
  bool partial = false;    ///< a partial line shipped without its continuation (expired)
  /// Reading may resume here once this record and all before it are delivered.
  uint64_t commit_offset = 0;
  const SourceInfo* source = nullptr;  ///< never null inside the pipeline
};

}  // namespace logship
