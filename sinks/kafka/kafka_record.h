#pragma once
// What the Kafka sink needs from one output record, found without parsing it:
// the record's own members that logship writes before "log" (ts, stream,
// release, trace_id, span_id, k8s{...}) are scanned, and the scan stops at
// "log", so the cost does not depend on the size of the application's JSON.
// From them come the message key, the topic (placeholders filled) and the
// headers. The record itself is the message value, never re-serialised.
//
// Why a hand-written scan rather than simdjson: the head is logship's own,
// fixed shape (strings and one flat object of strings), a Batch holds no
// SIMDJSON_PADDING after its last record, and the scan touches ~150 bytes.
//
// Threading: everything here is either pure or owned by one thread (the
// sink's producer thread).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"

namespace logship::sinks::kafka {

/// A JSON string's content as it appears in the record: escapes included.
struct JsonText {
  std::string_view raw;  ///< between the quotes
  bool escaped = false;  ///< holds a backslash escape
  bool present = false;

  /// The decoded text: `raw` itself when nothing is escaped (no copy), else
  /// decoded into `scratch` (which the view then points into).
  [[nodiscard]] std::string_view decode(std::string& scratch) const;
};

/// logship's members at the head of one record.
struct RecordHead {
  JsonText release;
  JsonText trace_id;
  JsonText namespace_name;  ///< k8s.namespace
  JsonText pod;             ///< k8s.pod
  JsonText container;       ///< k8s.container
};

/// Scans `record` (one output record, no newline) up to its "log" member,
/// or up to "k8s" when `want_k8s` is false (the key and topic do not need
/// it; release and trace_id come before k8s in every record). Returns false
/// if the record does not start the way logship writes records; what was
/// found before the surprise is kept in `head`.
[[nodiscard]] bool scan_record_head(std::string_view record, RecordHead& head, bool want_k8s = true);

/// Decodes the content of a JSON string (between the quotes): \" \\ \/ \b
/// \f \n \r \t and \uXXXX (surrogate pairs joined, to UTF-8). A malformed
/// escape is copied as it is.
void decode_json_string(std::string_view raw, std::string& out);

/// The message key for `mode`, or nullopt for no key (then librdkafka's
/// sticky partitioner spreads records): trace_id -> the trace id; pod ->
/// "<namespace>/<pod>"; container -> "<namespace>/<pod>/<container>" (pod
/// names are only unique within a namespace). Missing metadata -> nullopt.
/// The view points into the record or into `scratch`.
[[nodiscard]] std::optional<std::string_view> message_key(config::KafkaKey mode, const RecordHead& head,
                                                          std::string& scratch);

/// Picks each record's topic from LOGSHIP_KAFKA_TOPIC: a fixed name, or a
/// template whose placeholders are filled from the record's k8s metadata.
/// A record that lacks a needed field, or whose filled-in name is not a
/// valid Kafka topic name, goes to the fallback topic.
class TopicRouter {
 public:
  TopicRouter(std::vector<config::TopicPart> parts, std::optional<std::string> fallback);

  /// The topic for a record. The view stays valid until the next call.
  [[nodiscard]] std::string_view route(const RecordHead& head);

  /// The fixed topic, or nullopt when the topic has placeholders.
  [[nodiscard]] const std::optional<std::string>& fixed() const { return fixed_; }
  [[nodiscard]] const std::optional<std::string>& fallback() const { return fallback_; }

 private:
  std::vector<config::TopicPart> parts_;
  std::optional<std::string> fixed_;
  std::optional<std::string> fallback_;
  std::string topic_;    // the last filled-in name
  std::string scratch_;  // decoding of escaped metadata
};

}  // namespace logship::sinks::kafka
