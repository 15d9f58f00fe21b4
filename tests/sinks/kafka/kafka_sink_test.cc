// Tests for sinks/kafka/kafka_sink against librdkafka's mock cluster. The
// mock is used for error paths only (injected produce errors, brokers going
// down, fatal errors, startup checks); that records arrive in Kafka exactly
// is checked against a real broker by tests/blackbox/test_kafka*.py.

#include "sinks/kafka/kafka_sink.h"

#include "sinks/kafka/kafka_memory.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <catch2/catch.hpp>

#include "tests/fakes/structured_batch.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace logship;
using namespace logship::sinks::kafka;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

constexpr int16_t kProduceApi = 0;  // RD_KAFKAP_Produce

/// A mock Kafka cluster on loopback (its own librdkafka handle keeps it).
class MockCluster {
 public:
  explicit MockCluster(int brokers = 1) {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    REQUIRE(rk_ != nullptr);
    mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
    REQUIRE(mc_ != nullptr);
    REQUIRE(rd_kafka_mock_topic_create(mc_, "t", 3, brokers) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mc_); }
  rd_kafka_mock_cluster_t* get() { return mc_; }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
};

/// Collects delivery reports; keeps failed batches so a test can resend them.
class Listener final : public DeliveryListener {
 public:
  void on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) override {
    std::lock_guard lock(mu_);
    reports.push_back({batch->seq, status, std::string(error)});
    if (status != DeliveryStatus::kOk) returned.push_back(std::move(batch));
    cv_.notify_all();
  }
  /// Waits until `n` reports arrived; false on timeout.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return reports.size() >= n; });
  }
  size_t count(DeliveryStatus s) {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(std::count_if(reports.begin(), reports.end(), [&](const Report& r) { return r.status == s; }));
  }
  struct Report {
    uint64_t seq;
    DeliveryStatus status;
    std::string error;
  };
  std::vector<Report> reports;
  std::vector<BatchPtr> returned;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

BatchPtr make_batch(uint64_t seq, size_t records, const std::string& tag = "r") {
  auto b = std::make_unique<Batch>();
  b->seq = seq;
  for (size_t i = 0; i < records; ++i) {
    testing::add_record(*b, R"({"ts":"2026-11-26T23:08:04Z","stream":"stdout","release":"v1","log":{"tag":")" + tag +
                                R"(","i":)" + std::to_string(i) + "}}");
  }
  return b;
}

KafkaSinkOptions options_for(const std::string& brokers, const std::string& topic = "t") {
  KafkaSinkOptions o;
  o.brokers = brokers;
  o.topic = {TopicPart{TopicPart::Kind::kText, topic}};
  o.topic_text = topic;
  o.startup_timeout = 3s;
  o.retry_initial = 20ms;
  o.retry_max = 200ms;
  o.statistics_interval_ms = 1000;
  // Quick reconnects keep the brokers-down tests short.
  o.properties.push_back({"reconnect.backoff.max.ms", "200", "test", false});
  o.properties.push_back({"log_level", "3", "test", false});
  return o;
}

std::unique_ptr<KafkaSink> make_sink(KafkaSinkOptions o) {
  auto sink = KafkaSink::create(std::move(o));
  if (!sink) FAIL(sink.error().message);
  return std::move(*sink);
}

std::map<std::string, double> metrics_of(const KafkaSink& sink) {
  std::map<std::string, double> out;
  sink.collect_metrics([&](const Sink::MetricSample& s) {
    std::string key(s.name);
    if (!s.label_name.empty()) key += "{" + std::string(s.label_name) + "=" + std::string(s.label_value) + "}";
    out[key] = s.value;
  });
  return out;
}

/// Polls `cond` until it holds or `timeout` passes.
template <typename F>
bool eventually(F cond, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

}  // namespace

TEST_CASE("kafka sink: every batch is acknowledged once all its messages are", "[sinks][kafka]") {
  MockCluster mock;
  auto sink = make_sink(options_for(mock.bootstraps()));
  Listener l;
  REQUIRE(sink->start(l));
  for (uint64_t i = 0; i < 3; ++i) sink->send(make_batch(i, 1000));
  auto positions_only = std::make_unique<Batch>();
  positions_only->seq = 3;
  positions_only->set_position(FilePosition{0, 10, {}, false});
  sink->send(std::move(positions_only));
  REQUIRE(l.wait_for(4));
  CHECK(l.count(DeliveryStatus::kOk) == 4);
  auto m = metrics_of(*sink);
  CHECK(m["logship_kafka_messages_produced_total"] == 3000);
  CHECK(m["logship_kafka_bytes_produced_total"] > 3000 * 60);
  CHECK(m["logship_kafka_queue_messages"] == 0);
  CHECK(m["logship_kafka_pending_messages"] == 0);
  CHECK_FALSE(sink->unavailable_reason());
  sink->stop();
  sink->stop();  // idempotent
}

