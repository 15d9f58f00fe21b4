// Tests for sinks/kafka/kafka_record: the record head read from the batch's
// record structure, JSON string decoding, message keys and topic routing;
// plus the statistics parser.

#include "sinks/kafka/kafka_record.h"

#include <catch2/catch.hpp>

#include <string>

#include "agent/enrich/k8s_path.h"
#include "agent/enrich/record_encoder.h"
#include "parsers/json/payload_parser.h"
#include "sinks/kafka/kafka_stats.h"
#include "tests/fakes/structured_batch.h"

using namespace logship;
using namespace logship::sinks::kafka;

namespace {

std::string decoded(const JsonText& t) {
  std::string scratch;
  return std::string(t.decode(scratch));
}

std::vector<TopicPart> topic_parts(const std::string& text) {
  auto parts = parse_topic_template(text, true);
  REQUIRE(parts);
  return *parts;
}

/// One record in a batch and its head as the sink reads it (views into the
/// batch, which is heap-held so the views survive moves).
struct Head {
  std::unique_ptr<Batch> batch = std::make_unique<Batch>();
  RecordHead head;
};

/// Encodes one record exactly as the pipeline does.
Head encode(const std::optional<std::string>& release, const std::string& path, const std::string& payload,
            bool truncated = false) {
  enrich::RecordEncoder encoder(release);
  enrich::SourceContext source;
  if (auto meta = enrich::parse_k8s_path(path)) source.k8s_member = enrich::encode_k8s_member(*meta);
  std::string padded = payload;
  padded.append(json::kPadding, '\0');
  Record record;
  record.ts = "2026-11-26T23:08:04.123456789Z";
  record.stream = "stdout";
  record.payload = std::string_view(padded.data(), payload.size());
  record.truncated = truncated;
  Head h;
  encoder.encode(record, source, *h.batch);
  h.head = record_head(*h.batch, 0);
  return h;
}

/// A hand-written record with the structure the encoder would store.
Head derived(std::string_view record) {
  Head h;
  testing::add_record(*h.batch, record);
  h.head = record_head(*h.batch, 0);
  return h;
}

const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kContainersPath =
    "/var/log/containers/checkout-7d9f8b6c5-x2x9q_shop_app-" + std::string(64, 'a') + ".log";

}  // namespace

TEST_CASE("kafka record head: records from the real encoder", "[sinks][kafka]") {
  SECTION("every member logship writes") {
    const Head rec = encode("checkout@1.4.2", kContainersPath,
                                   R"({"msg":"hi","trace_id":")" + kTrace + R"(","span_id":"00f067aa0ba902b7"})");
    const RecordHead& h = rec.head;
    CHECK(decoded(h.release) == "checkout@1.4.2");
    CHECK(decoded(h.trace_id) == kTrace);
    CHECK(decoded(h.namespace_name) == "shop");
    CHECK(decoded(h.pod) == "checkout-7d9f8b6c5-x2x9q");
    CHECK(decoded(h.container) == "app");
  }
  SECTION("an id lifted from traceId") {
    const Head rec = encode("r1", kContainersPath, R"({"traceId":")" + kTrace + R"("})");
    const RecordHead& h = rec.head;
    CHECK(decoded(h.release) == "r1");
    CHECK(decoded(h.trace_id) == kTrace);
  }
  SECTION("escaped quotes and backslashes inside strings") {
    const Head rec = derived(R"({"release":"a\"b\\","trace_id":"\\\"","log":1})");
    const RecordHead& h = rec.head;
    CHECK(decoded(h.release) == "a\"b\\");
    CHECK(decoded(h.trace_id) == "\\\"");
  }
  SECTION("nothing optional") {
    const Head rec = encode(std::nullopt, "/tmp/plain.log", "just text");
    const RecordHead& h = rec.head;
    CHECK_FALSE(h.release.present);
    CHECK_FALSE(h.trace_id.present);
    CHECK_FALSE(h.namespace_name.present);
    CHECK_FALSE(h.pod.present);
  }
  SECTION("look-alike members inside log are not read") {
    const Head rec = encode(std::nullopt, "/tmp/x.log",
                                   R"({"release":"fake","k8s":{"namespace":"evil"},"trace_id":"nope"})");
    const RecordHead& h = rec.head;
    CHECK_FALSE(h.release.present);
    CHECK_FALSE(h.namespace_name.present);
    CHECK_FALSE(h.trace_id.present);  // the id is not a valid trace id, so logship did not lift it
  }
  SECTION("pods/ layout and truncated records") {
    const Head rec = encode("r", "/var/log/pods/web_frontend-1_0f8e6a2c-1b2c-4d5e-8f90-123456789abc/nginx/0.log",
                                   std::string(100, 'x'), /*truncated=*/true);
    const RecordHead& h = rec.head;
    CHECK(decoded(h.namespace_name) == "web");
    CHECK(decoded(h.pod) == "frontend-1");
    CHECK(decoded(h.container) == "nginx");
  }
  SECTION("an escaped release is decoded for the header") {
    const Head rec = encode("say \"hi\"\\ \xc3\xa9\t", "/tmp/x.log", "x");
    const RecordHead& h = rec.head;
    CHECK(h.release.escaped());
    CHECK(decoded(h.release) == "say \"hi\"\\ \xc3\xa9\t");
  }
}

