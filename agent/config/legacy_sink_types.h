#pragma once
// TRANSITIONAL. The Kafka and HTTP sinks own their settings, keys and
// validation (sinks/kafka/kafka_config.h, sinks/http/http_config.h), but a
// few of their vocabulary types are still declared here, in the engine's
// namespace, because files being rewritten in parallel reach them through
// "agent/config/config.h" as config::HttpFormat, config::KafkaKey,
// config::TopicPart and config::parse_topic_template (sinks/http/formats.h,
// sinks/kafka/kafka_record.h, tests/sinks/kafka_record_test.cc, ...).
// Once those include the sink headers instead, move these declarations into
// the sinks' namespaces and delete this file. Nothing here is used by the
// engine itself.

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace logship::config {

/// Request body format of the HTTP sink (LOGSHIP_HTTP_FORMAT).
enum class HttpFormat { kNdjson, kLoki, kElasticsearch, kSplunkHec, kOtlp };
inline constexpr std::string_view kHttpFormatNames[] = {"ndjson", "loki", "elasticsearch", "splunk_hec",
                                                        "otlp"};
[[nodiscard]] inline std::string_view to_string(HttpFormat format) {
  return kHttpFormatNames[static_cast<size_t>(format)];
}

/// What a Kafka message's key is made of (LOGSHIP_KAFKA_KEY).
enum class KafkaKey { kNone, kTraceId, kPod, kContainer };
inline constexpr std::string_view kKafkaKeyNames[] = {"none", "trace_id", "pod", "container"};
[[nodiscard]] inline std::string_view to_string(KafkaKey key) {
  return kKafkaKeyNames[static_cast<size_t>(key)];
}

/// One piece of LOGSHIP_KAFKA_TOPIC: literal text or a placeholder filled
/// per record from its Kubernetes metadata.
struct TopicPart {
  enum class Kind { kText, kNamespace, kPod, kContainer };
  Kind kind = Kind::kText;
  std::string text;  ///< kText only

  friend bool operator==(const TopicPart&, const TopicPart&) = default;
};

/// Splits a topic template into parts, checking that it only uses the
/// placeholders {namespace}, {pod} and {container} (when `allow_placeholders`)
/// and characters Kafka allows in topic names (A-Z a-z 0-9 . _ -), and that a
/// template without placeholders is a valid topic name (1..249 characters,
/// not "." or ".."). The error is the reason, without the key.
/// Defined in sinks/kafka/kafka_config.cc (link logship_sink_kafka).
[[nodiscard]] std::expected<std::vector<TopicPart>, std::string> parse_topic_template(
    std::string_view topic, bool allow_placeholders);

/// Whether `topic` is a valid Kafka topic name (see parse_topic_template).
/// Defined in sinks/kafka/kafka_config.cc.
[[nodiscard]] bool valid_topic_name(std::string_view topic);

}  // namespace logship::config
