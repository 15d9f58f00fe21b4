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
enum class SinkKind { kStdout, kFile };

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
};

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

}  // namespace logship::config
