#include "sinks/http/http_config.h"

#include <catch2/catch.hpp>

#include "agent/settings.h"
#include "tests/fakes/temp_dir.h"

using namespace logship;
using namespace logship::sinks::http;
using logship::testing::TempDir;
using logship::testing::write_file;

namespace {

/// The sink's settings and the context the agent gives it.
struct Base {
  HttpSettings s;
  config::SinkContext ctx;
};

Base base(const std::string& state) {
  Base c;
  c.s.url = "https://logs.example";
  c.s.index = "logship-%Y.%m.%d";
  c.ctx.state_dir = state;
  c.s.timeout = std::chrono::milliseconds(30000);
  return c;
}

Result<HttpSinkOptions> options_from_config(const Base& c) { return options_from_settings(c.s, c.ctx); }

const HttpSettings& http_of(const AgentSettings& c) {
  const auto* s = c.sinks.settings_of<HttpSettings>();
  REQUIRE(s != nullptr);
  return *s;
}

std::string header(const HttpSinkOptions& o, std::string_view name) {
  for (const auto& [n, v] : o.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

}  // namespace

TEST_CASE("base64 and basic auth (RFC 4648, RFC 7617)", "[http][config]") {
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64(std::string("\xff\x00\x80", 3)) == "/wCA");
  CHECK(basic_auth("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST_CASE("extra headers", "[http][config]") {
  auto h = parse_extra_headers({"X-Scope-OrgID=team-a", "X-Empty=", "X-Eq=a=b", "X-Space= v"});
  REQUIRE(h);
  REQUIRE(h->size() == 4);
  CHECK((*h)[0] == std::pair<std::string, std::string>("X-Scope-OrgID", "team-a"));
  CHECK((*h)[1].second.empty());
  CHECK((*h)[2].second == "a=b");
  CHECK((*h)[3].second == "v");
  for (const char* bad : {"NoEquals", "=v", "Bad Name=v", "Content-Type=text/plain", "host=x", "X-A=a\r\nX-B: b"}) {
    INFO(bad);
    auto r = parse_extra_headers({bad});
    REQUIRE_FALSE(r);
    // The value of a header is never echoed (it may be a key).
    CHECK(r.error().message.find("X-B: b") == std::string::npos);
  }
}

TEST_CASE("options: default paths per format, auth schemes, secrets from files", "[http][config]") {
  TempDir dir;
  write_file(dir.path + "/token", "tok-123\n");
  write_file(dir.path + "/password", "pw\n");
  auto c = base(dir.path);

  c.s.format = HttpFormat::kLoki;
  auto o = options_from_config(c);
  REQUIRE(o);
  CHECK(o->url.target == "/loki/api/v1/push");
  CHECK(o->codec == codec::Codec::kGzip);  // the http default
  CHECK(o->dead_letter_path == dir.path + "/http-dead-letter.ndjson");
  CHECK(o->max_attempts == 0);  // follow mode: until delivered

  c.s.format = HttpFormat::kOtlp;
  c.s.url = "http://collector:4318/custom/path";
  c.ctx.oneshot = true;
  o = options_from_config(c);
  REQUIRE(o);
  CHECK(o->url.target == "/custom/path");  // an explicit path wins
  CHECK(o->max_attempts > 0);

  c.s.url = "https://hec.example:8088";
  c.s.format = HttpFormat::kSplunkHec;
  c.s.token_file = dir.path + "/token";
  o = options_from_config(c);
  REQUIRE(o);
  CHECK(o->url.target == "/services/collector/event");
  CHECK(header(*o, "Authorization") == "Splunk tok-123");

  c.s.format = HttpFormat::kElasticsearch;
  o = options_from_config(c);
  REQUIRE(o);
  CHECK(o->url.target == "/_bulk");
  CHECK(header(*o, "Authorization") == "Bearer tok-123");

  c.s.token_file.reset();
  c.s.user = "elastic";
  c.s.password_file = dir.path + "/password";
  c.ctx.compression = "zstd";
  o = options_from_config(c);
  REQUIRE(o);
  CHECK(header(*o, "Authorization") == basic_auth("elastic", "pw"));
  CHECK(o->codec == codec::Codec::kZstd);

  // Authorization twice would be ambiguous.
  c.s.headers = {"Authorization=ApiKey abc"};
  CHECK_FALSE(options_from_config(c));
  c.s.user.reset();
  c.s.password_file.reset();
  o = options_from_config(c);
  REQUIRE(o);
  CHECK(header(*o, "Authorization") == "ApiKey abc");
}

TEST_CASE("secret files: missing, empty, multi-line", "[http][config]") {
  TempDir dir;
  auto missing = read_secret_file(dir.path + "/nope", "LOGSHIP_HTTP_TOKEN_FILE");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("LOGSHIP_HTTP_TOKEN_FILE") == 0);
  write_file(dir.path + "/empty", "\n");
  CHECK_FALSE(read_secret_file(dir.path + "/empty", "K"));
  write_file(dir.path + "/two", "line1\nline2\n");
  auto two = read_secret_file(dir.path + "/two", "K");
  REQUIRE_FALSE(two);
  CHECK(two.error().message.find("line1") == std::string::npos);
  write_file(dir.path + "/ok", "  spaced-token \t\r\n");
  CHECK(read_secret_file(dir.path + "/ok", "K") == "  spaced-token");
}

TEST_CASE("config: LOGSHIP_HTTP_* keys load and cross-check", "[http][config]") {
  const auto load = [](const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    return load_settings(args, env);
  };
  const std::map<std::string, std::string> ok = {
      {"LOGSHIP_SINK", "http"}, {"LOGSHIP_HTTP_URL", "https://es.example:9200"},
      {"LOGSHIP_HTTP_FORMAT", "elasticsearch"}, {"LOGSHIP_HTTP_CONCURRENCY", "8"},
      {"LOGSHIP_HTTP_HEADERS", "X-A=1,X-B=2"}, {"LOGSHIP_HTTP_INDEX", "logs-{namespace}-%Y.%m"}};
  auto loaded = load({}, ok);
  const AgentSettings& c = loaded.settings;
  CHECK(c.sinks.chosen() == "http");
  CHECK(http_of(c).format == HttpFormat::kElasticsearch);
  CHECK(http_of(c).concurrency == 8);
  CHECK(http_of(c).headers == std::vector<std::string>{"X-A=1", "X-B=2"});
  CHECK(http_of(c).timeout == std::chrono::milliseconds(30000));
  CHECK(c.sinks.compression() == "gzip");
  const std::string shown = render_settings(c);
  CHECK(shown.find("LOGSHIP_HTTP_HEADERS=<redacted>") != std::string::npos);
  CHECK(shown.find("LOGSHIP_COMPRESSION=gzip") != std::string::npos);
  CHECK(shown.find("LOGSHIP_HTTP_CONCURRENCY=8") != std::string::npos);

  CHECK(http_of(load({}, {{"LOGSHIP_SINK", "http"}, {"LOGSHIP_HTTP_URL", "http://x"}}).settings).concurrency == 0);
  CHECK(parse_http_concurrency("Adaptive") == 0);
  CHECK(parse_http_concurrency("0") == kHttpConcurrencyInvalid);
  CHECK(parse_http_concurrency("4x") == kHttpConcurrencyInvalid);

  const auto refused = [&](std::map<std::string, std::string> env, std::string_view needle) {
    env.emplace("LOGSHIP_SINK", "http");
    env.emplace("LOGSHIP_HTTP_URL", "https://h");
    try {
      (void)load({}, env);
    } catch (const config::ConfigError& e) {
      INFO(e.what());
      CHECK(std::string_view(e.what()).find(needle) != std::string_view::npos);
      return;
    }
    FAIL("accepted");
  };
  refused({{"LOGSHIP_HTTP_URL", "h:80"}}, "LOGSHIP_HTTP_URL");
  refused({{"LOGSHIP_COMPRESSION", "snappy"}}, "not supported by the http sink");
  refused({{"LOGSHIP_HTTP_CONCURRENCY", "257"}}, "LOGSHIP_HTTP_CONCURRENCY");
  refused({{"LOGSHIP_HTTP_TOKEN_FILE", "/t"}, {"LOGSHIP_HTTP_USER", "u"}, {"LOGSHIP_HTTP_PASSWORD_FILE", "/p"}},
          "choose bearer token or basic auth");
  refused({{"LOGSHIP_HTTP_KEY_FILE", "/k"}}, "LOGSHIP_HTTP_CERT_FILE");
  refused({{"LOGSHIP_HTTP_TLS_INSECURE", "true"}, {"LOGSHIP_HTTP_CA_FILE", "/ca"}}, "ignored");
  refused({{"LOGSHIP_HTTP_FORMAT", "elasticsearch"}, {"LOGSHIP_HTTP_INDEX", "Logs"}}, "LOGSHIP_HTTP_INDEX");
  try {
    (void)load({}, {{"LOGSHIP_SINK", "http"}});
    FAIL("accepted without a URL");
  } catch (const config::ConfigError& e) {
    CHECK(std::string_view(e.what()).find("LOGSHIP_HTTP_URL") != std::string_view::npos);
  }
}
