#pragma once
// The Kafka sink's vocabulary types: what a message key is made of and the
// parsed topic template. Shared by the settings (kafka_config.h), the record
// routing (kafka_record.h) and their tests without pulling in librdkafka.

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace logship::sinks::kafka {

/// What a Kafka message's key is made of (LOGSHIP_KAFKA_KEY).
enum class KafkaKey { kNone, kTraceId, kPod, kContainer };

/// The key's words, in the enum's order.
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
/// Defined in kafka_config.cc.
[[nodiscard]] std::expected<std::vector<TopicPart>, std::string> parse_topic_template(
    std::string_view topic, bool allow_placeholders);

/// Whether `topic` is a valid Kafka topic name (see parse_topic_template).
[[nodiscard]] bool valid_topic_name(std::string_view topic);

}  // namespace logship::sinks::kafka
