#pragma once
// Encodes one record as the output JSON object (the record contract):
// {"ts":…,"stream":…,"release":…,"trace_id":…,"span_id":…,"k8s":{…},"log":…,"truncated":true,"partial":true}
// Unknown fields are omitted. `log` is the app's JSON object, bytes passed
// through, when the payload is one; otherwise a JSON string of the text.
//
// The encoder appends the record to a Batch together with its structure
// (agent/core/record_fields.h): it knows where it writes each part, so it
// records the offsets as it goes and the sinks never parse the record again.
//
// Threading: one encoder per worker thread (it owns a reusable JSON parser
// and a cache of the last source's k8s shape).

#include <optional>
#include <string>
#include <string_view>

#include "agent/core/batch.h"
#include "agent/core/record.h"
#include "agent/core/record_fields.h"
#include "parsers/json/payload_parser.h"

namespace logship::enrich {

/// Per-file context prepared once when the file is opened.
struct SourceContext {
  std::string k8s_member;      ///< `"k8s":{…}` or empty
  std::string release_member;  ///< `"release":"…"` from pod metadata, or empty
};

/// `"release":"…"` for a record.
[[nodiscard]] std::string encode_release_member(std::string_view release);

class RecordEncoder {
 public:
  explicit RecordEncoder(const std::optional<std::string>& release);

  /// Appends `record` (payload followed by json::kPadding readable bytes) to
  /// `batch` as one output record with its structure, ended (newline).
  /// `record.kind` is not trusted: the encoder classifies the payload itself
  /// (it also needs the trace ids inside it).
  void encode(const Record& record, const SourceContext& source, Batch& batch);

  /// Appends the record's JSON (no newline) to `out` and returns its
  /// structure, offsets relative to where the record starts in `out`. The
  /// k8s_shape index is left unset (kNoShape): shapes belong to a Batch.
  /// For tools and tests that do not build a Batch.
  RecordFields encode(const Record& record, const SourceContext& source, std::string& out);

 private:
  /// The shape of `source`'s k8s object (cached: a worker encodes runs of
  /// records from one source). False when the member is not shaped as
  /// expected.
  const K8sShape* k8s_shape(const SourceContext& source);

  json::PayloadParser parser_;
  std::string release_member_;  ///< `"release":"…"` from LOGSHIP_RELEASE, or empty
  std::string cached_k8s_member_;
  K8sShape cached_shape_;
  bool cached_shape_ok_ = false;
};

}  // namespace logship::enrich
