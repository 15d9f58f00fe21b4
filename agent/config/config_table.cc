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
    // Pass-through families go here as one row each, e.g. when the Kafka sink
    // lands (needs a `std::map<std::string, std::string> kafka_options` field):
    //   {.env = "LOGSHIP_KAFKA_OPT_", .kind = Kind::kPrefix,
    //    .help = "librdkafka property, e.g. LOGSHIP_KAFKA_OPT_BATCH_SIZE=…",
    //    .store_entries = [](Config& c, Entries&& e) { c.kafka_options = …; },
    //    .fetch_entries = [](const Config& c) { return …; }},
    // Rows for secrets (SASL passwords, tokens) set `.secret = true`.
};

}  // namespace

std::span<const KeySpec> key_table() { return kKeys; }

}  // namespace logship::config::detail
