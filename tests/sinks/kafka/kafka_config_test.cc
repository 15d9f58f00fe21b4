// Tests for the Kafka settings: the LOGSHIP_KAFKA_* rows of
// sinks/kafka/kafka_config and LOGSHIP_COMPRESSION (agent/builtin_sinks)
// loaded through the agent's settings, their checks and redaction, and the
// options built from them (property names, _FILE secrets).

#include "sinks/kafka/kafka_config.h"
#include "sinks/kafka/kafka_memory.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "agent/settings.h"
#include "tests/fakes/temp_dir.h"

using namespace logship;
using Config = AgentSettings;
using config::ConfigError;
using sinks::kafka::KafkaKey;
using sinks::kafka::TopicPart;
using sinks::kafka::KafkaSettings;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Env = std::map<std::string, std::string>;

namespace {

Env kafka_env(Env extra = {}) {
  Env env{{"LOGSHIP_SINK", "kafka"}, {"LOGSHIP_KAFKA_BROKERS", "127.0.0.1:9092"}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

Config load(const Env& env, const std::vector<std::string>& args = {}) {
  return load_settings(args, env).settings;
}

const KafkaSettings& kafka(const Config& c) {
  const auto* s = c.sinks.settings_of<KafkaSettings>();
  REQUIRE(s != nullptr);
  return *s;
}

std::string error_of(const Env& env, const std::vector<std::string>& args = {}) {
  try {
    (void)load_settings(args, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("load() did not throw ConfigError");
  return {};
}

}  // namespace

TEST_CASE("kafka config: defaults and values", "[sinks][kafka][config]") {
  const Config c = load(kafka_env());
  CHECK(c.sinks.chosen() == "kafka");
  CHECK(kafka(c).brokers == std::vector<std::string>{"127.0.0.1:9092"});
  CHECK(kafka(c).topic == "logs");
  CHECK_FALSE(kafka(c).topic_fallback);
  CHECK(kafka(c).key == KafkaKey::kNone);
  CHECK(c.sinks.compression() == "zstd");
  CHECK(c.sink_context().compression == "zstd");
  CHECK(kafka(c).options.empty());

  const Config d = load(kafka_env({{"LOGSHIP_KAFKA_BROKERS", "b1:9092, [::1]:9093,SASL_SSL://b3:9094,b4"},
                                   {"LOGSHIP_KAFKA_TOPIC", "logs-{namespace}"},
                                   {"LOGSHIP_KAFKA_TOPIC_FALLBACK", "logs-other"},
                                   {"LOGSHIP_KAFKA_KEY", "Container"},
                                   {"LOGSHIP_COMPRESSION", "lz4"}}),
                        {"--kafka-opt-linger-ms=20"});
  CHECK(kafka(d).brokers == std::vector<std::string>{"b1:9092", "[::1]:9093", "SASL_SSL://b3:9094", "b4"});
  CHECK(kafka(d).topic == "logs-{namespace}");
  CHECK(kafka(d).topic_fallback == "logs-other");
  CHECK(kafka(d).key == KafkaKey::kContainer);
  CHECK(d.sinks.compression() == "lz4");
  CHECK(kafka(d).options == std::map<std::string, std::string>{{"LINGER_MS", "20"}});

  for (auto [word, key] : {std::pair{"none", KafkaKey::kNone}, std::pair{"trace_id", KafkaKey::kTraceId},
                           std::pair{"pod", KafkaKey::kPod}, std::pair{"container", KafkaKey::kContainer}}) {
    CHECK(kafka(load(kafka_env({{"LOGSHIP_KAFKA_KEY", word}}))).key == key);
    CHECK(sinks::kafka::to_string(key) == word);
  }
  for (const char* word : {"zstd", "lz4", "gzip", "snappy", "none"}) {
    CHECK(load(kafka_env({{"LOGSHIP_COMPRESSION", word}})).sinks.compression() == word);
  }
}

TEST_CASE("kafka config: the compression default belongs to the sink", "[sinks][kafka][config]") {
  // No fixed table default: unset means "the sink's own default".
  const Config file = load({{"LOGSHIP_SINK", "file"}, {"LOGSHIP_FILE_PATH", "/o"}});
  CHECK(file.sinks.compression().empty());
  CHECK_THAT(render_settings(file), Contains("LOGSHIP_COMPRESSION=\n"));
  // For Kafka --check-config shows what the sink will use.
  CHECK_THAT(render_settings(load(kafka_env())), Contains("LOGSHIP_COMPRESSION=zstd\n"));
  CHECK_THAT(render_settings(load(kafka_env({{"LOGSHIP_COMPRESSION", "GZIP"}}))),
             Contains("LOGSHIP_COMPRESSION=gzip\n"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_COMPRESSION", "brotli"}})),
             Equals("LOGSHIP_COMPRESSION: \"brotli\" is not one of zstd, lz4, gzip, snappy, none"));
}

TEST_CASE("kafka config: brokers", "[sinks][kafka][config]") {
  CHECK_THAT(error_of({{"LOGSHIP_SINK", "kafka"}}),
             Contains("LOGSHIP_KAFKA_BROKERS (--kafka-brokers) is required when LOGSHIP_SINK=kafka"));
  CHECK_THAT(error_of({{"LOGSHIP_SINK", "kafka"}, {"LOGSHIP_KAFKA_BROKERS", ""}}),
             Contains("LOGSHIP_KAFKA_BROKERS (--kafka-brokers) is required"));
  const std::pair<const char*, const char*> bad[] = {
      {"host:99999", "port must be 0-65535"},
      {"host:0", "port must be 1-65535"},
      {"host:x", "port must be 0-65535"},
      {"::1:9092", "IPv6 addresses must be written in brackets"},
      {"bad_host:9092", "invalid hostname"},
      {"300.1.1.1:9092", "invalid IPv4 address"},
      {"ftp://host:1", "unknown protocol"},
      {":9092", "missing host"},
  };
  for (const auto& [text, reason] : bad) {
    INFO(text);
    CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_BROKERS", std::string("ok:1,") + text}})),
               Contains("LOGSHIP_KAFKA_BROKERS: \"" + std::string(text) + "\" is not a broker address") &&
                   Contains(reason));
  }
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_BROKERS", "a:1,,b:2"}})), Contains("has an empty item"));
}

TEST_CASE("kafka config: topics", "[sinks][kafka][config]") {
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_TOPIC", "logs-{namespace}"}})),
             Contains("LOGSHIP_KAFKA_TOPIC_FALLBACK (--kafka-topic-fallback) is required when LOGSHIP_KAFKA_TOPIC "
                      "has placeholders"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_TOPIC", "logs-{ns}"}})),
             Contains("LOGSHIP_KAFKA_TOPIC: \"logs-{ns}\" has an unknown placeholder \"{ns}\""));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_TOPIC", "logs {pod}"}})),
             Contains("has the character ' '"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_TOPIC", std::string(250, 'a')}})),
             Contains("is not a valid topic name"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_TOPIC", ".."}})), Contains("is not a valid topic name"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_TOPIC", "a"}, {"LOGSHIP_KAFKA_TOPIC_FALLBACK", "b-{pod}"}})),
             Contains("LOGSHIP_KAFKA_TOPIC_FALLBACK: \"b-{pod}\" must not contain placeholders"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_TOPIC", "a"}, {"LOGSHIP_KAFKA_TOPIC_FALLBACK", "b/c"}})),
             Contains("LOGSHIP_KAFKA_TOPIC_FALLBACK: \"b/c\" has the character '/'"));
  // Topic rules apply whatever the sink, like every other value check.
  CHECK_THAT(error_of({{"LOGSHIP_KAFKA_TOPIC", "a b"}}), Contains("LOGSHIP_KAFKA_TOPIC"));

  auto parts = sinks::kafka::parse_topic_template("k.{namespace}-{pod}_{container}", true);
  REQUIRE(parts);
  CHECK(*parts == std::vector<TopicPart>{{TopicPart::Kind::kText, "k."},
                                         {TopicPart::Kind::kNamespace, ""},
                                         {TopicPart::Kind::kText, "-"},
                                         {TopicPart::Kind::kPod, ""},
                                         {TopicPart::Kind::kText, "_"},
                                         {TopicPart::Kind::kContainer, ""}});
  CHECK(sinks::kafka::valid_topic_name("a.b_c-D9"));
  CHECK_FALSE(sinks::kafka::valid_topic_name(""));
  CHECK_FALSE(sinks::kafka::valid_topic_name("."));
}

TEST_CASE("kafka config: pass-through options and secrets", "[sinks][kafka][config]") {
  const Env env = kafka_env({{"LOGSHIP_KAFKA_OPT_SASL_MECHANISM", "SCRAM-SHA-512"},
                             {"LOGSHIP_KAFKA_OPT_SASL_USERNAME", "shipper"},
                             {"LOGSHIP_KAFKA_OPT_SASL_PASSWORD", "hunter2"},
                             {"LOGSHIP_KAFKA_OPT_SSL_KEY_PASSWORD_FILE", "/run/secrets/keypass"},
                             {"LOGSHIP_KAFKA_OPT_SASL_OAUTHBEARER_CONFIG", "principal=me secret=s3"}});
  const Config c = load(env);
  const std::string text = render_settings(c);
  CHECK_THAT(text, Contains("LOGSHIP_KAFKA_OPT_SASL_MECHANISM=SCRAM-SHA-512\n"));
  CHECK_THAT(text, Contains("LOGSHIP_KAFKA_OPT_SASL_USERNAME=shipper\n"));
  CHECK_THAT(text, Contains("LOGSHIP_KAFKA_OPT_SASL_PASSWORD=<redacted>\n"));
  CHECK_THAT(text, Contains("LOGSHIP_KAFKA_OPT_SASL_OAUTHBEARER_CONFIG=<redacted>\n"));
  // A _FILE entry shows its path; the content is never read by the config.
  CHECK_THAT(text, Contains("LOGSHIP_KAFKA_OPT_SSL_KEY_PASSWORD_FILE=/run/secrets/keypass\n"));
  CHECK_THAT(text, !Contains("hunter2") && !Contains("s3"));
  // The rendered configuration is valid input that reproduces itself,
  // except that redacted values cannot round-trip.
  CHECK(render_settings(load(kafka_env())) == render_settings(load([&] {
          Env again;
          const std::string t = render_settings(load(kafka_env()));
          for (size_t start = 0; start < t.size();) {
            const size_t end = t.find('\n', start);
            const std::string line = t.substr(start, end - start);
            again[line.substr(0, line.find('='))] = line.substr(line.find('=') + 1);
            start = end + 1;
          }
          return again;
        }())));

  for (const auto* secret : {"SASL_PASSWORD", "SSL_KEY_PASSWORD", "SSL_KEYSTORE_PASSWORD", "SSL_KEY_PEM",
                             "SASL_OAUTHBEARER_CLIENT_SECRET", "SASL_OAUTHBEARER_CONFIG", "SOME_TOKEN", "sasl_password"}) {
    INFO(secret);
    CHECK(sinks::kafka::is_secret_kafka_option(secret));
  }
  for (const auto* plain : {"SASL_MECHANISM", "SASL_USERNAME", "LINGER_MS", "BATCH_SIZE", "SSL_KEY_PASSWORD_FILE",
                            "SOCKET_KEEPALIVE_ENABLE", "STICKY_PARTITIONING_LINGER_MS"}) {
    INFO(plain);
    CHECK_FALSE(sinks::kafka::is_secret_kafka_option(plain));
  }
}

TEST_CASE("kafka config: options that cannot be passed through", "[sinks][kafka][config]") {
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_OPT_BOOTSTRAP_SERVERS", "x:1"}})),
             Contains("LOGSHIP_KAFKA_OPT_BOOTSTRAP_SERVERS: set the brokers with LOGSHIP_KAFKA_BROKERS"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_OPT_COMPRESSION_TYPE", "lz4"}})),
             Contains("set the codec with LOGSHIP_COMPRESSION"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_OPT_DELIVERY_REPORT_ONLY_ERROR", "true"}})),
             Contains("not supported"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_OPT_SASL_PASSWORD", "a"},
                                 {"LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE", "/x"}})),
             Contains("LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE: sets the librdkafka property sasl.password, which "
                      "LOGSHIP_KAFKA_OPT_SASL_PASSWORD already sets"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_OPT_LINGER__MS", "1"}})), Contains("not a librdkafka property"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_OPT_LINGER-MS", "1"}})), Contains("not a librdkafka property"));
  CHECK_THAT(error_of(kafka_env({{"LOGSHIP_KAFKA_OPT_", "1"}})), Contains("missing option name"));
}

