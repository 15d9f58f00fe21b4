#pragma once
// Agent configuration: every setting is an environment variable LOGSHIP_<NAME>
// and the flag --<name> (the flag wins). One declarative table
// (config_table.cc) drives parsing, validation, --check-config output and
// --help, so a new setting is one table row plus one Config field.
//
// This is the only component allowed to throw: load() reports every problem
// as a ConfigError, which main catches before any thread starts.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace logship::config {

/// How tailed files are framed (LOGSHIP_INPUT_FORMAT).
enum class InputFormat { kAuto, kCri, kDocker, kRaw };

/// Where records go (LOGSHIP_SINK).
enum class SinkKind { kStdout, kFile, kKafka, kHttp };

/// Payload compression (LOGSHIP_COMPRESSION). Which codecs apply and which
/// one is the default depends on the sink: see effective_compression().
enum class Compression { kZstd, kLz4, kGzip, kSnappy, kNone };

/// What a Kafka message's key is made of (LOGSHIP_KAFKA_KEY).
enum class KafkaKey { kNone, kTraceId, kPod, kContainer };

/// Request body format of the HTTP sink (LOGSHIP_HTTP_FORMAT).
enum class HttpFormat { kNdjson, kLoki, kElasticsearch, kSplunkHec, kOtlp };

/// The agent's own log verbosity (LOGSHIP_LOG_LEVEL).
enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Where a file first seen without a checkpoint is read from (LOGSHIP_READ_FROM).
enum class ReadFrom { kHead, kTail };