TEST_CASE("kafka record head: API pod details in k8s (labels, annotations)", "[sinks][kafka]") {
  enrich::K8sMeta meta;
  meta.namespace_name = "shop";
  meta.pod = "checkout-1";
  meta.container = "app";
  enrich::PodDetails details;
  details.node = "node-1";
  details.image = "registry/checkout:1.4.2";
  details.labels = {{"app", "checkout"}, {"tricky", "} \" {"}};
  details.annotations = {{"a/b", "{\"json\":[1,2]}"}};
  const std::string record =
      "{\"ts\":\"t\"," + enrich::encode_k8s_member(meta, &details) + ",\"log\":{\"pod\":\"not this\"}}";
  const Head rec = derived(record);
  const RecordHead& h = rec.head;
  CHECK(decoded(h.namespace_name) == "shop");
  CHECK(decoded(h.pod) == "checkout-1");
  CHECK(decoded(h.container) == "app");
}

TEST_CASE("kafka record head: a record without structure has an empty head", "[sinks][kafka]") {
  Batch b;
  b.data() += R"({"release":"r","trace_id":"t","k8s":{"namespace":"n","pod":"p"},"log":1})";
  b.end_record();  // no structure: nothing is guessed from the bytes
  const RecordHead h = record_head(b, 0);
  CHECK_FALSE(h.release.present);
  CHECK_FALSE(h.trace_id.present);
  CHECK_FALSE(h.namespace_name.present);
}

TEST_CASE("kafka: JSON string decoding", "[sinks][kafka]") {
  const auto dec = [](std::string_view raw) {
    std::string out;
    decode_json_string(raw, out);
    return out;
  };
  CHECK(dec(R"(plain)") == "plain");
  CHECK(dec(R"(a\"b\\c\/d)") == "a\"b\\c/d");
  CHECK(dec(R"(\b\f\n\r\t)") == "\b\f\n\r\t");
  CHECK(dec(R"(\u00e9\u20ac)") == "\xc3\xa9\xe2\x82\xac");
  CHECK(dec(R"(\ud83d\ude00)") == "\xf0\x9f\x98\x80");  // a surrogate pair
  CHECK(dec(R"(\ud83d!)") == "\xef\xbf\xbd!");          // a lone surrogate -> U+FFFD
  CHECK(dec(R"(\u12)") == "\\u12");                      // malformed: kept
  CHECK(dec(R"(\q)") == "\\q");
}

