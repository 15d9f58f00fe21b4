#pragma once
// Request bodies for LOGSHIP_HTTP_FORMAT. Every format is built from the
// records of a Batch (logship's own JSON objects, one per line: ts, stream,
// release, trace_id, span_id, k8s{namespace,pod,pod_uid,container,
// container_id}, log, truncated) and the structure the encoder stored with
// them (no re-parse; see body_encoder.h, one file per format):
//
// | format          | path (when the URL has none) | body |
// |-----------------|------------------------------|------|
// | ndjson          | the URL as given             | the records, one per line (a whole batch: its bytes as they are) |
// | loki            | /loki/api/v1/push            | {"streams":[{"stream":{labels},"values":[["<unix ns>","<record>"],...]}]}; one stream per namespace/pod/container/stream, values oldest first |
// | elasticsearch   | /_bulk                       | per record {"create":{"_index":...}}\n then the record with "@timestamp" (= ts) first |
// | splunk_hec      | /services/collector/event    | per record {"time":<epoch s>,"sourcetype":"_json","source":...,"fields":{k8s},"event":<record>} |
// | otlp            | /v1/logs                     | OTLP/HTTP JSON ExportLogsServiceRequest; one resource per namespace/pod/container/release |
//
// Threading: an Encoder is used by one thread (it reuses its buffers).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/result.h"
#include "sinks/http/body_encoder.h"

namespace logship::sinks::http {


/// The records of one batch that one request carries: a contiguous range, or
/// an explicit list (the items of an Elasticsearch bulk request to retry).
class RecordSelection {
 public:
  static RecordSelection range(uint32_t begin, uint32_t end) { return RecordSelection(begin, end, {}); }
  static RecordSelection picks(std::vector<uint32_t> indices) {
    const auto n = static_cast<uint32_t>(indices.size());
    return RecordSelection(0, n, std::move(indices));
  }
  [[nodiscard]] size_t size() const { return end_ - begin_; }
  /// Index (in the batch) of the i-th record carried.
  [[nodiscard]] uint32_t operator[](size_t i) const {
    return picks_.empty() ? begin_ + static_cast<uint32_t>(i) : picks_[i];
  }
  /// Whether this is every record of a batch of `count` records, in order.
  [[nodiscard]] bool whole(size_t count) const { return picks_.empty() && begin_ == 0 && end_ == count; }
  /// The first and second half (each non-empty when size() >= 2).
  [[nodiscard]] std::pair<RecordSelection, RecordSelection> split() const;
  /// Records at positions `positions` (indices into this selection).
  [[nodiscard]] RecordSelection subset(const std::vector<uint32_t>& positions) const;

 private:
  RecordSelection(uint32_t b, uint32_t e, std::vector<uint32_t> p) : begin_(b), end_(e), picks_(std::move(p)) {}
  uint32_t begin_ = 0;
  uint32_t end_ = 0;
  std::vector<uint32_t> picks_;
};

/// Static description of a format.
struct FormatInfo {
  std::string_view default_path;  ///< "" for ndjson: the URL is used as given
  std::string_view content_type;
};
[[nodiscard]] FormatInfo format_info(HttpFormat format);

/// "2026-11-26T23:08:04.123456789+10:00" -> nanoseconds since the Unix
/// epoch. Accepts 'T' or 't' or ' ', any number of fractional digits (beyond
/// 9 ignored), 'Z'/'z' or a ±HH:MM offset. nullopt when malformed.
[[nodiscard]] std::optional<int64_t> rfc3339_to_unix_nanos(std::string_view ts);
/// A record's `ts` as unix nanoseconds; nullopt when absent, or when malformed
/// or outside 1677-2262 (then counted in timestamps_replaced_total()): the
/// caller uses its encoding time instead.
[[nodiscard]] std::optional<int64_t> record_time(std::string_view ts);
/// Records sent with the encoding time because their ts was unusable. Any thread.
[[nodiscard]] uint64_t timestamps_replaced_total();

/// OpenTelemetry severity number for a level name or a pino/bunyan number
/// ("warn" -> 13, "ERROR" -> 17, 30 -> 9); 0 when unknown.
[[nodiscard]] int severity_number(std::string_view level_text);
[[nodiscard]] int severity_number_from_int(int64_t level);
/// "fatal", "error", "warn", "info", "debug", "trace" for a severity number; "" for 0.
[[nodiscard]] std::string_view severity_name(int number);

class Encoder {
 public:
  /// `index_template`: LOGSHIP_HTTP_INDEX (elasticsearch only).
  Encoder(HttpFormat format, std::string index_template);
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  [[nodiscard]] HttpFormat format() const { return format_; }

  /// Replaces `out` with the body carrying `records` of `batch`. A record
  /// without structure (it cannot happen with logship's encoder, but a body
  /// must never be malformed) is carried as a string.
  [[nodiscard]] Result<void> encode(const Batch& batch, const RecordSelection& records, std::string& out);

  /// Elasticsearch index for one record: the template with {namespace} and
  /// the UTC date of `unix_nanos` (%Y %m %d; %% is a percent sign).
  [[nodiscard]] static std::string index_for(std::string_view index_template, std::string_view ns, int64_t unix_nanos);

 private:
  HttpFormat format_;
  BodyEncoderPtr body_;
};

/// An Elasticsearch _bulk response: which items failed and how.
struct BulkItemError {
  uint32_t position = 0;  ///< index of the item in the request
  unsigned status = 0;
  std::string reason;     ///< error.type: error.reason (bounded)
};
struct BulkResult {
  std::vector<BulkItemError> failed;  ///< empty when "errors" is false
};
/// Parses a 2xx _bulk response body. `items` is the number of actions sent:
/// a response with a different item count is an error (it cannot be
/// matched to the records).
[[nodiscard]] Result<BulkResult> parse_bulk_response(std::string_view body, size_t items);

}  // namespace logship::sinks::http
