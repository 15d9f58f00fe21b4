#pragma once
// Builds Batches for sink tests from hand-written output records, with the
// structure the record encoder would have written beside them. The structure
// is derived here by scanning each record (test code only: production sinks
// read the encoder's structure and never scan). A record that is not a JSON
// object is added without structure, as an opaque record.
//
// tests/enrich/record_encoder_test.cc checks that this derivation and the
// encoder agree, so tests built on it see what production sees.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/json_text.h"

namespace logship::testing {

/// The structure of `record` as the encoder would describe it.
/// `shape` is set when the record has a k8s object shaped as logship writes it.
inline RecordFields derive_fields(std::string_view record, std::optional<K8sShape>& shape_out) {
  RecordFields f;
  K8sShape shape;
  bool has_shape = false;
  const bool ok = scan_members(record, [&](std::string_view name, FieldSpan v) {
    const std::string_view text = v.in(record);
    const bool is_string = text.size() >= 2 && text.front() == '"';
    const FieldSpan content{v.offset + 1, v.length >= 2 ? v.length - 2 : 0};
    if (name == "ts" && is_string) f.ts = content;
    else if (name == "stream" && is_string) f.stream = content;
    else if (name == "release" && is_string) f.release = content;
    else if (name == "trace_id" && is_string) f.trace_id = content;
    else if (name == "span_id" && is_string) f.span_id = content;
    else if (name == "k8s" && !text.empty() && text.front() == '{') {
      f.k8s = v;
      has_shape = scan_k8s_shape(text, shape);
    } else if (name == "log") {
      f.log = v;
      if (!text.empty() && text.front() == '{') f.flags |= RecordFields::kLogObject;
    } else if (name == "truncated" && text == "true") {
      f.flags |= RecordFields::kTruncated;
    } else if (name == "partial" && text == "true") {
      f.flags |= RecordFields::kPartial;
    }
  });
  if (!ok) return RecordFields{};
  f.flags |= RecordFields::kStructured;
  if (has_shape) shape_out = shape;
  return f;
}

/// Appends `record` to `batch` with its derived structure.
inline void add_record(Batch& batch, std::string_view record) {
  std::optional<K8sShape> shape;
  RecordFields f = derive_fields(record, shape);
  batch.data() += record;
  if (shape) f.k8s_shape = batch.add_k8s_shape(*shape);
  batch.end_record(f);
}

inline Batch structured_batch(const std::vector<std::string>& records) {
  Batch b;
  for (const auto& r : records) add_record(b, r);
  return b;
}

}  // namespace logship::testing