TEST_CASE("kafka: message keys", "[sinks][kafka]") {
  // The head holds views into the batch: it must outlive them.
  const Head rec = encode("r", kContainersPath, R"({"traceId":")" + kTrace + R"("})");
  const RecordHead& h = rec.head;
  std::string scratch;
  CHECK_FALSE(message_key(KafkaKey::kNone, h, scratch));
  CHECK(*message_key(KafkaKey::kTraceId, h, scratch) == kTrace);
  CHECK(std::string(*message_key(KafkaKey::kPod, h, scratch)) == "shop/checkout-7d9f8b6c5-x2x9q");
  CHECK(std::string(*message_key(KafkaKey::kContainer, h, scratch)) == "shop/checkout-7d9f8b6c5-x2x9q/app");

  const Head bare_rec = encode(std::nullopt, "/tmp/x.log", "text");
  const RecordHead& bare = bare_rec.head;
  for (auto mode : {KafkaKey::kTraceId, KafkaKey::kPod, KafkaKey::kContainer}) {
    CHECK_FALSE(message_key(mode, bare, scratch));  // no key: the sticky partitioner spreads them
  }
}

TEST_CASE("kafka: topic routing", "[sinks][kafka]") {
  const Head k8s_rec = encode(std::nullopt, kContainersPath, "x");
  const RecordHead& k8s = k8s_rec.head;
  const Head bare_rec = encode(std::nullopt, "/tmp/x.log", "x");
  const RecordHead& bare = bare_rec.head;

  SECTION("a fixed topic") {
    TopicRouter r(topic_parts("logs"), std::nullopt);
    REQUIRE(r.fixed());
    CHECK(r.route(k8s) == "logs");
    CHECK(r.route(bare) == "logs");
  }
  SECTION("placeholders are filled, records without metadata use the fallback") {
    TopicRouter r(topic_parts("logs.{namespace}.{pod}-{container}"), "logs.other");
    CHECK_FALSE(r.fixed());
    CHECK(r.route(k8s) == "logs.shop.checkout-7d9f8b6c5-x2x9q-app");
    CHECK(r.route(bare) == "logs.other");
  }
  SECTION("a filled-in name Kafka would reject goes to the fallback") {
    const Head odd_rec = derived(R"({"k8s":{"namespace":"a b","pod":"p","container":"c"},"log":1})");
    const RecordHead& odd = odd_rec.head;
    TopicRouter r(topic_parts("{namespace}"), "fb");
    CHECK(r.route(odd) == "fb");
    const Head empty_ns_rec = derived(R"({"k8s":{"namespace":"","pod":"p"},"log":1})");
    const RecordHead& empty_ns = empty_ns_rec.head;
    CHECK(r.route(empty_ns) == "fb");
    TopicRouter long_name(topic_parts(std::string(240, 'x') + "{pod}"), "fb");
    const Head long_pod_rec = derived(R"({"k8s":{"pod":"0123456789"},"log":1})");
    const RecordHead& long_pod = long_pod_rec.head;
    CHECK(long_name.route(long_pod) == "fb");  // 250 characters: over Kafka's 249
  }
}

TEST_CASE("kafka: statistics JSON", "[sinks][kafka]") {
  const std::string json = R"({"name":"logship#producer-1","type":"producer","msg_cnt":3,
    "brokers":{
      "127.0.0.1:9092/bootstrap":{"name":"127.0.0.1:9092/bootstrap","nodeid":-1,"state":"UP","rtt":{"avg":0}},
      "127.0.0.1:9092/0":{"name":"127.0.0.1:9092/0","nodeid":0,"state":"UP","rtt":{"min":100,"avg":2500,"max":9000}},
      "127.0.0.1:9093/1":{"name":"127.0.0.1:9093/1","nodeid":1,"state":"DOWN","rtt":{"avg":0}},
      ":0/internal":{"name":":0/internal","nodeid":-1,"state":"UP"}
    },
    "topics":{}})";
  auto s = parse_stats(json);
  REQUIRE(s);
  REQUIRE(s->brokers.size() == 2);
  CHECK(s->brokers_up == 1);
  CHECK(s->brokers[0] == BrokerStats{"127.0.0.1:9092/0", 0, "UP", 2500});
  CHECK(s->brokers[1] == BrokerStats{"127.0.0.1:9093/1", 1, "DOWN", 0});
  CHECK_FALSE(parse_stats("{not json"));
  auto empty = parse_stats("{}");
  REQUIRE(empty);
  CHECK(empty->brokers.empty());
}