/// The health/metrics endpoint (LOGSHIP_LISTEN). `host` is stored without
/// brackets, so an IPv6 host is e.g. "::1"; `enabled` is false for "off".
struct ListenAddress {
  bool enabled = true;
  std::string host = "0.0.0.0";
  uint16_t port = 2020;

  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

/// The validated, typed configuration. load() sets every field from the table;
/// the initialisers below only keep a default-constructed Config determinate
/// and are NOT the documented defaults (those live in the table alone).
struct Config {
  std::vector<std::string> input_paths;
  InputFormat input_format{};
  std::string state_dir;
  std::optional<std::string> release;  ///< nullopt when LOGSHIP_RELEASE is unset
  SinkKind sink{};
  std::string file_path;  ///< empty unless set; required when sink == kFile
  size_t max_record_bytes = 0;
  size_t memory_limit = 0;
  size_t batch_max_bytes = 0;
  std::chrono::milliseconds batch_timeout{};
  ListenAddress listen;
  bool oneshot = false;
  LogLevel log_level{};
  // Follow mode.
  std::chrono::milliseconds rescan_interval{};
  ReadFrom read_from{};
  size_t max_open_files = 0;
  std::chrono::milliseconds shutdown_timeout{};
  std::chrono::milliseconds rotate_wait{};
  // Kubernetes API metadata.
  bool k8s_api = false;
  std::string node_name;                    ///< required when k8s_api
  std::vector<std::string> k8s_labels;      ///< names or prefixes ending in '*'
  std::vector<std::string> k8s_annotations;
  std::vector<std::string> release_from;    ///< label:<k>, annotation:<k>, image-tag
  std::chrono::milliseconds k8s_wait{};
  std::string k8s_token_file;
  std::string k8s_ca_file;
  // Sink options shared by network sinks.
  std::optional<Compression> compression;  ///< nullopt: the sink's default (effective_compression)
  // Kafka sink.
  std::vector<std::string> kafka_brokers;  ///< required when sink == kKafka
  std::string kafka_topic;                 ///< may hold {namespace}, {pod}, {container}
  std::optional<std::string> kafka_topic_fallback;  ///< required when kafka_topic has placeholders
  KafkaKey kafka_key{};
  /// LOGSHIP_KAFKA_OPT_<SUFFIX> pass-through, keyed by SUFFIX as spelt in the
  /// environment (e.g. "SASL_MECHANISM", "SASL_PASSWORD_FILE"); values raw.
  /// The Kafka sink maps suffixes to librdkafka names and reads _FILE values.
  std::map<std::string, std::string> kafka_options;
  // HTTP sink. Secrets are read from the *_file paths by the sink, never
  // held here.
  std::string http_url;  ///< required when sink == kHttp; http:// or https://
  HttpFormat http_format{};
  std::string http_index;  ///< elasticsearch: may hold {namespace} and %Y %m %d
  std::optional<std::string> http_token_file;
  std::optional<std::string> http_user;
  std::optional<std::string> http_password_file;
  std::vector<std::string> http_headers;  ///< "Name=value" items
  std::optional<std::string> http_ca_file;
  std::optional<std::string> http_cert_file;
  std::optional<std::string> http_key_file;
  bool http_tls_insecure = false;
  uint32_t http_concurrency = 0;  ///< 0: adaptive; kHttpConcurrencyInvalid until checked
  std::chrono::milliseconds http_timeout{};
};

/// LOGSHIP_HTTP_CONCURRENCY: "adaptive" (any case) -> 0, a decimal number
/// -> itself (capped at kHttpConcurrencyInvalid - 1), anything else ->
/// kHttpConcurrencyInvalid. load() rejects values outside adaptive, 1..256.
inline constexpr uint32_t kHttpConcurrencyInvalid = UINT32_MAX;
[[nodiscard]] uint32_t parse_http_concurrency(std::string_view text);

/// What main should do after loading.
enum class Action { kRun, kCheckConfig, kHelp, kVersion };

/// Result of load(). For kHelp and kVersion `config` holds the table defaults
/// and nothing from the environment or the other flags has been validated.
struct Loaded {
  Config config;
  Action action = Action::kRun;
};

/// Any configuration problem. The message names the setting in its env
/// spelling (plus the flag when it came from one), the reason and what is
/// accepted, e.g. `LOGSHIP_SINK: "kafak" is not one of stdout, file`.
/// Values of secret settings never appear in messages.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Builds the configuration from flags and environment.
/// @param args the command line without argv[0].
/// @param env  the whole environment (name -> value); only LOGSHIP_* names are
///             read, and an unknown LOGSHIP_* name is an error. Empty values
///             count as unset.
/// `--help` and `--version` anywhere in `args` short-circuit before anything
/// else is looked at, so they work with a broken environment.
/// @throws ConfigError on the first problem found.
[[nodiscard]] Loaded load(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env);

/// Copies a POSIX `envp` (NAME=value, null-terminated; may be null) into a
/// map. Entries without '=' are skipped; for duplicate names the first one
/// wins, as with getenv().
[[nodiscard]] std::map<std::string, std::string> environment_map(char** envp);

/// The `--check-config` output: one `LOGSHIP_KEY=value` line per setting in
/// table order with canonical values (sizes in bytes, lists comma-joined,
/// unset optionals empty, listen as host:port / [v6]:port / off) and secret
/// values shown as `<redacted>`.
[[nodiscard]] std::string render_effective(const Config& config);

/// Usage text for `--help`: the special flags, then one line per setting with
/// env name, flag, type, default, bounds and description.
[[nodiscard]] std::string help_text();

/// Canonical spellings, as accepted in LOGSHIP_INPUT_FORMAT etc.
[[nodiscard]] std::string_view to_string(InputFormat format);
[[nodiscard]] std::string_view to_string(SinkKind sink);
[[nodiscard]] std::string_view to_string(LogLevel level);
[[nodiscard]] std::string_view to_string(Compression compression);
[[nodiscard]] std::string_view to_string(KafkaKey key);
[[nodiscard]] std::string_view to_string(HttpFormat format);

/// LOGSHIP_COMPRESSION resolved for the configured sink: the explicit value,
/// else the sink's default (zstd for kafka, gzip for http; kNone for sinks that do not
/// compress). One place, so --check-config shows what the sink will use.
[[nodiscard]] Compression effective_compression(const Config& config);

/// Whether a LOGSHIP_KAFKA_OPT_<SUFFIX> value is a secret and must never be
/// printed (--check-config, error messages, logs): the librdkafka property
/// name (suffix lowercased, '_' -> '.') contains password, secret, key,
/// token or sasl.oauthbearer.config. A <NAME>_FILE entry holds a path, which
/// is shown; the file's content is secret whatever the name (the Kafka sink
/// treats it so).
[[nodiscard]] bool is_secret_kafka_option(std::string_view suffix);

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
[[nodiscard]] std::expected<std::vector<TopicPart>, std::string> parse_topic_template(
    std::string_view topic, bool allow_placeholders);

/// Whether `topic` is a valid Kafka topic name (see parse_topic_template).
[[nodiscard]] bool valid_topic_name(std::string_view topic);

}  // namespace logship::config