TEST_CASE("kafka sink: a batch larger than librdkafka's queue is produced as space frees", "[sinks][kafka]") {
  MockCluster mock;
  auto o = options_for(mock.bootstraps());
  o.memory_limit = 4 << 20;  // queue.buffering.max.messages = 1024
  auto sink = make_sink(std::move(o));
  CHECK(sink->reserved_memory() == producer_memory(4 << 20).reserved);
  Listener l;
  REQUIRE(sink->start(l));
  sink->send(make_batch(0, 6000));
  sink->send(make_batch(1, 10));
  REQUIRE(l.wait_for(2));
  CHECK(l.count(DeliveryStatus::kOk) == 2);
  auto m = metrics_of(*sink);
  CHECK(m["logship_kafka_messages_produced_total"] == 6010);
  // The full queue was hit (6000 > 1024) and waited out, not dropped.
  CHECK(m["logship_kafka_queue_full_total"] > 0);
  CHECK(m["logship_kafka_pending_messages"] == 0);
  sink->stop();
}

TEST_CASE("kafka sink: failed messages are produced again in follow mode", "[sinks][kafka]") {
  MockCluster mock;
  auto sink = make_sink(options_for(mock.bootstraps()));
  CHECK(sink->redelivers_internally());  // a declared capability, not a hidden mode
  Listener l;
  REQUIRE(sink->start(l));
  sink->send(make_batch(0, 10));  // warm up: metadata, producer id
  REQUIRE(l.wait_for(1));
  rd_kafka_mock_push_request_errors(mock.get(), kProduceApi, 3, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  sink->send(make_batch(1, 200));
  REQUIRE(l.wait_for(2, 30s));
  CHECK(l.reports[1].status == DeliveryStatus::kOk);  // only after redelivery
  auto m = metrics_of(*sink);
  CHECK(m["logship_kafka_delivery_errors_total{reason=TOPIC_AUTHORIZATION_FAILED}"] >= 1);
  CHECK(m["logship_kafka_messages_produced_total"] == 210);
  CHECK(eventually([&] { return !sink->unavailable_reason(); }));
  sink->stop();
}

TEST_CASE("kafka sink: in oneshot mode a failed batch goes back to the pipeline", "[sinks][kafka]") {
  MockCluster mock;
  auto o = options_for(mock.bootstraps());
  o.redeliver_in_sink = false;
  auto sink = make_sink(std::move(o));
  CHECK_FALSE(sink->redelivers_internally());
  Listener l;
  REQUIRE(sink->start(l));
  sink->send(make_batch(0, 10));
  REQUIRE(l.wait_for(1));
  // A per-request error (an authorization error would stick to the topic
  // in librdkafka until its next metadata refresh).
  rd_kafka_mock_push_request_errors(mock.get(), kProduceApi, 1, RD_KAFKA_RESP_ERR_INVALID_RECORD);
  sink->send(make_batch(1, 5));
  REQUIRE(l.wait_for(2));
  REQUIRE(l.reports[1].status == DeliveryStatus::kRetry);
  CHECK_THAT(l.reports[1].error, Contains("messages not delivered") && Contains("topic t"));
  // The pipeline sends it again; now it goes through.
  sink->send(std::move(l.returned.at(0)));
  REQUIRE(l.wait_for(3));
  CHECK(l.reports[2].status == DeliveryStatus::kOk);
  sink->stop();
}

TEST_CASE("kafka sink: not ready while no broker is reachable, nothing lost", "[sinks][kafka]") {
  MockCluster mock;
  auto sink = make_sink(options_for(mock.bootstraps()));
  Listener l;
  REQUIRE(sink->start(l));
  sink->send(make_batch(0, 10));
  REQUIRE(l.wait_for(1));
  CHECK_FALSE(sink->unavailable_reason());

  REQUIRE(rd_kafka_mock_broker_set_down(mock.get(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  sink->send(make_batch(1, 100));
  REQUIRE(eventually([&] { return sink->unavailable_reason().has_value(); }));
  CHECK_THAT(*sink->unavailable_reason(), Contains("no Kafka broker reachable"));
  CHECK(l.reports.size() == 1);  // held, not failed: no message timeout

  REQUIRE(rd_kafka_mock_broker_set_up(mock.get(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  REQUIRE(l.wait_for(2, 30s));
  CHECK(l.reports[1].status == DeliveryStatus::kOk);
  CHECK(eventually([&] { return !sink->unavailable_reason(); }));
  CHECK(metrics_of(*sink)["logship_kafka_client_errors_total{reason=_ALL_BROKERS_DOWN}"] >= 1);
  sink->stop();
}

TEST_CASE("kafka sink: a fatal producer error replaces the producer, nothing lost", "[sinks][kafka]") {
  MockCluster mock;
  auto sink = make_sink(options_for(mock.bootstraps()));
  Listener l;
  REQUIRE(sink->start(l));
  sink->send(make_batch(0, 50));
  REQUIRE(l.wait_for(1));
  sink->raise_fatal_error_for_test();
  sink->send(make_batch(1, 500));
  sink->send(make_batch(2, 500));
  REQUIRE(l.wait_for(3, 30s));
  CHECK(l.count(DeliveryStatus::kOk) == 3);
  auto m = metrics_of(*sink);
  CHECK(m["logship_kafka_producer_restarts_total"] == 1);
  CHECK(m["logship_kafka_messages_produced_total"] >= 1050);
  CHECK(eventually([&] { return !sink->unavailable_reason(); }));
  sink->stop();
}

TEST_CASE("kafka sink: stop reports what it still holds as not delivered", "[sinks][kafka]") {
  MockCluster mock;
  auto sink = make_sink(options_for(mock.bootstraps()));
  Listener l;
  REQUIRE(sink->start(l));
  sink->send(make_batch(0, 10));
  REQUIRE(l.wait_for(1));
  REQUIRE(rd_kafka_mock_broker_set_down(mock.get(), 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  sink->send(make_batch(1, 100));
  sink->send(make_batch(2, 100));
  std::this_thread::sleep_for(200ms);  // let them reach librdkafka's queue
  sink->stop();
  REQUIRE(l.reports.size() == 3);
  CHECK(l.reports[1].status == DeliveryStatus::kRetry);
  CHECK(l.reports[2].status == DeliveryStatus::kRetry);
  CHECK_THAT(l.reports[1].error, Contains("stopped"));
}

TEST_CASE("kafka sink: startup errors name the setting and the cause", "[sinks][kafka]") {
  MockCluster mock;
  const auto error_of = [](KafkaSinkOptions o) {
    auto sink = KafkaSink::create(std::move(o));
    REQUIRE_FALSE(sink);
    return sink.error().message;
  };
  SECTION("unknown librdkafka property") {
    auto o = options_for(mock.bootstraps());
    o.properties.push_back({"no.such.thing", "1", "LOGSHIP_KAFKA_OPT_NO_SUCH_THING", false});
    CHECK_THAT(error_of(std::move(o)),
               Contains("LOGSHIP_KAFKA_OPT_NO_SUCH_THING: librdkafka has no configuration property \"no.such.thing\""));
  }
  SECTION("bad values: shown unless secret") {
    auto o = options_for(mock.bootstraps());
    o.properties.push_back({"linger.ms", "soon", "LOGSHIP_KAFKA_OPT_LINGER_MS", false});
    CHECK_THAT(error_of(std::move(o)), Contains("LOGSHIP_KAFKA_OPT_LINGER_MS: Invalid value"));
    auto p = options_for(mock.bootstraps());
    p.properties.push_back({"security.protocol", "hunter2", "LOGSHIP_KAFKA_OPT_SECURITY_PROTOCOL", false});
    CHECK_THAT(error_of(std::move(p)), Contains("LOGSHIP_KAFKA_OPT_SECURITY_PROTOCOL: ") && Contains("hunter2"));
    // The same mistake in a value read from a secret file stays hidden.
    auto s = options_for(mock.bootstraps());
    s.properties.push_back({"security.protocol", "hunter2", "LOGSHIP_KAFKA_OPT_SECURITY_PROTOCOL_FILE", true});
    const auto message = error_of(std::move(s));
    CHECK_THAT(message, Contains("LOGSHIP_KAFKA_OPT_SECURITY_PROTOCOL_FILE: invalid value") && Contains("hidden"));
    CHECK_THAT(message, !Contains("hunter2"));
  }
  SECTION("overrides librdkafka cannot combine") {
    auto o = options_for(mock.bootstraps());
    o.properties.push_back({"acks", "1", "LOGSHIP_KAFKA_OPT_ACKS", false});
    CHECK_THAT(error_of(std::move(o)), Contains("librdkafka rejected the configuration") && Contains("acks"));
  }
  SECTION("a topic the cluster does not have") {
    rd_kafka_mock_topic_set_error(mock.get(), "missing", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    auto o = options_for(mock.bootstraps(), "missing");
    o.startup_timeout = 1s;
    CHECK_THAT(error_of(std::move(o)),
               Contains("LOGSHIP_KAFKA_TOPIC: topic \"missing\" does not exist on the cluster") &&
                   Contains("auto.create.topics.enable=false"));
  }
  SECTION("a fallback topic the cluster does not have") {
    rd_kafka_mock_topic_set_error(mock.get(), "fb", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    auto o = options_for(mock.bootstraps());
    o.topic = *parse_topic_template("t-{namespace}", true);
    o.topic_fallback = "fb";
    o.startup_timeout = 1s;
    CHECK_THAT(error_of(std::move(o)), Contains("LOGSHIP_KAFKA_TOPIC_FALLBACK: topic \"fb\" does not exist"));
  }
  SECTION("a topic we may not write") {
    rd_kafka_mock_topic_set_error(mock.get(), "secret", RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    CHECK_THAT(error_of(options_for(mock.bootstraps(), "secret")),
               Contains("LOGSHIP_KAFKA_TOPIC: not authorized to access topic \"secret\""));
  }
  SECTION("broker names that do not resolve") {
    auto o = options_for("nonexistent-broker.invalid:9092");
    o.startup_timeout = 2s;
    CHECK_THAT(error_of(std::move(o)), Contains("LOGSHIP_KAFKA_BROKERS: cannot resolve the brokers"));
  }
}

TEST_CASE("kafka sink: brokers that do not answer at start are not an error", "[sinks][kafka]") {
  // A closed loopback port: the cluster may come up later.
  auto o = options_for("127.0.0.1:1");
  o.startup_timeout = 500ms;
  auto sink = KafkaSink::create(std::move(o));
  REQUIRE(sink);
  REQUIRE((*sink)->unavailable_reason());
  CHECK_THAT(*(*sink)->unavailable_reason(), Contains("no Kafka broker reachable"));
  Listener l;
  REQUIRE((*sink)->start(l));
  (*sink)->stop();
  CHECK(l.reports.empty());
}

TEST_CASE("kafka sink: librdkafka names that keep underscores", "[sinks][kafka]") {
  MockCluster mock;
  auto o = options_for(mock.bootstraps());
  o.properties.push_back({"log.level", "4", "LOGSHIP_KAFKA_OPT_LOG_LEVEL", false});  // really log_level
  auto sink = KafkaSink::create(std::move(o));
  CHECK(sink);
}

TEST_CASE("kafka sink: a short message timeout shrinks the default linger, not an explicit one", "[sinks][kafka]") {
  MockCluster mock;
  // The default linger (500 ms) is ours; librdkafka wants linger < timeout.
  auto o = options_for(mock.bootstraps());
  o.properties.push_back({"message.timeout.ms", "300", "LOGSHIP_KAFKA_OPT_MESSAGE_TIMEOUT_MS", false});
  auto sink = KafkaSink::create(std::move(o));
  CHECK(sink);
  // Both set by the user and inconsistent: their mistake, named at start.
  auto both = options_for(mock.bootstraps());
  both.properties.push_back({"message.timeout.ms", "300", "LOGSHIP_KAFKA_OPT_MESSAGE_TIMEOUT_MS", false});
  both.properties.push_back({"linger.ms", "400", "LOGSHIP_KAFKA_OPT_LINGER_MS", false});
  auto rejected = KafkaSink::create(std::move(both));
  REQUIRE_FALSE(rejected);
  CHECK_THAT(rejected.error().message, Contains("linger.ms"));
}