TEST_CASE("kafka options: property names and secret files", "[sinks][kafka]") {
  const auto options_from_config = [](const Config& c, const sinks::kafka::SecretReader& read =
                                                            sinks::kafka::read_secret_file) {
    return sinks::kafka::options_from_settings(kafka(c), c.sink_context(), read);
  };
  using sinks::kafka::Property;
  CHECK(sinks::kafka::property_name("SASL_MECHANISM") == "sasl.mechanism");
  CHECK(sinks::kafka::property_name("QUEUE_BUFFERING_MAX_KBYTES") == "queue.buffering.max.kbytes");
  CHECK(sinks::kafka::property_name("log_level") == "log.level");  // the sink retries log_level

  testing::TempDir dir;
  testing::write_file(dir.path + "/pass", "s3cr3t\n");
  testing::write_file(dir.path + "/crlf", "two\r\nlines\r\n");
  const Config c = load(kafka_env({{"LOGSHIP_KAFKA_OPT_SASL_MECHANISM", "PLAIN"},
                                   {"LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE", dir.path + "/pass"},
                                   {"LOGSHIP_KAFKA_OPT_SSL_CA_PEM_FILE", dir.path + "/crlf"},
                                   {"LOGSHIP_KAFKA_OPT_SASL_USERNAME", "u"},
                                   {"LOGSHIP_KAFKA_TOPIC", "t-{pod}"},
                                   {"LOGSHIP_KAFKA_TOPIC_FALLBACK", "t"},
                                   {"LOGSHIP_KAFKA_KEY", "pod"},
                                   {"LOGSHIP_ONESHOT", "true"},
                                   {"LOGSHIP_MEMORY_LIMIT", "16MiB"}}));
  auto o = options_from_config(c);
  REQUIRE(o);
  CHECK(o->brokers == "127.0.0.1:9092");
  CHECK(o->topic_text == "t-{pod}");
  CHECK(o->topic_fallback == "t");
  CHECK(o->key == KafkaKey::kPod);
  CHECK(o->compression == "zstd");
  CHECK(o->memory_limit == 16u << 20);
  CHECK_FALSE(o->redeliver_in_sink);  // oneshot: the pipeline's bounded retries apply
  CHECK(o->properties == std::vector<Property>{
                             {"sasl.mechanism", "PLAIN", "LOGSHIP_KAFKA_OPT_SASL_MECHANISM", false},
                             {"sasl.password", "s3cr3t", "LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE", true},
                             {"sasl.username", "u", "LOGSHIP_KAFKA_OPT_SASL_USERNAME", false},
                             {"ssl.ca.pem", "two\r\nlines", "LOGSHIP_KAFKA_OPT_SSL_CA_PEM_FILE", true},
                         });
  CHECK(options_from_config(load(kafka_env()))->redeliver_in_sink);  // follow mode

  // An unreadable secret file names the setting and the path, not content.
  const Config missing = load(kafka_env({{"LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE", dir.path + "/nope"}}));
  auto err = options_from_config(missing);
  REQUIRE_FALSE(err);
  CHECK_THAT(err.error().message, Contains("LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE: cannot read " + dir.path +
                                           "/nope: No such file or directory"));
  // A stand-in reader sees the path and supplies the value.
  std::string asked;
  auto fake = options_from_config(load(kafka_env({{"LOGSHIP_KAFKA_OPT_SASL_PASSWORD_FILE", "/p"}})),
                                  [&](const std::string& path) -> Result<std::string> {
                                    asked = path;
                                    return std::string("x");
                                  });
  REQUIRE(fake);
  CHECK(asked == "/p");
  CHECK(fake->properties.at(0).value == "x");
}

