#pragma once
// What the Kafka sink needs from one output record, read from the structure
// the record encoder stored beside it in the Batch (agent/core/record_fields.h):
// release, trace_id and k8s namespace/pod/container, with no scan of the
// record and no dependency on the order of its members. From them come the
// message key, the topic (placeholders filled) and the headers. The record
// itself is the message value, never re-serialised.
//
// Threading: everything here is either pure or owned by one thread (the
// sink's producer thread).

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/json_text.h"
#include "sinks/kafka/kafka_types.h"

namespace logship::sinks::kafka {

/// A JSON string's content as it appears in the record: escapes included.
/// Whether it holds an escape is found only when the text is used (a
/// memchr over record bytes the producer thread has not touched yet, which
/// showed in profiles when done for every field of every record).
struct JsonText {
  std::string_view raw;  ///< between the quotes
  bool present = false;

  /// Holds a backslash escape.
  [[nodiscard]] bool escaped() const { return !raw.empty() && std::memchr(raw.data(), '\\', raw.size()) != nullptr; }

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

/// The head of record `index` of `batch`, from its stored structure. Views
/// point into the batch. A record without structure has an empty head (no
/// key, no headers, the fallback topic when the topic has placeholders).
[[nodiscard]] RecordHead record_head(const Batch& batch, size_t index);

/// Decoding of a JSON string's content (one copy, in agent/core).
using logship::decode_json_string;

/// The message key for `mode`, or nullopt for no key (then librdkafka's
/// sticky partitioner spreads records): trace_id -> the trace id; pod ->
/// "<namespace>/<pod>"; container -> "<namespace>/<pod>/<container>" (pod
/// names are only unique within a namespace). Missing metadata -> nullopt.
/// The view points into the record or into `scratch`.
[[nodiscard]] std::optional<std::string_view> message_key(KafkaKey mode, const RecordHead& head,
                                                          std::string& scratch);

/// Picks each record's topic from LOGSHIP_KAFKA_TOPIC: a fixed name, or a
/// template whose placeholders are filled from the record's k8s metadata.
/// A record that lacks a needed field, or whose filled-in name is not a
/// valid Kafka topic name, goes to the fallback topic.
class TopicRouter {
 public:
  TopicRouter(std::vector<TopicPart> parts, std::optional<std::string> fallback);

  /// The topic for a record. The view stays valid until the next call.
  [[nodiscard]] std::string_view route(const RecordHead& head);

  /// The fixed topic, or nullopt when the topic has placeholders.
  [[nodiscard]] const std::optional<std::string>& fixed() const { return fixed_; }
  [[nodiscard]] const std::optional<std::string>& fallback() const { return fallback_; }

 private:
  std::vector<TopicPart> parts_;
  std::optional<std::string> fixed_;
  std::optional<std::string> fallback_;
  std::string topic_;    // the last filled-in name
  std::string scratch_;  // decoding of escaped metadata
};

}  // namespace logship::sinks::kafka
