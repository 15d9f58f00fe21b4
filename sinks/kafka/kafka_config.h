#pragma once
// The Kafka sink's configuration: its LOGSHIP_KAFKA_* keys bound to
// KafkaSettings, their validation, and the typed options built from them:
// LOGSHIP_KAFKA_OPT_<NAME> suffixes mapped to librdkafka property names,
// <NAME>_FILE values read from their files (Kubernetes secrets), secrets
// marked so that no message ever shows them.
//
// Threading: plain data and pure functions.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/sink_context.h"
#include "agent/core/result.h"
#include "agent/core/sink.h"
#include "sinks/kafka/kafka_types.h"

namespace logship::sinks::kafka {

/// LOGSHIP_COMPRESSION when unset (librdkafka's codec names are the key's).
inline constexpr std::string_view kDefaultCompression = "zstd";

/// Set from the keys below by the config engine (the initialisers only keep
/// a default-constructed struct determinate; the defaults live in the rows).
struct KafkaSettings {
  std::vector<std::string> brokers;            ///< required when the sink is kafka
  std::string topic;                           ///< may hold {namespace}, {pod}, {container}
  std::optional<std::string> topic_fallback;   ///< required when topic has placeholders
  KafkaKey key{};
  /// LOGSHIP_KAFKA_OPT_<SUFFIX> pass-through, keyed by SUFFIX as spelt in the
  /// environment (e.g. "SASL_MECHANISM", "SASL_PASSWORD_FILE"); values raw.
  std::map<std::string, std::string> options;
};

/// LOGSHIP_KAFKA_BROKERS, LOGSHIP_KAFKA_TOPIC, LOGSHIP_KAFKA_TOPIC_FALLBACK,
/// LOGSHIP_KAFKA_KEY, LOGSHIP_KAFKA_OPT_*.
[[nodiscard]] std::span<const config::KeySpec> kafka_keys();

/// Every key's value whatever the sink; the brokers are required only when
/// `selected`. What only librdkafka can judge is checked by create().
/// Throws config::ConfigError.
void validate(const KafkaSettings& settings, const config::SinkContext& context, bool selected);

/// Builds the options and the sink (which checks the properties with
/// librdkafka and waits briefly for a broker); errors name the key.
[[nodiscard]] Result<SinkPtr> create(const KafkaSettings& settings, const config::SinkContext& context);

/// Whether a LOGSHIP_KAFKA_OPT_<SUFFIX> value is a secret and must never be
/// printed (--check-config, error messages, logs): the librdkafka property
/// name (suffix lowercased, '_' -> '.') contains password, secret, key,
/// token or sasl.oauthbearer.config. A <NAME>_FILE entry holds a path, which
/// is shown; the file's content is secret whatever the name.
[[nodiscard]] bool is_secret_kafka_option(std::string_view suffix);

/// One librdkafka property given by the user.
struct Property {
  std::string name;    ///< librdkafka's name, e.g. "sasl.mechanism"
  std::string value;   ///< the value (read from the file for _FILE entries)
  std::string origin;  ///< the setting it came from, e.g. "LOGSHIP_KAFKA_OPT_SASL_MECHANISM"
  bool secret = false; ///< never printed: from a file, or a credential by name

  friend bool operator==(const Property&, const Property&) = default;
};

/// Everything KafkaSink::create needs.
struct KafkaSinkOptions {
  std::string brokers;  ///< bootstrap.servers, comma-separated
  std::vector<TopicPart> topic;
  std::string topic_text;  ///< LOGSHIP_KAFKA_TOPIC as written, for messages
  std::optional<std::string> topic_fallback;
  KafkaKey key = KafkaKey::kNone;
  std::string compression = "zstd";  ///< librdkafka's compression.codec value
  /// User properties, applied after logship's defaults (so they can tune
  /// them), in a stable order.
  std::vector<Property> properties;
  size_t memory_limit = size_t{64} << 20;
  size_t max_record_bytes = size_t{1} << 20;
  /// true (follow mode): failed messages are produced again by the sink,
  /// with backoff, until delivered. false (oneshot): a batch with a failed
  /// message is reported kRetry, so the pipeline's bounded retry policy
  /// applies and the run ends.
  bool redeliver_in_sink = true;
  /// How long create() waits for a broker to answer the startup check.
  std::chrono::milliseconds startup_timeout{5000};
  /// librdkafka statistics.interval.ms (broker RTT, broker states).
  int statistics_interval_ms = 5000;
  /// First redelivery delay, doubled per attempt up to retry_max.
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{30000};
};

/// Reads a secret file: its content without one trailing "\n" or "\r\n"
/// (as `echo` or `kubectl create secret --from-file` of an edited file
/// leave it). Errors name the path and errno text, never the content.
using SecretReader = std::function<Result<std::string>(const std::string& path)>;
[[nodiscard]] Result<std::string> read_secret_file(const std::string& path);

/// "SASL_MECHANISM" -> "sasl.mechanism": lower case, '_' -> '.'.
[[nodiscard]] std::string property_name(std::string_view suffix);

/// Builds the sink's options from validated settings and the sink context.
/// Fails when a _FILE cannot be read; the message names the setting.
[[nodiscard]] Result<KafkaSinkOptions> options_from_settings(const KafkaSettings& settings,
                                                             const config::SinkContext& context,
                                                             const SecretReader& read = read_secret_file);

}  // namespace logship::sinks::kafka
