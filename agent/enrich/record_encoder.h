#pragma once
// Encodes one framed record as the output JSON object (the record contract):
// {"ts":…,"stream":…,"release":…,"trace_id":…,"span_id":…,"k8s":{…},"log":…,"truncated":true}
// Unknown fields are omitted. `log` is the app's JSON object, bytes passed
// through, when the payload is one; otherwise a JSON string of the text.
//
// Threading: one encoder per worker thread (it owns a reusable JSON parser).

#include <optional>
#include <string>
#include <string_view>

#include "parsers/framing/framer.h"
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

  /// Appends the record's JSON (no newline) to `out`.
  void encode(const framing::Frame& frame, const SourceContext& source, std::string& out);

 private:
  json::PayloadParser parser_;
  std::string release_member_;  ///< `"release":"…"` from LOGSHIP_RELEASE, or empty
};

}  // namespace logship::enrich
