// Tests for the agent's configuration: load_settings()/render/help against
// the union of the components' real key tables, plus the engine
// (agent/config/config.h) driven by small custom tables for row features the
// real tables do not use (secret rows, exact rows inside a prefix family).

#include "agent/config/config.h"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "agent/settings.h"
#include "sinks/file/file_config.h"

namespace {

using logship::config::Action;
using Config = logship::AgentSettings;
using logship::config::ConfigError;
using logship::config::ListenAddress;
using logship::pipeline::LogLevel;
using logship::tail::InputFormat;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Args = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * kKiB;
constexpr size_t kGiB = 1024 * kMiB;

Config load_config(const Args& args, const Env& env = {}) {
  return logship::load_settings(args, env).settings;
}

/// LOGSHIP_FILE_PATH as loaded into the file sink's settings.
std::string file_path_of(const Config& c) {
  const auto* file = c.sinks.settings_of<logship::sinks::FileSettings>();
  REQUIRE(file != nullptr);
  return file->path;
}

/// The ConfigError message, or a test failure if load() succeeded.
std::string error_of(const Args& args, const Env& env = {}) {
  try {
    (void)logship::load_settings(args, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("load() did not throw ConfigError");
  return {};
}

std::string env_error(const std::string& name, const std::string& value) {
  return error_of({}, {{name, value}});
}

size_t size_of(const std::string& text) {
  // A generous memory limit keeps the cross-key check out of the way.
  return load_config({"--memory-limit=1GiB"}, {{"LOGSHIP_BATCH_MAX_BYTES", text}})
      .pipeline.batch_max_bytes;
}

ListenAddress listen_of(const std::string& text) {
  return load_config({}, {{"LOGSHIP_LISTEN", text}}).pipeline.listen;
}

}  // namespace

TEST_CASE("defaults come from the table", "[config]") {
  const auto loaded = logship::load_settings({}, {});
  const Config& c = loaded.settings;
  CHECK(loaded.action == Action::kRun);
  CHECK(c.tail.input_paths == std::vector<std::string>{"/var/log/containers/*.log"});
  CHECK(c.tail.input_format == InputFormat::kAuto);
  CHECK(c.pipeline.state_dir == "/var/lib/logship");
  CHECK_FALSE(c.pipeline.release.has_value());
  CHECK(c.sinks.chosen() == "stdout");
  CHECK(file_path_of(c).empty());
  CHECK(c.tail.max_record_bytes == 1 * kMiB);
  CHECK(c.pipeline.memory_limit == 64 * kMiB);
  CHECK(c.pipeline.batch_max_bytes == 1 * kMiB);
  CHECK(c.pipeline.batch_timeout == std::chrono::milliseconds(250));
  CHECK(c.pipeline.listen == ListenAddress{.enabled = true, .host = "0.0.0.0", .port = 2020});
  CHECK_FALSE(c.pipeline.oneshot);
  CHECK(c.pipeline.log_level == LogLevel::kInfo);
}

TEST_CASE("every setting is read from the environment", "[config]") {
  const Env env = {
      {"LOGSHIP_INPUT_PATHS", "/a/*.log, /b/*.log"},
      {"LOGSHIP_INPUT_FORMAT", "cri"},
      {"LOGSHIP_STATE_DIR", "/state"},
      {"LOGSHIP_RELEASE", "v1.2.3"},
      {"LOGSHIP_SINK", "file"},
      {"LOGSHIP_FILE_PATH", "/out/records.ndjson"},
      {"LOGSHIP_MAX_RECORD_BYTES", "2KiB"},
      {"LOGSHIP_MEMORY_LIMIT", "1GiB"},
      {"LOGSHIP_BATCH_MAX_BYTES", "512KiB"},
      {"LOGSHIP_BATCH_TIMEOUT_MS", "1000"},
      {"LOGSHIP_LISTEN", "127.0.0.1:9000"},
      {"LOGSHIP_ONESHOT", "yes"},
      {"LOGSHIP_LOG_LEVEL", "debug"},
      {"PATH", "/usr/bin"},             // non-LOGSHIP variables are ignored
      {"HOSTNAME", "node-1"},
  };
  Config c = load_config({}, env);
  CHECK(c.tail.input_paths == std::vector<std::string>{"/a/*.log", "/b/*.log"});
  CHECK(c.tail.input_format == InputFormat::kCri);
  CHECK(c.pipeline.state_dir == "/state");
  CHECK(c.pipeline.release == "v1.2.3");
  CHECK(c.sinks.chosen() == "file");
  CHECK(file_path_of(c) == "/out/records.ndjson");
  CHECK(c.tail.max_record_bytes == 2 * kKiB);
  CHECK(c.pipeline.memory_limit == kGiB);
  CHECK(c.pipeline.batch_max_bytes == 512 * kKiB);
  CHECK(c.pipeline.batch_timeout == std::chrono::milliseconds(1000));
  CHECK(c.pipeline.listen == ListenAddress{.enabled = true, .host = "127.0.0.1", .port = 9000});
  CHECK(c.pipeline.oneshot);
  CHECK(c.pipeline.log_level == LogLevel::kDebug);
}

TEST_CASE("flags: both syntaxes, flag beats env", "[config]") {
  SECTION("--key=value and --key value") {
    Config c = load_config({"--sink=file", "--file-path", "/x", "--input-format", "docker",
                                  "--batch-timeout-ms=5", "--release", "r1"});
    CHECK(c.sinks.chosen() == "file");
    CHECK(file_path_of(c) == "/x");
    CHECK(c.tail.input_format == InputFormat::kDocker);
    CHECK(c.pipeline.batch_timeout == std::chrono::milliseconds(5));
    CHECK(c.pipeline.release == "r1");
  }
  SECTION("flag wins over env, env wins over default") {
    Config c = load_config({"--log-level=error"},
                                 {{"LOGSHIP_LOG_LEVEL", "warn"}, {"LOGSHIP_INPUT_FORMAT", "raw"}});
    CHECK(c.pipeline.log_level == LogLevel::kError);
    CHECK(c.tail.input_format == InputFormat::kRaw);
  }
  SECTION("a bad env value is ignored when a flag overrides it") {
    // The flag replaces the raw value before parsing, so the env value is
    // never parsed; this documents that choice.
    CHECK(load_config({"--sink=stdout"}, {{"LOGSHIP_SINK", "kafak"}}).sinks.chosen() == "stdout");
  }
  SECTION("the last occurrence of a flag wins") {
    CHECK(load_config({"--log-level=warn", "--log-level=debug"}).pipeline.log_level == LogLevel::kDebug);
  }
  SECTION("a value may contain '='") {
    CHECK(load_config({"--release=a=b"}).pipeline.release == "a=b");
  }
}

TEST_CASE("bool flags", "[config]") {
  CHECK(load_config({"--oneshot"}).pipeline.oneshot);
  CHECK(load_config({"--oneshot"}, {{"LOGSHIP_ONESHOT", "false"}}).pipeline.oneshot);
  CHECK_FALSE(load_config({"--oneshot=false"}, {{"LOGSHIP_ONESHOT", "true"}}).pipeline.oneshot);
  CHECK(load_config({"--oneshot", "--sink=stdout"}).pipeline.oneshot);
  // A bare bool never swallows the next argument, so "false" is positional.
  CHECK_THAT(error_of({"--oneshot", "false"}), Contains("unexpected argument \"false\""));

  for (const auto* word : {"true", "TRUE", "1", "yes", "Yes", "on", "ON"}) {
    INFO(word);
    CHECK(load_config({}, {{"LOGSHIP_ONESHOT", word}}).pipeline.oneshot);
  }
  for (const auto* word : {"false", "False", "0", "no", "NO", "off", "Off"}) {
    INFO(word);
    CHECK_FALSE(load_config({"--oneshot=" + std::string(word)}).pipeline.oneshot);
  }
  for (const auto* word : {"maybe", "2", "t", "y", "enabled", " true"}) {
    INFO(word);
    const auto message = env_error("LOGSHIP_ONESHOT", word);
    CHECK_THAT(message, Contains("LOGSHIP_ONESHOT: ") && Contains("is not a boolean") &&
                            Contains("true, false, 1, 0, yes, no, on, off"));
  }
}

TEST_CASE("empty values", "[config]") {
  SECTION("an empty env var counts as unset") {
    Config c = load_config({}, {{"LOGSHIP_SINK", ""},
                                      {"LOGSHIP_MEMORY_LIMIT", ""},
                                      {"LOGSHIP_RELEASE", ""},
                                      {"LOGSHIP_NOT_A_KEY", ""}});
    CHECK(c.sinks.chosen() == "stdout");
    CHECK(c.pipeline.memory_limit == 64 * kMiB);
    CHECK_FALSE(c.pipeline.release.has_value());
  }
  SECTION("an empty flag value is an error") {
    CHECK_THAT(error_of({"--release="}),
               Contains("LOGSHIP_RELEASE (flag --release): empty value"));
    CHECK_THAT(error_of({"--state-dir", ""}),
               Contains("LOGSHIP_STATE_DIR (flag --state-dir): empty value"));
  }
}

TEST_CASE("unknown settings and flags are errors", "[config]") {
  SECTION("unknown LOGSHIP_ variable, with a suggestion when close") {
    CHECK_THAT(env_error("LOGSHIP_SINKK", "stdout"),
               Contains("LOGSHIP_SINKK: unknown setting (did you mean LOGSHIP_SINK?)"));
    CHECK_THAT(env_error("LOGSHIP_BATCH_TIMEOUT", "5"),
               Contains("did you mean LOGSHIP_BATCH_TIMEOUT_MS?"));
    const auto far = env_error("LOGSHIP_TOTALLY_DIFFERENT", "x");
    CHECK_THAT(far, Contains("LOGSHIP_TOTALLY_DIFFERENT: unknown setting") && Contains("--help"));
    CHECK_THAT(far, !Contains("did you mean"));
  }
  SECTION("special flags have no env variable") {
    CHECK_THAT(env_error("LOGSHIP_CHECK_CONFIG", "1"), Contains("LOGSHIP_CHECK_CONFIG: unknown"));
    CHECK_THAT(env_error("LOGSHIP_HELP", "1"), Contains("LOGSHIP_HELP: unknown"));
  }
  SECTION("unknown flag") {
    CHECK_THAT(error_of({"--sinkk=file"}),
               Contains("--sinkk: unknown flag (did you mean --sink?)"));
    CHECK_THAT(error_of({"--frobnicate"}), Contains("--frobnicate: unknown flag"));
    // Only the generated kebab-case spelling is a flag.
    CHECK_THAT(error_of({"--input_paths=/x"}), Contains("--input_paths: unknown flag"));
    CHECK_THAT(error_of({"--Sink=file"}), Contains("--Sink: unknown flag"));
    CHECK_THAT(error_of({"-s"}), Contains("-s: unknown flag"));
    CHECK_THAT(error_of({"--=x"}), Contains("unknown flag"));
  }
  SECTION("positional arguments") {
    CHECK_THAT(error_of({"/var/log"}), Contains("unexpected argument \"/var/log\""));
    CHECK_THAT(error_of({"--"}), Contains("unexpected argument \"--\""));
    CHECK_THAT(error_of({"-"}), Contains("unexpected argument \"-\""));
  }
}

TEST_CASE("missing flag values", "[config]") {
  CHECK_THAT(error_of({"--sink"}),
             Contains("LOGSHIP_SINK (flag --sink): missing value") &&
                 Contains("one of stdout, file"));
  // The next token is a flag, not a value.
  CHECK_THAT(error_of({"--memory-limit", "--oneshot"}),
             Contains("LOGSHIP_MEMORY_LIMIT (flag --memory-limit): missing value") &&
                 Contains("4MiB and 64GiB"));
  CHECK_THAT(error_of({"--oneshot", "--listen"}),
             Contains("LOGSHIP_LISTEN (flag --listen): missing value"));
}

TEST_CASE("enums", "[config]") {
  CHECK_THAT(env_error("LOGSHIP_SINK", "kafak"),
             Equals("LOGSHIP_SINK: \"kafak\" is not one of stdout, file, kafka, http"));
  CHECK_THAT(error_of({"--sink=kafak"}),
             Equals("LOGSHIP_SINK (flag --sink): \"kafak\" is not one of stdout, file, kafka, http"));
  CHECK_THAT(env_error("LOGSHIP_INPUT_FORMAT", "json"),
             Contains("LOGSHIP_INPUT_FORMAT: \"json\" is not one of auto, cri, docker, raw"));
  CHECK_THAT(env_error("LOGSHIP_LOG_LEVEL", "trace"),
             Contains("LOGSHIP_LOG_LEVEL: \"trace\" is not one of debug, info, warn, error"));
  // Case does not matter for enum words.
  CHECK(load_config({}, {{"LOGSHIP_LOG_LEVEL", "WARN"}}).pipeline.log_level == LogLevel::kWarn);
  CHECK(load_config({"--input-format=Docker"}).tail.input_format == InputFormat::kDocker);
}

TEST_CASE("to_string matches the accepted spellings", "[config]") {
  CHECK(logship::tail::to_string(InputFormat::kAuto) == "auto");
  CHECK(logship::tail::to_string(InputFormat::kCri) == "cri");
  CHECK(logship::tail::to_string(InputFormat::kDocker) == "docker");
  CHECK(logship::tail::to_string(InputFormat::kRaw) == "raw");
  CHECK(load_config({"--sink=stdout"}).sinks.chosen() == "stdout");
  CHECK(load_config({"--sink=FILE", "--file-path=/o"}).sinks.chosen() == "file");
  CHECK(logship::pipeline::to_string(LogLevel::kDebug) == "debug");
  CHECK(logship::pipeline::to_string(LogLevel::kInfo) == "info");
  CHECK(logship::pipeline::to_string(LogLevel::kWarn) == "warn");
  CHECK(logship::pipeline::to_string(LogLevel::kError) == "error");
  // Round trip through load().
  for (auto level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    const std::string text(logship::pipeline::to_string(level));
    CHECK(load_config({"--log-level=" + text}).pipeline.log_level == level);
  }
}

TEST_CASE("size syntax", "[config]") {
  SECTION("suffixes, decimal and binary, case-insensitive") {
    const std::pair<const char*, size_t> cases[] = {
        {"1024", 1024},
        {"0001024", 1024},
        {"2K", 2000},
        {"2k", 2000},
        {"2KB", 2000},
        {"2kb", 2000},
        {"2Ki", 2048},
        {"2KiB", 2048},
        {"2kib", 2048},
        {"2KIB", 2048},
        {"3M", 3000000},
        {"3MB", 3000000},
        {"3Mi", 3 * kMiB},
        {"3MiB", 3 * kMiB},
        {"3mib", 3 * kMiB},
        {"256MiB", 256 * kMiB},
    };
    for (const auto& [text, bytes] : cases) {
      INFO(text);
      CHECK(size_of(text) == bytes);
    }
    // G suffixes exercised on the one key whose bounds allow them.
    CHECK(load_config({"--memory-limit=2G"}).pipeline.memory_limit == 2000000000);
    CHECK(load_config({"--memory-limit=2gb"}).pipeline.memory_limit == 2000000000);
    CHECK(load_config({"--memory-limit=2Gi"}).pipeline.memory_limit == 2 * kGiB);
    CHECK(load_config({"--memory-limit=2GiB"}).pipeline.memory_limit == 2 * kGiB);
  }
  SECTION("junk is rejected with the key and the accepted syntax") {
    for (const auto* text : {"12x", "1.5MiB", "1e3", " 1MiB", "1MiB ", "1 MiB", "MiB", "1KiBB",
                             "1B", "1TiB", "0x400", "+1024", "1,024", " "}) {
      INFO(text);
      const auto message = env_error("LOGSHIP_BATCH_MAX_BYTES", text);
      CHECK_THAT(message, Contains("LOGSHIP_BATCH_MAX_BYTES: \"" + std::string(text) +
                                   "\" is not a size"));
      CHECK_THAT(message, Contains("KiB") && Contains("1KiB and 256MiB"));
    }
  }
  SECTION("negative sizes") {
    CHECK_THAT(env_error("LOGSHIP_MEMORY_LIMIT", "-5"),
               Contains("LOGSHIP_MEMORY_LIMIT: \"-5\" is negative"));
    CHECK_THAT(env_error("LOGSHIP_MEMORY_LIMIT", "-5MiB"), Contains("is negative"));
  }
  SECTION("overflow is rejected, not wrapped") {
    for (const auto* text : {"18446744073709551616", "99999999999999999999999", "20000000000G",
                             "17179869184GiB", "18446744073709551615Ki"}) {
      INFO(text);
      CHECK_THAT(env_error("LOGSHIP_MEMORY_LIMIT", text),
                 Contains("LOGSHIP_MEMORY_LIMIT: \"" + std::string(text) + "\" is too large") &&
                     Contains("4MiB and 64GiB"));
    }
  }
}

TEST_CASE("size bounds", "[config]") {
  SECTION("inclusive bounds are accepted") {
    CHECK(load_config({"--max-record-bytes=1KiB"}).tail.max_record_bytes == kKiB);
    CHECK(load_config({"--max-record-bytes=64MiB", "--memory-limit=1GiB"}).tail.max_record_bytes ==
          64 * kMiB);
    CHECK(load_config({"--memory-limit=4MiB"}).pipeline.memory_limit == 4 * kMiB);
    CHECK(load_config({"--memory-limit=64GiB"}).pipeline.memory_limit == 64 * kGiB);
    CHECK(load_config({"--batch-max-bytes=256MiB", "--memory-limit=1GiB"}).pipeline.batch_max_bytes ==
          256 * kMiB);
  }
  SECTION("out of bounds names key, value in bytes and the bounds") {
    CHECK_THAT(env_error("LOGSHIP_MAX_RECORD_BYTES", "1023"),
               Contains("LOGSHIP_MAX_RECORD_BYTES: \"1023\" (1023 bytes) is out of bounds") &&
                   Contains("between 1KiB and 64MiB (1024..67108864 bytes)"));
    CHECK_THAT(env_error("LOGSHIP_MAX_RECORD_BYTES", "1K"),
               Contains("(1000 bytes) is out of bounds"));
    CHECK_THAT(env_error("LOGSHIP_MAX_RECORD_BYTES", "65MiB"), Contains("is out of bounds"));
    CHECK_THAT(env_error("LOGSHIP_MEMORY_LIMIT", "4000KiB"),
               Contains("LOGSHIP_MEMORY_LIMIT: \"4000KiB\"") && Contains("out of bounds"));
    CHECK_THAT(error_of({"--memory-limit=65GiB"}),
               Contains("LOGSHIP_MEMORY_LIMIT (flag --memory-limit)") &&
                   Contains("between 4MiB and 64GiB"));
    CHECK_THAT(env_error("LOGSHIP_BATCH_MAX_BYTES", "0"), Contains("out of bounds"));
    CHECK_THAT(env_error("LOGSHIP_BATCH_MAX_BYTES", "257MiB"),
               Contains("between 1KiB and 256MiB"));
  }
}

TEST_CASE("integer syntax and bounds", "[config]") {
  CHECK(load_config({}, {{"LOGSHIP_BATCH_TIMEOUT_MS", "1"}}).pipeline.batch_timeout.count() == 1);
  CHECK(load_config({}, {{"LOGSHIP_BATCH_TIMEOUT_MS", "60000"}}).pipeline.batch_timeout.count() == 60000);
  CHECK(load_config({}, {{"LOGSHIP_BATCH_TIMEOUT_MS", "007"}}).pipeline.batch_timeout.count() == 7);
  for (const auto* text : {"12x", " ", "1e3", "+5", "0x10", "1.0", " 5", "5 ", "5ms", "abc"}) {
    INFO(text);
    CHECK_THAT(env_error("LOGSHIP_BATCH_TIMEOUT_MS", text),
               Contains("LOGSHIP_BATCH_TIMEOUT_MS: \"" + std::string(text) +
                        "\" is not a decimal integer") &&
                   Contains("between 1 and 60000"));
  }
  CHECK_THAT(env_error("LOGSHIP_BATCH_TIMEOUT_MS", "-5"), Contains("\"-5\" is negative"));
  CHECK_THAT(env_error("LOGSHIP_BATCH_TIMEOUT_MS", "0"),
             Contains("LOGSHIP_BATCH_TIMEOUT_MS: \"0\" is out of bounds") &&
                 Contains("between 1 and 60000"));
  CHECK_THAT(env_error("LOGSHIP_BATCH_TIMEOUT_MS", "60001"), Contains("is out of bounds"));
  CHECK_THAT(env_error("LOGSHIP_BATCH_TIMEOUT_MS", "99999999999999999999999"),
             Contains("is too large"));
  CHECK_THAT(error_of({"--batch-timeout-ms", "12x"}),
             Contains("LOGSHIP_BATCH_TIMEOUT_MS (flag --batch-timeout-ms): \"12x\""));
}

TEST_CASE("lists", "[config]") {
  CHECK(load_config({"--input-paths=/a/*.log"}).tail.input_paths ==
        std::vector<std::string>{"/a/*.log"});
  CHECK(load_config({"--input-paths= /a , /b\t,/c "}).tail.input_paths ==
        std::vector<std::string>{"/a", "/b", "/c"});
  for (const auto* text : {"/a,,/b", "/a,", ",/a", "/a, ,/b", ",", "  "}) {
    INFO(text);
    CHECK_THAT(env_error("LOGSHIP_INPUT_PATHS", text),
               Contains("LOGSHIP_INPUT_PATHS: \"" + std::string(text) + "\" has an empty item"));
  }
}

TEST_CASE("listen addresses", "[config]") {
  SECTION("accepted forms") {
    CHECK(listen_of("127.0.0.1:8080") == ListenAddress{true, "127.0.0.1", 8080});
    CHECK(listen_of("0.0.0.0:0") == ListenAddress{true, "0.0.0.0", 0});
    CHECK(listen_of("localhost:65535") == ListenAddress{true, "localhost", 65535});
    CHECK(listen_of("metrics-1.kube-system.svc:2020") ==
          ListenAddress{true, "metrics-1.kube-system.svc", 2020});
    CHECK(listen_of("[::1]:9090") == ListenAddress{true, "::1", 9090});
    CHECK(listen_of("[::]:2020") == ListenAddress{true, "::", 2020});
    CHECK(listen_of("[2001:db8::1]:80") == ListenAddress{true, "2001:db8::1", 80});
  }
  SECTION("off disables the endpoint") {
    CHECK_FALSE(listen_of("off").enabled);
    CHECK_FALSE(listen_of("OFF").enabled);
    CHECK_FALSE(load_config({"--listen", "off"}).pipeline.listen.enabled);
  }
  SECTION("rejected forms name the key and the reason") {
    const std::pair<const char*, const char*> cases[] = {
        {"1.2.3.4", "missing :port"},
        {"localhost", "missing :port"},
        {"1.2.3.4:", "missing port"},
        {":2020", "missing host"},
        {"1.2.3.4:65536", "port must be 0-65535"},
        {"1.2.3.4:-1", "port must be 0-65535"},
        {"1.2.3.4:80x", "port must be 0-65535"},
        {"::1:80", "IPv6 addresses must be written in brackets"},
        {"[::1]", "missing :port after ']'"},
        {"[::1:80", "missing ']'"},
        {"[zz::1]:80", "invalid IPv6 address"},
        {"[1.2.3.4]:80", "invalid IPv6 address"},
        {"300.1.1.1:80", "invalid IPv4 address"},
        {"1.2.3:80", "invalid IPv4 address"},
        {"-bad:80", "invalid hostname"},
        {"host_name:80", "invalid hostname"},
        {"a..b:80", "invalid hostname"},
        {"on", "missing :port"},
    };
    for (const auto& [text, reason] : cases) {
      INFO(text);
      CHECK_THAT(env_error("LOGSHIP_LISTEN", text),
                 Contains("LOGSHIP_LISTEN: \"" + std::string(text) +
                          "\" is not a valid listen address (" + reason + ")") &&
                     Contains("host:port") && Contains("or off"));
    }
  }
}

TEST_CASE("cross-key checks", "[config]") {
  SECTION("sink=file requires LOGSHIP_FILE_PATH") {
    CHECK_THAT(env_error("LOGSHIP_SINK", "file"),
               Contains("LOGSHIP_FILE_PATH") && Contains("required when LOGSHIP_SINK=file"));
    CHECK_THAT(error_of({"--sink=file"}), Contains("LOGSHIP_FILE_PATH (--file-path)"));
    CHECK(file_path_of(load_config({"--sink=file", "--file-path=/o"})) == "/o");
    // A path without the file sink is accepted (and unused).
    CHECK(load_config({"--file-path=/o"}).sinks.chosen() == "stdout");
  }
  SECTION("memory limit must cover two batches and two records") {
    // 2 * 1MiB + 2 * 1MiB = 4MiB: exactly the minimum is fine.
    CHECK(load_config({"--memory-limit=4MiB"}).pipeline.memory_limit == 4 * kMiB);
    const auto message =
        error_of({"--memory-limit=4MiB", "--batch-max-bytes=2MiB"});  // needs 6MiB
    CHECK_THAT(message, Contains("LOGSHIP_MEMORY_LIMIT (--memory-limit): 4194304 bytes is below "
                                 "the minimum of 6291456 bytes (6MiB)"));
    CHECK_THAT(message, Contains("2*LOGSHIP_BATCH_MAX_BYTES + 2*LOGSHIP_MAX_RECORD_BYTES"));
    CHECK_THAT(error_of({}, {{"LOGSHIP_MAX_RECORD_BYTES", "64MiB"}}),
               Contains("LOGSHIP_MEMORY_LIMIT (--memory-limit): 67108864 bytes is below the "
                        "minimum of 136314880"));
  }
  SECTION("cross-key checks also run for --check-config") {
    CHECK_THAT(error_of({"--check-config", "--sink=file"}), Contains("LOGSHIP_FILE_PATH"));
  }
}

TEST_CASE("render_effective", "[config]") {
  SECTION("defaults") {
    CHECK(logship::render_settings(load_config({})) ==
          "LOGSHIP_INPUT_PATHS=/var/log/containers/*.log\n"
          "LOGSHIP_INPUT_FORMAT=auto\n"
          "LOGSHIP_PARTIAL_TIMEOUT_MS=5000\n"
          "LOGSHIP_TIMESTAMP_FORMAT=verbatim\n"
          "LOGSHIP_STATE_DIR=/var/lib/logship\n"
          "LOGSHIP_RELEASE=\n"
          "LOGSHIP_SINK=stdout\n"
          "LOGSHIP_FILE_PATH=\n"
          "LOGSHIP_COMPRESSION=\n"
          "LOGSHIP_KAFKA_BROKERS=\n"
          "LOGSHIP_KAFKA_TOPIC=logs\n"
          "LOGSHIP_KAFKA_TOPIC_FALLBACK=\n"
          "LOGSHIP_KAFKA_KEY=none\n"
          "LOGSHIP_HTTP_URL=\n"
          "LOGSHIP_HTTP_FORMAT=ndjson\n"
          "LOGSHIP_HTTP_INDEX=logship-%Y.%m.%d\n"
          "LOGSHIP_HTTP_TOKEN_FILE=\n"
          "LOGSHIP_HTTP_USER=\n"
          "LOGSHIP_HTTP_PASSWORD_FILE=\n"
          "LOGSHIP_HTTP_HEADERS=\n"
          "LOGSHIP_HTTP_CA_FILE=\n"
          "LOGSHIP_HTTP_CERT_FILE=\n"
          "LOGSHIP_HTTP_KEY_FILE=\n"
          "LOGSHIP_HTTP_TLS_INSECURE=false\n"
          "LOGSHIP_HTTP_CONCURRENCY=adaptive\n"
          "LOGSHIP_HTTP_TIMEOUT_MS=30000\n"
          "LOGSHIP_MAX_RECORD_BYTES=1048576\n"
          "LOGSHIP_MEMORY_LIMIT=67108864\n"
          "LOGSHIP_BATCH_MAX_BYTES=1048576\n"
          "LOGSHIP_BATCH_TIMEOUT_MS=250\n"
          "LOGSHIP_WORKERS=auto\n"
          "LOGSHIP_LISTEN=0.0.0.0:2020\n"
          "LOGSHIP_TAP=false\n"
          "LOGSHIP_TAP_LISTEN=127.0.0.1:2021\n"
          "LOGSHIP_ONESHOT=false\n"
          "LOGSHIP_PROGRESS=auto\n"
          "LOGSHIP_LOG_LEVEL=info\n"
          "LOGSHIP_RESCAN_MS=1000\n"
          "LOGSHIP_READ_FROM=head\n"
          "LOGSHIP_MAX_OPEN_FILES=1024\n"
          "LOGSHIP_SHUTDOWN_TIMEOUT_MS=25000\n"
          "LOGSHIP_ROTATE_WAIT_MS=5000\n"
          "LOGSHIP_MULTILINE=off\n"
          "LOGSHIP_MULTILINE_TIMEOUT_MS=1000\n"
          "LOGSHIP_INCLUDE_NAMESPACES=\n"
          "LOGSHIP_EXCLUDE_NAMESPACES=\n"
          "LOGSHIP_EXCLUDE_CONTAINERS=\n"
          "LOGSHIP_MIN_LEVEL=\n"
          "LOGSHIP_RATE_LIMIT=0\n"
          "LOGSHIP_RATE_BURST=\n"
          "LOGSHIP_REDACT_KEYS=password,passwd,secret,token,authorization,api_key,apikey,access_token,refresh_token,client_secret,cookie,set-cookie\n"
          "LOGSHIP_REDACT_PATTERNS=credit_card,bearer,jwt,aws_key,private_key\n"
          "LOGSHIP_K8S_API=false\n"
          "LOGSHIP_NODE_NAME=\n"
          "LOGSHIP_K8S_LABELS=\n"
          "LOGSHIP_K8S_ANNOTATIONS=\n"
          "LOGSHIP_RELEASE_FROM=label:app.kubernetes.io/version,annotation:logship.io/release,image-tag\n"
          "LOGSHIP_K8S_WAIT_MS=500\n"
          "LOGSHIP_K8S_TOKEN_FILE=/var/run/secrets/kubernetes.io/serviceaccount/token\n"
          "LOGSHIP_K8S_CA_FILE=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n"
          "# multiline: off, timeout 1000 ms\n"
          "# include namespaces: all\n"
          "# exclude namespaces: none\n"
          "# exclude containers: none\n"
          "# exclude annotations: off (LOGSHIP_K8S_API=false)\n"
          "# min level: off (every level ships)\n"
          "# rate limit: off\n"
          "# redact keys: password,passwd,secret,token,authorization,api_key,apikey,access_token,refresh_token,client_secret,cookie,set-cookie\n"
          "# redact patterns: credit_card,bearer,jwt,aws_key,private_key\n");
  }
  SECTION("canonical forms of set values") {
    Config c = load_config({"--input-paths", "/a/*.log , /b/*.log", "--input-format=CRI",
                                  "--release=v9", "--sink=file", "--file-path=/o", "--oneshot",
                                  "--memory-limit=1G", "--listen=[::1]:9"},
                                 {{"LOGSHIP_BATCH_MAX_BYTES", "2k"}});
    const auto text = logship::render_settings(c);
    CHECK_THAT(text, Contains("LOGSHIP_INPUT_PATHS=/a/*.log,/b/*.log\n"));
    CHECK_THAT(text, Contains("LOGSHIP_INPUT_FORMAT=cri\n"));
    CHECK_THAT(text, Contains("LOGSHIP_RELEASE=v9\n"));
    CHECK_THAT(text, Contains("LOGSHIP_SINK=file\n"));
    CHECK_THAT(text, Contains("LOGSHIP_FILE_PATH=/o\n"));
    CHECK_THAT(text, Contains("LOGSHIP_MEMORY_LIMIT=1000000000\n"));
    CHECK_THAT(text, Contains("LOGSHIP_BATCH_MAX_BYTES=2000\n"));
    CHECK_THAT(text, Contains("LOGSHIP_LISTEN=[::1]:9\n"));
    CHECK_THAT(text, Contains("LOGSHIP_ONESHOT=true\n"));
  }
  SECTION("listen off") {
    CHECK_THAT(logship::render_settings(load_config({"--listen=off"})),
               Contains("LOGSHIP_LISTEN=off\n"));
  }
  SECTION("the output is valid input that reproduces itself") {
    Config c = load_config({"--input-paths=/x,/y", "--release=r", "--listen=[::]:1",
                                  "--max-record-bytes=3KiB", "--log-level=warn"});
    const std::string first = logship::render_settings(c);
    Env env;
    size_t start = 0;
    while (start < first.size()) {
      const size_t end = first.find('\n', start);
      const std::string line = first.substr(start, end - start);
      const size_t eq = line.find('=');
      env[line.substr(0, eq)] = line.substr(eq + 1);
      start = end + 1;
    }
    CHECK(logship::render_settings(load_config({}, env)) == first);
  }
}

TEST_CASE("--check-config, --help and --version", "[config]") {
  const Env broken = {{"LOGSHIP_SINK", "kafak"},
                      {"LOGSHIP_NOPE", "1"},
                      {"LOGSHIP_MEMORY_LIMIT", "-1"}};
  SECTION("--check-config validates and reports the action") {
    CHECK(logship::load_settings({"--check-config"}, {}).action == Action::kCheckConfig);
    CHECK(logship::load_settings({"--oneshot", "--check-config"}, {}).settings.pipeline.oneshot);
    CHECK_THAT(error_of({"--check-config"}, broken), Contains("LOGSHIP_"));
    CHECK_THAT(error_of({"--check-config=yes"}), Contains("--check-config does not take a value"));
  }
  SECTION("--help and --version short-circuit a broken environment and other flags") {
    for (const Args& args : {Args{"--help"}, Args{"--sink=kafak", "--help"},
                             Args{"--bogus", "positional", "--help"}}) {
      const auto loaded = logship::load_settings(args, broken);
      CHECK(loaded.action == Action::kHelp);
      CHECK(loaded.settings.sinks.chosen() == "stdout");  // defaults, nothing parsed
    }
    const auto version = logship::load_settings({"--version"}, broken);
    CHECK(version.action == Action::kVersion);
    CHECK(version.settings.pipeline.memory_limit == 64 * kMiB);
    CHECK(logship::load_settings({"--version", "--help"}, {}).action == Action::kVersion);
  }
  SECTION("with a value they are errors") {
    CHECK_THAT(error_of({"--help=1"}), Contains("--help does not take a value"));
    CHECK_THAT(error_of({"--version=x"}), Contains("--version does not take a value"));
  }
}

TEST_CASE("help_text lists every setting on one line", "[config]") {
  const std::string help = logship::help_text();
  CHECK_THAT(help, Contains("Usage:") && Contains("--check-config") && Contains("--help") &&
                       Contains("--version"));
  const std::pair<const char*, const char*> keys[] = {
      {"LOGSHIP_INPUT_PATHS", "--input-paths=<list>"},
      {"LOGSHIP_INPUT_FORMAT", "--input-format=<auto|cri|docker|raw>"},
      {"LOGSHIP_STATE_DIR", "--state-dir=<path>"},
      {"LOGSHIP_RELEASE", "--release=<string>"},
      {"LOGSHIP_SINK", "--sink=<stdout|file|kafka|http>"},
      {"LOGSHIP_FILE_PATH", "--file-path=<path>"},
      {"LOGSHIP_MAX_RECORD_BYTES", "--max-record-bytes=<size>"},
      {"LOGSHIP_MEMORY_LIMIT", "--memory-limit=<size>"},
      {"LOGSHIP_BATCH_MAX_BYTES", "--batch-max-bytes=<size>"},
      {"LOGSHIP_BATCH_TIMEOUT_MS", "--batch-timeout-ms=<integer>"},
      {"LOGSHIP_LISTEN", "--listen=<host:port|off>"},
      {"LOGSHIP_ONESHOT", "--oneshot[=<bool>]"},
      {"LOGSHIP_LOG_LEVEL", "--log-level=<debug|info|warn|error>"},
  };
  for (const auto& [env, flag] : keys) {
    INFO(env);
    const size_t at = help.find(std::string("  ") + env + " ");
    REQUIRE(at != std::string::npos);
    const std::string line = help.substr(at, help.find('\n', at) - at);
    CHECK_THAT(line, Contains(flag));
  }
  const auto line_of = [&](const std::string& env) {
    const size_t at = help.find("  " + env + " ");
    return help.substr(at, help.find('\n', at) - at);
  };
  CHECK_THAT(line_of("LOGSHIP_MEMORY_LIMIT"), Contains("default 64MiB, 4MiB..64GiB"));
  CHECK_THAT(line_of("LOGSHIP_BATCH_TIMEOUT_MS"), Contains("default 250, 1..60000"));
  CHECK_THAT(line_of("LOGSHIP_RELEASE"), Contains("unset"));
  CHECK_THAT(line_of("LOGSHIP_INPUT_PATHS"), Contains("default /var/log/containers/*.log"));
}

TEST_CASE("environment_map", "[config]") {
  char a[] = "LOGSHIP_SINK=file";
  char b[] = "EMPTY=";
  char c[] = "NOEQUALS";
  char d[] = "LOGSHIP_SINK=stdout";  // duplicate: first wins, like getenv()
  char e[] = "X=a=b";
  char* envp[] = {a, b, c, d, e, nullptr};
  const auto env = logship::config::environment_map(envp);
  CHECK(env == Env{{"LOGSHIP_SINK", "file"}, {"EMPTY", ""}, {"X", "a=b"}});
  CHECK(logship::config::environment_map(nullptr).empty());
}

// ---- The engine with custom tables ------------------------------------------

namespace {

namespace cfg = logship::config;

// A secret row, a pass-through prefix row and an exact row inside that
// family, bound to a test-only settings struct.
struct EngineSettings {
  std::optional<std::string> token;
  std::chrono::milliseconds timeout{};
  cfg::Entries options;
  std::string special;
};

constexpr cfg::KeySpec kEngineTable[] = {
    {
        .env = "LOGSHIP_TOKEN",
        .kind = cfg::Kind::kString,
        .secret = true,
        .help = "A secret.",
        .bind = cfg::bind<&EngineSettings::token>(),
    },
    {
        .env = "LOGSHIP_TIMEOUT",
        .kind = cfg::Kind::kInteger,
        .default_text = "5",
        .min = 1,
        .max = 10,
        .secret = true,
        .help = "A secret number.",
        .bind = cfg::bind<&EngineSettings::timeout>(),
    },
    {
        .env = "LOGSHIP_KAFKA_OPT_",
        .kind = cfg::Kind::kPrefix,
        .help = "Pass-through.",
        .bind = cfg::bind<&EngineSettings::options>(),
    },
    {
        // An exact row inside the prefix family wins over the prefix.
        .env = "LOGSHIP_KAFKA_OPT_SPECIAL",
        .kind = cfg::Kind::kPath,
        .help = "Exact name inside a prefix family.",
        .bind = cfg::bind<&EngineSettings::special>(),
    },
};

EngineSettings engine_load(const Args& args, const Env& env) {
  EngineSettings s;
  const cfg::Section sections[] = {cfg::Section(kEngineTable, s)};
  (void)cfg::load(sections, args, env);
  return s;
}

std::string engine_render(EngineSettings s) {
  const cfg::Section sections[] = {cfg::Section(kEngineTable, s)};
  return cfg::render(sections);
}

std::string engine_help() {
  EngineSettings s;
  const cfg::Section sections[] = {cfg::Section(kEngineTable, s)};
  return cfg::help(sections);
}

std::string engine_error(const Args& args, const Env& env) {
  try {
    (void)engine_load(args, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("load() did not throw");
  return {};
}

}  // namespace

TEST_CASE("engine: secrets are never printed", "[config]") {
  const EngineSettings c = engine_load({}, {{"LOGSHIP_TOKEN", "hunter2"}});
  CHECK(c.token == "hunter2");
  const auto rendered = engine_render(c);
  CHECK_THAT(rendered, Contains("LOGSHIP_TOKEN=<redacted>\n") &&
                           Contains("LOGSHIP_TIMEOUT=<redacted>\n"));
  CHECK_THAT(rendered, !Contains("hunter2"));
  // Unset secrets render empty, so "not configured" stays visible.
  CHECK_THAT(engine_render(engine_load({}, {})), Contains("LOGSHIP_TOKEN=\n"));
  // Bad values of a secret row do not echo the value.
  const auto message = engine_error({"--timeout=s3cr3t"}, {});
  CHECK_THAT(message, Contains("LOGSHIP_TIMEOUT (flag --timeout): <redacted> is not a decimal"));
  CHECK_THAT(message, !Contains("s3cr3t"));
  CHECK_THAT(engine_help(), Contains("secret"));
}

TEST_CASE("engine: prefix rows collect a pass-through family", "[config]") {
  const EngineSettings c = engine_load({"--kafka-opt-batch-size=100", "--kafka-opt-special=/s"},
                                       {{"LOGSHIP_KAFKA_OPT_BATCH_SIZE", "5"},
                                        {"LOGSHIP_KAFKA_OPT_ACKS", "all"}});
  // Flags win per entry; names are the env-spelt suffix.
  CHECK(c.options == cfg::Entries{{"ACKS", "all"}, {"BATCH_SIZE", "100"}});
  CHECK(c.special == "/s");
  const auto rendered = engine_render(c);
  CHECK_THAT(rendered, Contains("LOGSHIP_KAFKA_OPT_ACKS=all\nLOGSHIP_KAFKA_OPT_BATCH_SIZE=100\n"));
  CHECK_THAT(rendered, Contains("LOGSHIP_KAFKA_OPT_SPECIAL=/s\n"));
  CHECK_THAT(engine_error({}, {{"LOGSHIP_KAFKA_OPT_", "x"}}),
             Contains("LOGSHIP_KAFKA_OPT_: missing option name after the prefix"));
  CHECK_THAT(engine_error({"--kafka-opt-"}, {}), Contains("missing value"));
  CHECK_THAT(engine_help(), Contains("LOGSHIP_KAFKA_OPT_*") && Contains("--kafka-opt-*=<value>"));
}

TEST_CASE("engine: flag names derive from env names", "[config]") {
  CHECK(cfg::flag_name("LOGSHIP_BATCH_MAX_BYTES") == "batch-max-bytes");
  CHECK(cfg::flag_name("LOGSHIP_KAFKA_OPT_") == "kafka-opt-");
  // Every real row round-trips, so every setting really has its flag.
  Config settings;
  for (const auto& section : settings.sections()) {
    for (const auto& spec : section.keys()) {
      INFO(spec.env);
      CHECK(spec.env.starts_with("LOGSHIP_"));
      CHECK_FALSE(spec.help.empty());
      if (spec.kind == cfg::Kind::kPrefix) {
        CHECK(spec.bind.store_entries != nullptr);
        CHECK(spec.bind.fetch_entries != nullptr);
      } else {
        CHECK(spec.bind.store != nullptr);
        CHECK(spec.bind.fetch != nullptr);
      }
    }
  }
}

namespace {

struct OtherSettings {
  bool flag = false;
};
struct OrderSettings {
  std::string a, b, c;
};
constexpr cfg::KeySpec kOrderRows[] = {
    {.env = "LOGSHIP_C", .help = "c", .order = 30, .bind = cfg::bind<&OrderSettings::c>()},
    {.env = "LOGSHIP_A", .help = "a", .order = 10, .bind = cfg::bind<&OrderSettings::a>()},
};
constexpr cfg::KeySpec kMiddleRow[] = {
    {.env = "LOGSHIP_B", .help = "b", .order = 20, .bind = cfg::bind<&OrderSettings::b>()},
};

}  // namespace

TEST_CASE("engine: sections keep their rows apart and are listed by order", "[config]") {
  SECTION("a row bound to another struct is refused") {
    OtherSettings other;
    CHECK_THROWS_AS(cfg::Section(kOrderRows, other), std::logic_error);
  }
  SECTION("the union of two sections is listed by order, whatever section a row is in") {
    OrderSettings first, second;
    const cfg::Section sections[] = {cfg::Section(kOrderRows, first), cfg::Section(kMiddleRow, second)};
    CHECK(cfg::load(sections, {"--b=2", "--c=3"}, {{"LOGSHIP_A", "1"}}) == Action::kRun);
    CHECK(first.a == "1");
    CHECK(first.c == "3");
    CHECK(second.b == "2");  // stored into the second section's object
    CHECK(first.b.empty());
    CHECK(cfg::render(sections) == "LOGSHIP_A=1\nLOGSHIP_B=2\nLOGSHIP_C=3\n");
    const std::string help = cfg::help(sections);
    CHECK(help.find("LOGSHIP_A") < help.find("LOGSHIP_B"));
    CHECK(help.find("LOGSHIP_B") < help.find("LOGSHIP_C"));
  }
  SECTION("a name declared by two components is a programming error") {
    OrderSettings first, second;
    const cfg::Section sections[] = {cfg::Section(kMiddleRow, first), cfg::Section(kMiddleRow, second)};
    CHECK_THROWS_AS(cfg::load(sections, {}, {}), std::logic_error);
  }
  SECTION("the real union declares every name once") {
    Config settings;
    CHECK_NOTHROW(cfg::render(settings.sections()));
  }
}

TEST_CASE("follow-mode settings", "[config]") {
  const Config d = load_config({});
  CHECK(d.tail.rescan_interval == std::chrono::milliseconds(1000));
  CHECK(d.tail.read_from == logship::tail::ReadFrom::kHead);
  CHECK(d.tail.max_open_files == 1024);
  CHECK(d.pipeline.shutdown_timeout == std::chrono::milliseconds(25000));
  CHECK(d.tail.rotate_wait == std::chrono::milliseconds(5000));

  Config c = load_config({"--read-from=tail", "--max-open-files=10"},
                               {{"LOGSHIP_RESCAN_MS", "50"}, {"LOGSHIP_SHUTDOWN_TIMEOUT_MS", "0"},
                                {"LOGSHIP_ROTATE_WAIT_MS", "100"}});
  CHECK(c.tail.read_from == logship::tail::ReadFrom::kTail);
  CHECK(c.tail.max_open_files == 10);
  CHECK(c.tail.rescan_interval == std::chrono::milliseconds(50));
  CHECK(c.pipeline.shutdown_timeout == std::chrono::milliseconds(0));
  CHECK(c.tail.rotate_wait == std::chrono::milliseconds(100));

  CHECK_THAT(error_of({"--read-from=middle"}), Contains("LOGSHIP_READ_FROM"));
  CHECK_THAT(error_of({"--max-open-files=0"}), Contains("LOGSHIP_MAX_OPEN_FILES"));
  CHECK_THAT(error_of({"--rescan-ms=5"}), Contains("LOGSHIP_RESCAN_MS"));
  CHECK_THAT(error_of({"--shutdown-timeout-ms=soon"}), Contains("LOGSHIP_SHUTDOWN_TIMEOUT_MS"));
}

TEST_CASE("kubernetes API settings", "[config]") {
  const Config d = load_config({});
  CHECK_FALSE(d.k8s.api);
  CHECK(d.k8s.labels.empty());
  CHECK(d.k8s.release_from == std::vector<std::string>{"label:app.kubernetes.io/version",
                                                   "annotation:logship.io/release", "image-tag"});
  CHECK(d.k8s.wait == std::chrono::milliseconds(500));
  Config c = load_config({"--k8s-api", "--node-name=node-1", "--k8s-labels=app,team.io/*"},
                               {{"LOGSHIP_RELEASE_FROM", "annotation:x/y,image-tag"},
                                // In-cluster address, checked at load since
                                // the settings moved into agent/k8s.
                                {"KUBERNETES_SERVICE_HOST", "10.0.0.1"}});
  CHECK(c.k8s.api);
  CHECK(c.k8s.node_name == "node-1");
  CHECK(c.k8s.labels == std::vector<std::string>{"app", "team.io/*"});
  CHECK(c.k8s.release_from == std::vector<std::string>{"annotation:x/y", "image-tag"});
  CHECK_THAT(error_of({"--k8s-api"}), Contains("LOGSHIP_NODE_NAME"));
  CHECK_THAT(error_of({"--release-from=label:"}), Contains("LOGSHIP_RELEASE_FROM"));
  CHECK_THAT(error_of({"--release-from=git-sha"}), Contains("LOGSHIP_RELEASE_FROM"));
}

TEST_CASE("in-cluster API address is checked with the configuration", "[config]") {
  const Args api = {"--k8s-api", "--node-name=node-1"};
  SECTION("from KUBERNETES_SERVICE_HOST/PORT, port 443 by default") {
    const Config c = load_config(api, {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}});
    CHECK(c.k8s.api_host == "10.0.0.1");
    CHECK(c.k8s.api_port == 443);
    const Config d =
        load_config(api, {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "6443"}});
    CHECK(d.k8s.api_port == 6443);
  }
  SECTION("missing host, also for --check-config") {
    for (const Args& args : {api, Args{"--k8s-api", "--node-name=node-1", "--check-config"}}) {
      CHECK_THAT(error_of(args, {{"KUBERNETES_SERVICE_HOST", ""}}),
                 Equals("LOGSHIP_K8S_API=true but KUBERNETES_SERVICE_HOST is not set (not running in a pod?)"));
    }
  }
  SECTION("a bad port") {
    for (const char* port : {"0", "65536", "https", "-1", "44x"}) {
      INFO(port);
      CHECK_THAT(error_of(api, {{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", port}}),
                 Equals("KUBERNETES_SERVICE_PORT: \"" + std::string(port) + "\" is not a port"));
    }
  }
  SECTION("not needed without LOGSHIP_K8S_API") {
    CHECK_FALSE(load_config({}, {{"KUBERNETES_SERVICE_PORT", "junk"}}).k8s.api);
  }
}

TEST_CASE("standard input cannot be mixed with globs", "[config]") {
  CHECK(load_config({"--input-paths=-"}).tail.reads_stdin());
  CHECK_FALSE(load_config({"--input-paths=/a/*.log"}).tail.reads_stdin());
  for (const Args& args : {Args{"--input-paths=-,/a/*.log"}, Args{"--input-paths=/a/*.log,-", "--check-config"}}) {
    CHECK_THAT(error_of(args),
               Equals("LOGSHIP_INPUT_PATHS: - (standard input) cannot be combined with file globs"));
  }
}

TEST_CASE("every sink's keys are validated whatever the sink (issue 12)", "[config]") {
  SECTION("LOGSHIP_HTTP_CONCURRENCY=banana with the stdout sink") {
    for (const Args& args : {Args{}, Args{"--check-config"}}) {
      const std::string message = error_of(args, {{"LOGSHIP_HTTP_CONCURRENCY", "banana"}});
      CHECK_THAT(message, Equals("LOGSHIP_HTTP_CONCURRENCY: expected adaptive or a decimal number between 1 and 256"));
    }
    CHECK_THAT(error_of({"--http-concurrency=0", "--sink=file", "--file-path=/o"}),
               Contains("LOGSHIP_HTTP_CONCURRENCY (flag --http-concurrency): expected adaptive"));
    CHECK_THAT(error_of({}, {{"LOGSHIP_HTTP_CONCURRENCY", "257"}}), Contains("LOGSHIP_HTTP_CONCURRENCY"));
  }
  SECTION("valid values of an unused sink render canonically, never a sentinel") {
    Config c = load_config({}, {{"LOGSHIP_HTTP_CONCURRENCY", "ADAPTIVE"}});
    CHECK_THAT(logship::render_settings(c), Contains("LOGSHIP_HTTP_CONCURRENCY=adaptive\n"));
    Config d = load_config({}, {{"LOGSHIP_HTTP_CONCURRENCY", "007"}});
    CHECK_THAT(logship::render_settings(d), Contains("LOGSHIP_HTTP_CONCURRENCY=7\n"));
    CHECK_THAT(logship::render_settings(d), !Contains("4294967295"));
  }
  SECTION("other sinks' values: URL, headers, index, brokers, topics") {
    const std::pair<Env, const char*> cases[] = {
        {{{"LOGSHIP_HTTP_URL", "ftp://x"}}, "LOGSHIP_HTTP_URL"},
        {{{"LOGSHIP_HTTP_HEADERS", "bad header=v"}}, "LOGSHIP_HTTP_HEADERS"},
        {{{"LOGSHIP_HTTP_FORMAT", "elasticsearch"}, {"LOGSHIP_HTTP_INDEX", "Logs"}}, "LOGSHIP_HTTP_INDEX"},
        {{{"LOGSHIP_KAFKA_BROKERS", "a:0"}}, "LOGSHIP_KAFKA_BROKERS"},
        {{{"LOGSHIP_KAFKA_TOPIC", "a/b"}}, "LOGSHIP_KAFKA_TOPIC"},
    };
    for (const auto& [env, key] : cases) {
      INFO(key);
      CHECK_THAT(error_of({"--check-config"}, env), Contains(key));
    }
  }
  SECTION("requirements of a sink apply only when it is chosen") {
    CHECK(load_config({}, {{"LOGSHIP_HTTP_USER", "u"}}).sinks.chosen() == "stdout");
    CHECK(load_config({}, {{"LOGSHIP_KAFKA_TOPIC", "t-{pod}"}}).sinks.chosen() == "stdout");
  }
}