using logship::sinks::kafka::ProducerMemory;
using logship::sinks::kafka::producer_memory;
using logship::sinks::kafka::kMessageOverhead;
using logship::sinks::kafka::kInFlightRequests;

TEST_CASE("kafka producer memory: librdkafka's caps come out of the memory limit", "[sinks][kafka]") {
  SECTION("the default limit: 1 MB batches, 16384 messages, 28 MiB reserved") {
    const ProducerMemory m = producer_memory(size_t{64} << 20);
    CHECK(m.reserved == size_t{28} << 20);
    CHECK(m.max_messages == 16384);
    CHECK(m.batch_size == 1000000);
    CHECK(m.max_kbytes == (size_t{36} << 20) / 1024);
  }
  SECTION("what the caps bound fits in the reserve, at any limit") {
    for (size_t mib : {4, 8, 16, 64, 256, 1024}) {
      const size_t limit = mib << 20;
      const ProducerMemory m = producer_memory(limit);
      INFO("limit " << mib << " MiB");
      CHECK(m.reserved < limit / 2);  // the pipeline keeps most of it
      // Message structs plus a broker's requests in flight (~1.5 batches each).
      const size_t bounded = m.max_messages * kMessageOverhead + kInFlightRequests * m.batch_size * 3 / 2;
      CHECK(bounded <= m.reserved);
      CHECK(m.batch_size <= 1000000);  // fits the broker's default message.max.bytes, even uncompressed
      CHECK(m.batch_size >= 64 << 10);
      CHECK(m.max_messages >= 1000);
      CHECK(m.max_kbytes * 1024 <= limit - m.reserved);
    }
  }
  SECTION("small limits keep librdkafka working: floors, not zero") {
    const ProducerMemory m = producer_memory(size_t{4} << 20);
    CHECK(m.max_messages == 1024);
    CHECK(m.batch_size == (size_t{512} << 10) * 2 / 15);  // an eighth of the limit over 5 x 1.5 batches
  }
}
