#pragma once
// Shared by the targets that need a Batch (fuzz_http_formats,
// fuzz_kafka_record): fuzzed records encoded through the real
// enrich::RecordEncoder, as the pipeline does, so the sinks see batches with
// the structure they rely on.
//
// Input layout: a header up to the first 0xFE byte, then records separated
// by 0xFE. Header: byte 0 flags for the target, then free text the target
// uses as it likes (an index or topic template). Each record: byte 0 flags
// (bit 0 truncated, bit 1 partial, bit 2 k8s member, bit 3 pod release,
// bit 4 LOGSHIP_RELEASE-style global release: the first record's decides),
// then up to seven 0xFF-separated fields (ts, stream, release, namespace,
// pod, container, pod uid / container id), then the payload.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/record.h"
#include "agent/enrich/k8s_path.h"
#include "agent/enrich/record_encoder.h"
#include "parsers/json/payload_parser.h"

namespace logship::fuzz {

struct FuzzRecord {
  uint8_t flags = 0;
  std::string_view ts, stream, release;
  enrich::K8sMeta meta;
  bool has_k8s = false;
  bool has_release = false;
};

struct FuzzBatch {
  uint8_t header_flags = 0;
  std::string_view header_text;
  std::optional<std::string> global_release;  ///< LOGSHIP_RELEASE
  std::vector<FuzzRecord> records;            ///< in batch order
  Batch batch;
};

inline std::string_view take_field(std::string_view& rest, char sep, bool& found) {
  const size_t cut = rest.find(sep);
  found = cut != std::string_view::npos;
  const std::string_view f = rest.substr(0, cut);
  rest.remove_prefix(found ? cut + 1 : rest.size());
  return f;
}

/// Splits the input and encodes every record into `out.batch`. At most
/// `max_records` records (keeps the per-input time bounded).
inline void build_batch(const uint8_t* data, size_t size, FuzzBatch& out, size_t max_records = 64) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  bool found = false;
  std::string_view header = take_field(in, '\xfe', found);
  if (!header.empty()) {
    out.header_flags = static_cast<uint8_t>(header[0]);
    out.header_text = header.substr(1);
  }
  std::vector<std::string_view> chunks;
  while (found && chunks.size() < max_records) chunks.push_back(take_field(in, '\xfe', found));

  std::optional<enrich::RecordEncoder> encoder;
  std::string payload;
  for (std::string_view chunk : chunks) {
    FuzzRecord r;
    if (!chunk.empty()) {
      r.flags = static_cast<uint8_t>(chunk[0]);
      chunk.remove_prefix(1);
    }
    std::string_view fields[7];
    bool more = true;
    for (auto& f : fields) {
      if (!more) break;
      const size_t cut = chunk.find('\xff');
      if (cut == std::string_view::npos) break;
      f = chunk.substr(0, cut);
      chunk.remove_prefix(cut + 1);
    }
    r.ts = fields[0];
    r.stream = fields[1];
    r.release = fields[2];
    r.has_k8s = r.flags & 4;
    r.has_release = r.flags & 8;
    if (r.has_k8s) {
      r.meta.namespace_name = fields[3];
      r.meta.pod = fields[4];
      r.meta.container = fields[5];
      if (r.flags & 0x20) r.meta.pod_uid = fields[6];
      else r.meta.container_id = fields[6];
    }
    if (!encoder) {
      if (r.flags & 0x10) out.global_release = std::string(r.release);
      encoder.emplace(out.global_release);
    }
    enrich::SourceContext source;
    if (r.has_k8s) source.k8s_member = enrich::encode_k8s_member(r.meta);
    if (r.has_release) source.release_member = enrich::encode_release_member(r.release);

    // The encoder reads json::kPadding bytes past the payload.
    payload.assign(chunk);
    payload.append(json::kPadding, '\0');
    Record rec;
    rec.ts = r.ts;
    rec.stream = r.stream;
    rec.payload = std::string_view(payload.data(), chunk.size());
    rec.truncated = r.flags & 1;
    rec.partial = r.flags & 2;
    encoder->encode(rec, source, out.batch);
    out.records.push_back(std::move(r));
  }
}

}  // namespace logship::fuzz
