#pragma once
// The one interface behind every LOGSHIP_HTTP_FORMAT: a BodyEncoder writes the
// request body for some records of a Batch. Each format lives in its own
// file (format_<name>.cc) and reads the records' structure
// (agent/core/record_fields.h) that the record encoder stored in the batch:
// no record is parsed again. Only OTLP parses something: the app's log
// object, to map it to an AnyValue (it has to see its members).
//
// A record without structure (not written by the encoder; cannot happen in
// the pipeline) is carried as a JSON string, so a body is never malformed.
//
// Threading: an encoder is used by one thread (it reuses its buffers).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/batch.h"
#include "agent/core/record_fields.h"
#include "sinks/http/http_format.h"

namespace logship::sinks::http {

class RecordSelection;

class BodyEncoder {
 public:
  virtual ~BodyEncoder() = default;
  /// Replaces `out` with the body carrying `records` of `batch`.
  virtual void encode(const Batch& batch, const RecordSelection& records, std::string& out) = 0;
};
using BodyEncoderPtr = std::unique_ptr<BodyEncoder>;

/// The encoder for `format`. `index_template`: LOGSHIP_HTTP_INDEX
/// (elasticsearch only).
[[nodiscard]] BodyEncoderPtr make_body_encoder(HttpFormat format, std::string index_template);

// The formats' constructors (one per file).
[[nodiscard]] BodyEncoderPtr make_ndjson_encoder();
[[nodiscard]] BodyEncoderPtr make_loki_encoder();
[[nodiscard]] BodyEncoderPtr make_elasticsearch_encoder(std::string index_template);
[[nodiscard]] BodyEncoderPtr make_splunk_hec_encoder();
[[nodiscard]] BodyEncoderPtr make_otlp_encoder();

/// One record of a batch and its parts, as the formats read them. String
/// parts are their raw content as written (escapes included): copy them
/// between quotes to write the same JSON string, decode (json_text.h) to
/// read the text.
struct RecordRef {
  std::string_view raw;  ///< the record, without its newline
  const RecordFields* fields = nullptr;
  const K8sShape* shape = nullptr;
  std::string_view k8s;  ///< the k8s object, or empty

  RecordRef(const Batch& batch, uint32_t index);

  [[nodiscard]] bool structured() const { return fields->structured(); }
  [[nodiscard]] std::string_view part(FieldSpan span) const { return span.in(raw); }
  [[nodiscard]] std::string_view ts() const { return fields->ts.in(raw); }
  [[nodiscard]] std::string_view stream() const { return fields->stream.in(raw); }
  [[nodiscard]] std::string_view release() const { return fields->release.in(raw); }
  [[nodiscard]] std::string_view trace_id() const { return fields->trace_id.in(raw); }
  [[nodiscard]] std::string_view span_id() const { return fields->span_id.in(raw); }
  [[nodiscard]] std::string_view log() const { return fields->log.in(raw); }
  [[nodiscard]] std::string_view k8s_part(FieldSpan K8sShape::*member) const {
    return shape == nullptr ? std::string_view{} : (shape->*member).in(k8s);
  }
  [[nodiscard]] std::string_view ns() const { return k8s_part(&K8sShape::namespace_name); }
  [[nodiscard]] std::string_view pod() const { return k8s_part(&K8sShape::pod); }
  [[nodiscard]] std::string_view pod_uid() const { return k8s_part(&K8sShape::pod_uid); }
  [[nodiscard]] std::string_view container() const { return k8s_part(&K8sShape::container); }
  [[nodiscard]] std::string_view container_id() const { return k8s_part(&K8sShape::container_id); }
  /// The record's time (ts) in Unix nanoseconds, or `fallback`.
  [[nodiscard]] int64_t time_or(int64_t fallback) const;
};

// ---- small writers shared by the formats ----------------------------------

/// `"<raw>"`: a JSON string whose content is already JSON-escaped.
inline void append_quoted(std::string& out, std::string_view raw) {
  out += '"';
  out += raw;
  out += '"';
}
/// `"key":"<raw>"` after a comma unless first; nothing when `raw` is empty.
void append_member(std::string& out, std::string_view key, std::string_view raw, bool& first);
/// An OTLP KeyValue with a string value; nothing when `raw` is empty.
void append_kv_string(std::string& out, std::string_view key, std::string_view raw, bool& first);
void append_int(std::string& out, int64_t v);
[[nodiscard]] int64_t now_nanos();

}  // namespace logship::sinks::http
