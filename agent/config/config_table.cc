// The settings table. Order here is the order of --check-config and --help.
// Defaults are written in the user's syntax and parsed by the same code as
// user input, so a default can never disagree with the documented syntax (a
// test loads the empty configuration to prove every default is valid).

#include <utility>

#include "agent/config/config_table.h"

namespace logship::config::detail {
namespace {

constexpr uint64_t kKiB = uint64_t{1} << 10;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

// Accessors shared by several rows. The std::get calls cannot fail: the
// engine guarantees the alternative that matches the row's Kind.
std::string take_string(Value&& v) { return std::get<std::string>(std::move(v)); }
uint64_t take_number(const Value& v) { return std::get<uint64_t>(v); }

constexpr KeySpec kKeys[] = {
    {
        .env = "LOGSHIP_INPUT_PATHS",
        .kind = Kind::kList,
        .default_text = "/var/log/containers/*.log",
        .help = "Comma-separated globs of files to tail.",
        .store = [](Config& c, Value&& v) {
          c.input_paths = std::get<std::vector<std::string>>(std::move(v));
        },
        .fetch = [](const Config& c) -> Value { return c.input_paths; },
    },
    {
        .env = "LOGSHIP_INPUT_FORMAT",
        .kind = Kind::kEnum,
        .default_text = "auto",
        .choices = kInputFormatNames,
        .help = "Line framing of the input files; auto detects CRI or Docker per file.",
        .store = [](Config& c, Value&& v) {
          c.input_format = static_cast<InputFormat>(take_number(v));
        },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.input_format); },
    },
    {
        .env = "LOGSHIP_STATE_DIR",
        .kind = Kind::kPath,
        .default_text = "/var/lib/logship",
        .help = "Directory for checkpoints; must survive pod restarts (hostPath).",
        .store = [](Config& c, Value&& v) { c.state_dir = take_string(std::move(v)); },
        .fetch = [](const Config& c) -> Value { return c.state_dir; },
    },
    {
        .env = "LOGSHIP_RELEASE",
        .kind = Kind::kString,
        .help = "Release label added to every record; omitted when unset.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.release = std::move(*s);
          else c.release.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.release) return *c.release;
          return std::monostate{};
        },
    },
    {
        .env = "LOGSHIP_SINK",
        .kind = Kind::kEnum,
        .default_text = "stdout",
        .choices = kSinkNames,
        .help = "Where records are shipped.",
        .store = [](Config& c, Value&& v) { c.sink = static_cast<SinkKind>(take_number(v)); },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.sink); },
    },
    {
        .env = "LOGSHIP_FILE_PATH",
        .kind = Kind::kPath,
        .help = "Output file of the file sink; required when LOGSHIP_SINK=file.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.file_path = std::move(*s);
          else c.file_path.clear();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.file_path.empty()) return std::monostate{};
          return c.file_path;
        },
    },
    {
        // No fixed default: each sink has its own (zstd for Kafka; the HTTP
        // sink will default to gzip), resolved by effective_compression(),
        // which is also what --check-config shows.
        .env = "LOGSHIP_COMPRESSION",
        .kind = Kind::kEnum,
        .choices = kCompressionNames,
        .help = "Payload compression of network sinks; unset: the sink's default (kafka: zstd; "
                "http: gzip, which also takes zstd and none).",
        .store = [](Config& c, Value&& v) {
          if (auto* n = std::get_if<uint64_t>(&v)) c.compression = static_cast<Compression>(*n);
          else c.compression.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (!c.compression && c.sink != SinkKind::kKafka && c.sink != SinkKind::kHttp) {
            return std::monostate{};
          }
          return uint64_t(effective_compression(c));
        },
    },
    {
        .env = "LOGSHIP_KAFKA_BROKERS",
        .kind = Kind::kList,
        .help = "Kafka bootstrap brokers, host:port,...; required when LOGSHIP_SINK=kafka.",
        .store = [](Config& c, Value&& v) {
          if (auto* l = std::get_if<std::vector<std::string>>(&v)) c.kafka_brokers = std::move(*l);
          else c.kafka_brokers.clear();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.kafka_brokers.empty()) return std::monostate{};
          return c.kafka_brokers;
        },
    },
    {
        .env = "LOGSHIP_KAFKA_TOPIC",
        .kind = Kind::kString,
        .default_text = "logs",
        .help = "Kafka topic; {namespace}, {pod} and {container} are filled per record.",
        .store = [](Config& c, Value&& v) { c.kafka_topic = take_string(std::move(v)); },
        .fetch = [](const Config& c) -> Value { return c.kafka_topic; },
    },
    {
        .env = "LOGSHIP_KAFKA_TOPIC_FALLBACK",
        .kind = Kind::kString,
        .help = "Topic for records without the metadata a LOGSHIP_KAFKA_TOPIC placeholder needs; "
                "required when it has placeholders.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.kafka_topic_fallback = std::move(*s);
          else c.kafka_topic_fallback.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.kafka_topic_fallback) return *c.kafka_topic_fallback;
          return std::monostate{};
        },
    },
    {
        .env = "LOGSHIP_KAFKA_KEY",
        .kind = Kind::kEnum,
        .default_text = "none",
        .choices = kKafkaKeyNames,
        .help = "Kafka message key: none (sticky partitioner), trace_id, pod (namespace/pod) or "
                "container (namespace/pod/container, keeps a container's lines in order).",
        .store = [](Config& c, Value&& v) { c.kafka_key = static_cast<KafkaKey>(take_number(v)); },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.kafka_key); },
    },
    {
        .env = "LOGSHIP_KAFKA_OPT_",
        .kind = Kind::kPrefix,
        .help = "Any librdkafka property: LOGSHIP_KAFKA_OPT_SASL_MECHANISM=SCRAM-SHA-512 sets "
                "sasl.mechanism; a _FILE suffix reads the value from that file (secrets).",
        .store_entries = [](Config& c, Entries&& e) { c.kafka_options = std::move(e); },
        .fetch_entries = [](const Config& c) -> Entries { return c.kafka_options; },
        .entry_secret = is_secret_kafka_option,
    },
    // HTTP sink (sinks/http/README.md). Secrets come from files, so only
    // paths are shown; LOGSHIP_HTTP_HEADERS is hidden whole because extra
    // headers usually carry API keys.
    {
        .env = "LOGSHIP_HTTP_URL",
        .kind = Kind::kString,
        .help = "HTTP sink endpoint, http:// or https://; required when LOGSHIP_SINK=http. Without a "
                "path the format's standard one is used (/loki/api/v1/push, /_bulk, ...).",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.http_url = std::move(*s);
          else c.http_url.clear();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_url.empty()) return std::monostate{};
          return c.http_url;
        },
    },
    {
        .env = "LOGSHIP_HTTP_FORMAT",
        .kind = Kind::kEnum,
        .default_text = "ndjson",
        .choices = kHttpFormatNames,
        .help = "HTTP request body: ndjson (records as they are), loki (push API), elasticsearch "
                "(_bulk), splunk_hec (HEC events) or otlp (OTLP/HTTP JSON logs).",
        .store = [](Config& c, Value&& v) { c.http_format = static_cast<HttpFormat>(take_number(v)); },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.http_format); },
    },
    {
        .env = "LOGSHIP_HTTP_INDEX",
        .kind = Kind::kString,
        .default_text = "logship-%Y.%m.%d",
        .help = "elasticsearch: target index; {namespace} and the record's UTC date (%Y, %m, %d) "
                "are filled per record.",
        .store = [](Config& c, Value&& v) { c.http_index = take_string(std::move(v)); },
        .fetch = [](const Config& c) -> Value { return c.http_index; },
    },
    {
        .env = "LOGSHIP_HTTP_TOKEN_FILE",
        .kind = Kind::kPath,
        .help = "File holding the bearer token (splunk_hec: the HEC token); read at start.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.http_token_file = std::move(*s);
          else c.http_token_file.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_token_file) return *c.http_token_file;
          return std::monostate{};
        },
    },
    {
        .env = "LOGSHIP_HTTP_USER",
        .kind = Kind::kString,
        .help = "Basic-auth user; needs LOGSHIP_HTTP_PASSWORD_FILE.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.http_user = std::move(*s);
          else c.http_user.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_user) return *c.http_user;
          return std::monostate{};
        },
    },
    {
        .env = "LOGSHIP_HTTP_PASSWORD_FILE",
        .kind = Kind::kPath,
        .help = "File holding the basic-auth password; read at start.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.http_password_file = std::move(*s);
          else c.http_password_file.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_password_file) return *c.http_password_file;
          return std::monostate{};
        },
    },
    {
        .env = "LOGSHIP_HTTP_HEADERS",
        .kind = Kind::kList,
        .secret = true,
        .help = "Extra request headers, Name=value,...: e.g. X-Scope-OrgID=team-a.",
        .store = [](Config& c, Value&& v) {
          if (auto* l = std::get_if<std::vector<std::string>>(&v)) c.http_headers = std::move(*l);
          else c.http_headers.clear();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_headers.empty()) return std::monostate{};
          return c.http_headers;
        },
    },
    {
        .env = "LOGSHIP_HTTP_CA_FILE",
        .kind = Kind::kPath,
        .help = "PEM CA bundle that verifies the server's certificate (default: the system CAs).",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.http_ca_file = std::move(*s);
          else c.http_ca_file.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_ca_file) return *c.http_ca_file;
          return std::monostate{};
        },
    },
    {
        .env = "LOGSHIP_HTTP_CERT_FILE",
        .kind = Kind::kPath,
        .help = "PEM client certificate (chain) for mutual TLS; needs LOGSHIP_HTTP_KEY_FILE.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.http_cert_file = std::move(*s);
          else c.http_cert_file.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_cert_file) return *c.http_cert_file;
          return std::monostate{};
        },
    },
    {
        .env = "LOGSHIP_HTTP_KEY_FILE",
        .kind = Kind::kPath,
        .help = "PEM private key of LOGSHIP_HTTP_CERT_FILE.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.http_key_file = std::move(*s);
          else c.http_key_file.reset();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_key_file) return *c.http_key_file;
          return std::monostate{};
        },
    },
    {
        .env = "LOGSHIP_HTTP_TLS_INSECURE",
        .kind = Kind::kBool,
        .default_text = "false",
        .help = "https: do not verify the server's certificate or name (logged as a warning).",
        .store = [](Config& c, Value&& v) { c.http_tls_insecure = std::get<bool>(v); },
        .fetch = [](const Config& c) -> Value { return c.http_tls_insecure; },
    },
    {
        .env = "LOGSHIP_HTTP_CONCURRENCY",
        .kind = Kind::kString,
        .default_text = "adaptive",
        .help = "Requests in flight: adaptive (AIMD on latency, 429, 503 and timeouts; 1 to 32) or a "
                "fixed number 1 to 256.",
        .store = [](Config& c, Value&& v) {
          // "adaptive" -> 0, a decimal number -> itself; anything else ->
          // kHttpConcurrencyInvalid, which check_cross_keys rejects with the
          // accepted syntax.
          c.http_concurrency = parse_http_concurrency(take_string(std::move(v)));
        },
        .fetch = [](const Config& c) -> Value {
          if (c.http_concurrency == 0) return std::string("adaptive");
          return std::to_string(c.http_concurrency);
        },
    },
    {
        .env = "LOGSHIP_HTTP_TIMEOUT_MS",
        .kind = Kind::kInteger,
        .default_text = "30000",
        .min = 100,
        .max = 600000,
        .help = "HTTP sink: milliseconds for connecting or for one request's response; then it is "
                "retried.",
        .store = [](Config& c, Value&& v) { c.http_timeout = std::chrono::milliseconds(take_number(v)); },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.http_timeout.count()); },
    },
    {
        .env = "LOGSHIP_MAX_RECORD_BYTES",
        .kind = Kind::kSize,
        .default_text = "1MiB",
        .min = kKiB,
        .max = 64 * kMiB,
        .help = "Longer lines are truncated to this size.",
        .store = [](Config& c, Value&& v) { c.max_record_bytes = take_number(v); },
        .fetch = [](const Config& c) -> Value { return uint64_t{c.max_record_bytes}; },
    },
    {
        .env = "LOGSHIP_MEMORY_LIMIT",
        .kind = Kind::kSize,
        .default_text = "64MiB",
        .min = 4 * kMiB,
        .max = 64 * kGiB,
        .help = "Budget for buffered records; reading pauses when it is reached.",
        .store = [](Config& c, Value&& v) { c.memory_limit = take_number(v); },
        .fetch = [](const Config& c) -> Value { return uint64_t{c.memory_limit}; },
    },
    {
        .env = "LOGSHIP_BATCH_MAX_BYTES",
        .kind = Kind::kSize,
        .default_text = "1MiB",
        .min = kKiB,
        .max = 256 * kMiB,
        .help = "A batch is sent once it holds this many bytes.",
        .store = [](Config& c, Value&& v) { c.batch_max_bytes = take_number(v); },
        .fetch = [](const Config& c) -> Value { return uint64_t{c.batch_max_bytes}; },
    },
    {
        .env = "LOGSHIP_BATCH_TIMEOUT_MS",
        .kind = Kind::kInteger,
        .default_text = "250",
        .min = 1,
        .max = 60000,
        .help = "A non-empty batch is sent after this many milliseconds.",
        .store = [](Config& c, Value&& v) {
          c.batch_timeout = std::chrono::milliseconds(take_number(v));
        },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.batch_timeout.count()); },
    },
    {
        .env = "LOGSHIP_LISTEN",
        .kind = Kind::kListen,
        .default_text = "0.0.0.0:2020",
        .help = "Address of the health and metrics endpoint, or off.",
        .store = [](Config& c, Value&& v) { c.listen = std::get<ListenAddress>(std::move(v)); },
        .fetch = [](const Config& c) -> Value { return c.listen; },
    },
    {
        .env = "LOGSHIP_ONESHOT",
        .kind = Kind::kBool,
        .default_text = "false",
        .help = "Ship what the inputs hold now, then exit (no following).",
        .store = [](Config& c, Value&& v) { c.oneshot = std::get<bool>(v); },
        .fetch = [](const Config& c) -> Value { return c.oneshot; },
    },
    {
        .env = "LOGSHIP_LOG_LEVEL",
        .kind = Kind::kEnum,
        .default_text = "info",
        .choices = kLogLevelNames,
        .help = "Verbosity of the agent's own logs (stderr).",
        .store = [](Config& c, Value&& v) { c.log_level = static_cast<LogLevel>(take_number(v)); },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.log_level); },
    },
    {
        .env = "LOGSHIP_RESCAN_MS",
        .kind = Kind::kInteger,
        .default_text = "1000",
        .min = 10,
        .max = 3600000,
        .help = "Follow mode: milliseconds between rescans of the input globs and files "
                "(the fallback where inotify misses events).",
        .store = [](Config& c, Value&& v) {
          c.rescan_interval = std::chrono::milliseconds(take_number(v));
        },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.rescan_interval.count()); },
    },
    {
        .env = "LOGSHIP_READ_FROM",
        .kind = Kind::kEnum,
        .default_text = "head",
        .choices = kReadFromNames,
        .help = "Follow mode: where a file first seen without a checkpoint is read from.",
        .store = [](Config& c, Value&& v) { c.read_from = static_cast<ReadFrom>(take_number(v)); },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.read_from); },
    },
    {
        .env = "LOGSHIP_MAX_OPEN_FILES",
        .kind = Kind::kInteger,
        .default_text = "1024",
        .min = 1,
        .max = 1000000,
        .help = "Follow mode: files held open at once; files beyond it wait their turn.",
        .store = [](Config& c, Value&& v) { c.max_open_files = take_number(v); },
        .fetch = [](const Config& c) -> Value { return uint64_t{c.max_open_files}; },
    },
    {
        .env = "LOGSHIP_SHUTDOWN_TIMEOUT_MS",
        .kind = Kind::kInteger,
        .default_text = "25000",
        .min = 0,
        .max = 3600000,
        .help = "On SIGTERM/SIGINT: milliseconds to deliver what is in flight before exiting.",
        .store = [](Config& c, Value&& v) {
          c.shutdown_timeout = std::chrono::milliseconds(take_number(v));
        },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.shutdown_timeout.count()); },
    },
    {
        .env = "LOGSHIP_ROTATE_WAIT_MS",
        .kind = Kind::kInteger,
        .default_text = "5000",
        .min = 0,
        .max = 3600000,
        .help = "Follow mode: milliseconds a renamed or deleted file stays open after its end, "
                "for lines its writer adds just after the rotation.",
        .store = [](Config& c, Value&& v) {
          c.rotate_wait = std::chrono::milliseconds(take_number(v));
        },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.rotate_wait.count()); },
    },
    {
        .env = "LOGSHIP_K8S_API",
        .kind = Kind::kBool,
        .default_text = "false",
        .help = "Enrich records with pod metadata from the Kubernetes API (in-cluster config; "
                "list and watch the pods of LOGSHIP_NODE_NAME).",
        .store = [](Config& c, Value&& v) { c.k8s_api = std::get<bool>(v); },
        .fetch = [](const Config& c) -> Value { return c.k8s_api; },
    },
    {
        .env = "LOGSHIP_NODE_NAME",
        .kind = Kind::kString,
        .help = "This node's name (from the downward API: spec.nodeName); required with LOGSHIP_K8S_API.",
        .store = [](Config& c, Value&& v) {
          if (auto* s = std::get_if<std::string>(&v)) c.node_name = std::move(*s);
          else c.node_name.clear();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.node_name.empty()) return std::monostate{};
          return c.node_name;
        },
    },
    {
        .env = "LOGSHIP_K8S_LABELS",
        .kind = Kind::kList,
        .help = "Pod labels added to records: names, or prefixes ending in '*'; none by default.",
        .store = [](Config& c, Value&& v) {
          if (auto* l = std::get_if<std::vector<std::string>>(&v)) c.k8s_labels = std::move(*l);
          else c.k8s_labels.clear();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.k8s_labels.empty()) return std::monostate{};
          return c.k8s_labels;
        },
    },
    {
        .env = "LOGSHIP_K8S_ANNOTATIONS",
        .kind = Kind::kList,
        .help = "Pod annotations added to records: names, or prefixes ending in '*'; none by default.",
        .store = [](Config& c, Value&& v) {
          if (auto* l = std::get_if<std::vector<std::string>>(&v)) c.k8s_annotations = std::move(*l);
          else c.k8s_annotations.clear();
        },
        .fetch = [](const Config& c) -> Value {
          if (c.k8s_annotations.empty()) return std::monostate{};
          return c.k8s_annotations;
        },
    },
    {
        .env = "LOGSHIP_RELEASE_FROM",
        .kind = Kind::kList,
        .default_text = "label:app.kubernetes.io/version,annotation:logship.io/release,image-tag",
        .help = "Where a record's release comes from with LOGSHIP_K8S_API, first present wins: "
                "label:<key>, annotation:<key>, image-tag. LOGSHIP_RELEASE overrides.",
        .store = [](Config& c, Value&& v) {
          c.release_from = std::get<std::vector<std::string>>(std::move(v));
        },
        .fetch = [](const Config& c) -> Value { return c.release_from; },
    },
    {
        .env = "LOGSHIP_K8S_WAIT_MS",
        .kind = Kind::kInteger,
        .default_text = "500",
        .min = 0,
        .max = 60000,
        .help = "How long a new file's records wait for its pod to reach the metadata cache "
                "before shipping with path metadata only.",
        .store = [](Config& c, Value&& v) { c.k8s_wait = std::chrono::milliseconds(take_number(v)); },
        .fetch = [](const Config& c) -> Value { return uint64_t(c.k8s_wait.count()); },
    },
    {
        .env = "LOGSHIP_K8S_TOKEN_FILE",
        .kind = Kind::kPath,
        .default_text = "/var/run/secrets/kubernetes.io/serviceaccount/token",
        .help = "Service-account token for the Kubernetes API (re-read when it rotates).",
        .store = [](Config& c, Value&& v) { c.k8s_token_file = take_string(std::move(v)); },
        .fetch = [](const Config& c) -> Value { return c.k8s_token_file; },
    },
    {
        .env = "LOGSHIP_K8S_CA_FILE",
        .kind = Kind::kPath,
        .default_text = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        .help = "CA bundle that signs the Kubernetes API server's certificate.",
        .store = [](Config& c, Value&& v) { c.k8s_ca_file = take_string(std::move(v)); },
        .fetch = [](const Config& c) -> Value { return c.k8s_ca_file; },
    },
};

}  // namespace

std::span<const KeySpec> key_table() { return kKeys; }

}  // namespace logship::config::detail
