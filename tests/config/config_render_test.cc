// Tests for the agent's configuration: the effective settings as rendered
// (--check-config), --help and --version, the environment map, and each
// component's settings as loaded through the union of the key tables.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "tests/config/config_test_util.h"

using namespace logship_config_test;  // NOLINT: test helpers and aliases

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
