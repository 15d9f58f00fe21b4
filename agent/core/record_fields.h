#pragma once
// The structure of one encoded record, kept beside its bytes in a Batch so
// that sinks find its parts (timestamp, stream, pod metadata, the log value)
// without parsing the record again. Written by the record encoder, which
// knows where it writes each part; read by the HTTP formats and the Kafka
// record builder.
//
// Offsets are relative to the first byte of the record ('{'). A string part
// (ts, stream, release, trace_id, span_id and the k8s strings) spans the
// string's content between its quotes, escapes included as written; use
// json_text.h to decode it. `k8s` spans the k8s object `{...}`; `log` spans
// the log value as written: the app's object, or a JSON string with its
// quotes.
//
// Memory: 60 bytes per record plus 40 bytes per distinct k8s object shape in
// a batch (usually one per source file), charged with the batch through
// Batch::memory_bytes().

#include <cstdint>
#include <string_view>

namespace logship {

/// A part of a record. `offset` 0 means absent: no part starts at the '{'.
struct FieldSpan {
  uint32_t offset = 0;
  uint32_t length = 0;

  [[nodiscard]] bool present() const { return offset != 0; }
  /// The part's bytes inside `base` (the record, or the k8s object for the
  /// spans of a K8sShape); empty when absent.
  [[nodiscard]] std::string_view in(std::string_view base) const {
    if (!present() || offset > base.size() || length > base.size() - offset) return {};
    return base.substr(offset, length);
  }
  friend bool operator==(const FieldSpan&, const FieldSpan&) = default;
};

/// Where the strings logship writes in the k8s object are, relative to the
/// object's '{'. The same for every record of a source, so a Batch keeps one
/// copy per distinct shape and records refer to it by index.
struct K8sShape {
  FieldSpan namespace_name;
  FieldSpan pod;
  FieldSpan pod_uid;
  FieldSpan container;
  FieldSpan container_id;

  friend bool operator==(const K8sShape&, const K8sShape&) = default;
};

/// The parts of one record.
struct RecordFields {
  static constexpr uint16_t kNoShape = 0xFFFF;
  enum Flag : uint8_t {
    kStructured = 1,  ///< written by the encoder: the spans below describe the record
    kLogObject = 2,   ///< `log` is the app's JSON object (else a JSON string)
    kTruncated = 4,   ///< the record carries "truncated":true
    kPartial = 8,     ///< the record carries "partial":true
  };

  FieldSpan ts;
  FieldSpan stream;
  FieldSpan release;
  FieldSpan trace_id;
  FieldSpan span_id;
  FieldSpan k8s;  ///< the k8s object, braces included
  FieldSpan log;  ///< the log value as written
  uint16_t k8s_shape = kNoShape;  ///< index into the batch's shapes (Batch::k8s_shape)
  uint8_t flags = 0;

  [[nodiscard]] bool structured() const { return (flags & kStructured) != 0; }
  [[nodiscard]] bool log_is_object() const { return (flags & kLogObject) != 0; }
  [[nodiscard]] bool truncated() const { return (flags & kTruncated) != 0; }
  [[nodiscard]] bool partial() const { return (flags & kPartial) != 0; }
};

}  // namespace logship
