// Tests for the agent's configuration: load_settings() against the union of
// the components' real key tables (syntax, bounds, enums, lists, cross-key
// checks). Rendering, help and each component's settings are in
// config_render_test.cc; the engine with custom tables in
// config_engine_test.cc.

#include "agent/config/config.h"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "tests/config/config_test_util.h"

using namespace logship_config_test;  // NOLINT: test helpers and aliases

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
