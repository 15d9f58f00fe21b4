#include "sinks/kafka/kafka_sink.h"

#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/core/backoff.h"
#include "agent/core/log.h"
#include "agent/core/log_limiter.h"
#include "sinks/kafka/kafka_record.h"
#include "sinks/kafka/kafka_stats.h"

namespace logship::sinks::kafka {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kLog = "sink.kafka";
// Longest sleep of the producer thread: bounds how stale readiness can get.
constexpr int kMaxWaitMs = 1000;
// Delivery failures are logged at most this often (with a suppressed count).
constexpr auto kLogInterval = std::chrono::seconds(10);
// How long stop() waits for purged messages to come back before giving up
// on librdkafka (it should take milliseconds).
constexpr auto kPurgeWait = std::chrono::seconds(10);

/// Heterogeneous lookup, so a topic name view finds its handle without a
/// string allocation per record.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};


log::Level to_level(int syslog_level) {
  if (syslog_level <= 4) return log::Level::kWarn;  // emerg..warning
  if (syslog_level <= 6) return log::Level::kInfo;  // notice, info
  return log::Level::kDebug;
}

/// One batch held by the sink until it is reported.
struct Tracked {
  BatchPtr batch;
  size_t next = 0;                       // next record of the first pass
  std::vector<std::string_view> redo;    // failed records being produced again
  size_t redo_next = 0;
  std::vector<std::string_view> failed;  // failed in the current attempt
  size_t in_queue = 0;                   // produced, delivery report pending
  uint32_t attempt = 1;
  std::string error;                     // first failure of the current attempt
  std::list<Tracked>::iterator self;

  [[nodiscard]] bool has_more() const { return next < batch->record_count() || redo_next < redo.size(); }
  /// Records still to be delivered that are not in librdkafka's queue.
  [[nodiscard]] size_t remaining() const {
    return (batch->record_count() - next) + (redo.size() - redo_next) + failed.size();
  }
};

enum class Produced { kOk, kQueueFull, kFailed };

}  // namespace

class KafkaSink::Impl {
 public:
  explicit Impl(KafkaSinkOptions options)
      : opt_(std::move(options)),
        router_(opt_.topic, opt_.topic_fallback),
        // Equal jitter: never close to zero, so a permanent failure (a
        // missing topic, a rejected record) cannot spin.
        backoff_(Backoff::Options{.initial = opt_.retry_initial, .max = opt_.retry_max,
                                  .jitter = Backoff::Jitter::kEqual}) {}

  ~Impl() {
    stop();
    close_producer();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  // ---- setup ----------------------------------------------------------------

  [[nodiscard]] Result<void> open() {
    if (wake_fd_ < 0) {
      wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (wake_fd_ < 0) return fail_errno("kafka sink: eventfd");
    }
    auto conf = build_conf();
    if (!conf) return std::unexpected(conf.error());
    char errstr[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, errstr, sizeof errstr);
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(*conf);
      // Conflicting overrides land here (e.g. acks=1 with idempotence).
      return fail(Errc::kInvalid, std::string("LOGSHIP_KAFKA_OPT_*: librdkafka rejected the configuration: ") + errstr);
    }
    // Delivery reports, errors and statistics arrive on the main queue; its
    // IO event wakes the producer thread's poll() on the same eventfd that
    // send() writes, so the thread sleeps until there is work of any kind.
    main_q_ = rd_kafka_queue_get_main(rk_);
    static const uint64_t kOne = 1;
    rd_kafka_queue_io_event_enable(main_q_, wake_fd_, &kOne, sizeof kOne);
    return {};
  }

  [[nodiscard]] Result<rd_kafka_conf_t*> build_conf() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char errstr[512];
    const auto set = [&](const std::string& name, const std::string& value,
                         const Property* from) -> Result<void> {
      rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr);
      if (res == RD_KAFKA_CONF_UNKNOWN && from != nullptr && name.find('.') != std::string::npos) {
        // A few librdkafka names keep underscores (log_level, enabled_events).
        std::string underscored = name;
        std::replace(underscored.begin(), underscored.end(), '.', '_');
        res = rd_kafka_conf_set(conf, underscored.c_str(), value.c_str(), errstr, sizeof errstr);
      }
      if (res == RD_KAFKA_CONF_OK) return {};
      if (from == nullptr) return fail(Errc::kInvalid, "kafka sink: " + name + ": " + errstr);
      if (res == RD_KAFKA_CONF_UNKNOWN) {
        return fail(Errc::kInvalid, from->origin + ": librdkafka has no configuration property \"" + name + "\"");
      }
      // librdkafka quotes the value in its message: hide it for secrets.
      if (from->secret) {
        return fail(Errc::kInvalid, from->origin + ": invalid value for librdkafka property \"" + name +
                                        "\" (value hidden: it is a secret)");
      }
      return fail(Errc::kInvalid, from->origin + ": " + errstr);
    };
    // Message overhead in librdkafka (its message struct, key and header
    // copies) is not in the pipeline's accounting, so the number of messages
    // handed to it is capped too; the rest waits in the sink, where it costs
    // nothing but an index.
    // One message per 8 KiB of the limit keeps that overhead (~350 bytes a
    // message) near 5% of it, and 8192 messages at the default limit are
    // plenty to keep librdkafka's batches full (measured: no throughput
    // difference from 64k).
    const size_t max_messages = std::clamp<size_t>(opt_.memory_limit / 8192, 1000, 1000000);
    // A record may be its payload escaped (up to 6x for control bytes) plus
    // logship's members; message.max.bytes must let every record through,
    // or one record would block its batch for ever.
    const size_t max_message = std::clamp<size_t>(6 * opt_.max_record_bytes + (64 << 10), 1000000, 1000000000);
    const std::pair<std::string, std::string> defaults[] = {
        {"bootstrap.servers", opt_.brokers},
        {"client.id", "logship"},
        // Safety: every message is on all in-sync replicas before its batch
        // counts as delivered, retries cannot duplicate or reorder within a
        // partition, and librdkafka never gives up on a message by itself
        // (message.timeout.ms=0 is infinite). Idempotence needs acks=all,
        // max.in.flight <= 5 and retries > 0, which librdkafka derives.
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.timeout.ms", "0"},
        {"compression.codec", opt_.compression},
        // Backpressure: librdkafka's queue is bounded by LOGSHIP_MEMORY_LIMIT.
        {"queue.buffering.max.kbytes", std::to_string(std::max<size_t>(1, opt_.memory_limit / 1024))},
        {"queue.buffering.max.messages", std::to_string(max_messages)},
        {"message.max.bytes", std::to_string(max_message)},
        // The Java client's partitioner, so keyed records land where a Java
        // producer would put them.
        {"partitioner", "murmur2_random"},
        {"statistics.interval.ms", std::to_string(opt_.statistics_interval_ms)},
        // What producing does anyway, stated so that the startup check's
        // metadata request behaves the same (librdkafka's metadata API
        // otherwise asks the brokers not to create the topic).
        {"allow.auto.create.topics", "true"},
        // Brokers close idle connections; that is not worth a warning.
        {"log.connection.close", "false"},
    };
    for (const auto& [name, value] : defaults) {
      if (auto r = set(name, value, nullptr); !r) {
        rd_kafka_conf_destroy(conf);
        return std::unexpected(r.error());
      }
    }
    if (opt_.compression == "zstd") {
      // librdkafka compresses on its one thread per broker, which is the
      // bottleneck of the whole agent. zstd level 1 is ~20% faster than the
      // default level 3 and, on log batches of ~1 MB, compresses within a
      // few percent of it (bench/bench_kafka.py).
      if (auto r = set("compression.level", "1", nullptr); !r) {
        rd_kafka_conf_destroy(conf);
        return std::unexpected(r.error());
      }
    }
    for (const Property& p : opt_.properties) {
      if (auto r = set(p.name, p.value, &p); !r) {
        rd_kafka_conf_destroy(conf);
        return std::unexpected(r.error());
      }
    }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &Impl::on_delivery);
    rd_kafka_conf_set_error_cb(conf, &Impl::on_error);
    rd_kafka_conf_set_stats_cb(conf, &Impl::on_stats);
    rd_kafka_conf_set_log_cb(conf, &Impl::on_log);
    return conf;
  }

  /// Warns about user settings that weaken delivery guarantees; they are
  /// allowed (an operator may knowingly trade safety for something else).
  void warn_about_overrides() const {
    for (const Property& p : opt_.properties) {
      const bool weaker = ((p.name == "acks" || p.name == "request.required.acks") && p.value != "all" &&
                           p.value != "-1") ||
                          (p.name == "enable.idempotence" && p.value != "true") ||
                          ((p.name == "message.timeout.ms" || p.name == "delivery.timeout.ms") && p.value != "0");
      if (weaker) {
        log::warn(kLog, "setting overrides a delivery-safety default",
                  {{"key", p.origin}, {"property", p.name},
                   {"note", "messages that time out are produced again (never dropped), but acks other "
                            "than all or disabled idempotence can lose or reorder records on broker failure"}});
      }
    }
  }

  /// The startup check: asks the cluster about each fixed topic.
  [[nodiscard]] Result<void> probe() {
    std::vector<std::pair<std::string, std::string_view>> topics;  // topic, setting
    if (router_.fixed()) topics.emplace_back(*router_.fixed(), "LOGSHIP_KAFKA_TOPIC");
    else if (router_.fallback()) topics.emplace_back(*router_.fallback(), "LOGSHIP_KAFKA_TOPIC_FALLBACK");
    const auto deadline = Clock::now() + opt_.startup_timeout;
    for (const auto& [topic, key] : topics) {
      rd_kafka_topic_t* rkt = topic_handle(topic);
      rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
      rd_kafka_resp_err_t terr = RD_KAFKA_RESP_ERR_NO_ERROR;
      bool answered = false;
      // A broker that auto-creates topics first answers "unknown topic"
      // while the controller creates it (KRaft does), so "unknown" only
      // counts once it persists until the deadline.
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        const rd_kafka_metadata_t* md = nullptr;
        err = rd_kafka_metadata(rk_, 0, rkt, &md, static_cast<int>(std::max<int64_t>(left, 1)));
        rd_kafka_poll(rk_, 0);  // run the error callbacks of the attempt
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) break;
        answered = true;
        terr = md->topic_cnt > 0 ? md->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_metadata_destroy(md);
        mark_reachable();
        // Ask again while there is time for an answer.
        if (terr != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || deadline - Clock::now() < std::chrono::milliseconds(500)) {
          break;
        }
        rd_kafka_poll(rk_, 200);
      }
      if (answered) err = RD_KAFKA_RESP_ERR_NO_ERROR;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
          return fail(Errc::kInvalid,
                      std::string(key) + ": topic \"" + topic + "\" does not exist on the cluster (" + opt_.brokers +
                          ") and was not created automatically within " +
                          std::to_string(opt_.startup_timeout.count()) +
                          " ms; with auto.create.topics.enable=false on the brokers, create it first");
        }
        if (terr == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
          return fail(Errc::kInvalid, std::string(key) + ": not authorized to access topic \"" + topic +
                                          "\" (check the ACLs of the configured principal)");
        }
        if (terr == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) {
          return fail(Errc::kInvalid, std::string(key) + ": the brokers reject topic name \"" + topic + "\"");
        }
        continue;
      }
      std::lock_guard lock(state_mu_);
      if (!auth_error_.empty()) return fail(Errc::kInvalid, "Kafka authentication failed: " + auth_error_);
      if (!tls_error_.empty()) return fail(Errc::kInvalid, "Kafka TLS failed: " + tls_error_);
      if (!resolve_error_.empty()) {
        return fail(Errc::kInvalid, "LOGSHIP_KAFKA_BROKERS: cannot resolve the brokers (" + resolve_error_ + ")");
      }
      log::warn(kLog, "no Kafka broker answered at start; starting anyway, not ready until one does",
                {{"brokers", opt_.brokers}, {"error", rd_kafka_err2str(err)},
                 {"waited_ms", static_cast<int64_t>(opt_.startup_timeout.count())}});
      brokers_down_ = true;
      if (brokers_down_detail_.empty()) brokers_down_detail_ = rd_kafka_err2str(err);
      break;
    }
    // Only the start is strict: later, names that stop resolving are an outage.
    std::lock_guard lock(state_mu_);
    resolve_error_.clear();
    tls_error_.clear();
    return {};
  }

  void close_producer() {
    if (rk_ == nullptr) return;
    for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
    topics_.clear();
    fixed_rkt_ = nullptr;
    if (main_q_ != nullptr) {
      rd_kafka_queue_io_event_enable(main_q_, -1, nullptr, 0);
      rd_kafka_queue_destroy(main_q_);
      main_q_ = nullptr;
    }
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }

  // ---- Sink API -----------------------------------------------------------

  Result<void> start(DeliveryListener& listener) {
    listener_ = &listener;
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "logship-kafka");  // in top, perf, gdb
      run();
    });
    return {};
  }

  void send(BatchPtr batch) {
    {
      std::lock_guard lock(mu_);
      inbox_.push_back(std::move(batch));
    }
    wake();
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_ && !thread_.joinable()) return;
      stopping_ = true;
    }
    wake();
    if (thread_.joinable()) thread_.join();
    close_producer();
  }

  bool redelivers_internally() const { return opt_.redeliver_in_sink; }

  std::optional<std::string> unavailable_reason() const {
    std::lock_guard lock(state_mu_);
    if (brokers_down_) return "no Kafka broker reachable (" + brokers_down_detail_ + ")";
    if (!auth_error_.empty()) return "Kafka authentication failed: " + auth_error_;
    if (restarting_) return "Kafka producer restarting after a fatal error: " + fatal_reason_;
    if (!failing_.empty()) return "Kafka delivery failing: " + failing_;
    return std::nullopt;
  }

  void collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
    const auto counter = [&](std::string_view name, std::string_view help, uint64_t v) {
      emit(MetricSample{.name = name, .help = help, .counter = true, .label_name = {}, .label_value = {},
                        .value = static_cast<double>(v)});
    };
    const auto gauge = [&](std::string_view name, std::string_view help, double v) {
      emit(MetricSample{.name = name, .help = help, .counter = false, .label_name = {}, .label_value = {},
                        .value = v});
    };
    counter("logship_kafka_messages_produced_total", "Kafka messages acknowledged by the brokers.",
            produced_msgs_.load(std::memory_order_relaxed));
    counter("logship_kafka_bytes_produced_total", "Bytes of Kafka message values acknowledged by the brokers.",
            produced_bytes_.load(std::memory_order_relaxed));
    gauge("logship_kafka_queue_messages", "Messages in librdkafka's queue (produced, not yet acknowledged).",
          static_cast<double>(queue_msgs_.load(std::memory_order_relaxed)));
    gauge("logship_kafka_queue_bytes", "Value bytes of the messages in librdkafka's queue.",
          static_cast<double>(queue_bytes_.load(std::memory_order_relaxed)));
    gauge("logship_kafka_pending_messages",
          "Records held by the sink, waiting for queue space or for their next attempt.",
          static_cast<double>(pending_msgs_.load(std::memory_order_relaxed)));
    counter("logship_kafka_producer_restarts_total", "Producers replaced after a fatal librdkafka error.",
            restarts_.load(std::memory_order_relaxed));
    std::vector<std::pair<std::string, uint64_t>> delivery, client;
    std::vector<BrokerStats> brokers;
    int up = 0;
    {
      std::lock_guard lock(state_mu_);
      delivery.assign(delivery_errors_.begin(), delivery_errors_.end());
      client.assign(client_errors_.begin(), client_errors_.end());
      brokers = stats_.brokers;
      up = stats_.brokers_up;
    }
    for (const auto& [reason, n] : delivery) {
      emit(MetricSample{.name = "logship_kafka_delivery_errors_total",
                        .help = "Failed message deliveries by librdkafka error (the messages are produced again).",
                        .counter = true, .label_name = "reason", .label_value = reason,
                        .value = static_cast<double>(n)});
    }
    for (const auto& [reason, n] : client) {
      emit(MetricSample{.name = "logship_kafka_client_errors_total",
                        .help = "Errors reported by librdkafka (connections, authentication, brokers down).",
                        .counter = true, .label_name = "reason", .label_value = reason,
                        .value = static_cast<double>(n)});
    }
    gauge("logship_kafka_brokers_up", "Brokers with an open connection (librdkafka statistics).", up);
    for (const BrokerStats& b : brokers) {
      emit(MetricSample{.name = "logship_kafka_broker_rtt_seconds",
                        .help = "Average request round-trip time per broker over the last statistics interval.",
                        .counter = false, .label_name = "broker", .label_value = b.name,
                        .value = static_cast<double>(b.rtt_avg_us) / 1e6});
    }
  }

  void raise_fatal_error_for_test() {
    {
      std::lock_guard lock(mu_);
      fatal_test_requested_ = true;
    }
    wake();
  }

 private:
  // ---- producer thread --------------------------------------------------------

  void run() {
    std::deque<BatchPtr> incoming;
    for (;;) {
      bool stopping = false;
      bool inject = false;
      {
        std::lock_guard lock(mu_);
        incoming.swap(inbox_);
        stopping = stopping_;
        inject = std::exchange(fatal_test_requested_, false);
      }
      for (BatchPtr& b : incoming) admit(std::move(b));
      incoming.clear();
      if (inject && rk_ != nullptr) {
        rd_kafka_test_fatal_error(rk_, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "raised by a test");
      }
      if (stopping) {
        shut_down();
        return;
      }
      promote_due(Clock::now());
      if (fatal_) recover();
      const bool blocked = fatal_ || rk_ == nullptr || produce_some();
      // Delivery reports, errors, statistics. Reports free queue space, so
      // a blocked producer goes round again at once rather than sleeping:
      // the wake-up that announced them was consumed before they were served.
      const int served = rk_ != nullptr ? rd_kafka_poll(rk_, 0) : 0;
      publish_failing();
      const bool more = !produce_q_.empty() && !fatal_ && (!blocked || served > 0);
      wait_for_work(more ? 0 : next_wait_ms());
    }
  }

  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  void wait_for_work(int timeout_ms) {
    pollfd p{wake_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) > 0) {
      uint64_t count;
      [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
    }
  }

  int next_wait_ms() const {
    int ms = kMaxWaitMs;
    if (fatal_) ms = 50;  // waiting for purged messages to come back
    if (!waiting_.empty()) {
      const auto until = std::chrono::ceil<std::chrono::milliseconds>(waiting_.begin()->first - Clock::now());
      ms = std::min<int>(ms, static_cast<int>(std::max<int64_t>(until.count(), 0)));
    }
    return ms;
  }

  void admit(BatchPtr batch) {
    const size_t n = batch->record_count();
    tracked_.push_back(Tracked{});
    Tracked& t = tracked_.back();
    t.self = std::prev(tracked_.end());
    t.batch = std::move(batch);
    pending_msgs_.fetch_add(n, std::memory_order_relaxed);
    if (n == 0) {
      finish(t);  // positions only (a closed file): nothing to produce
      return;
    }
    produce_q_.push_back(&t);
  }

  /// Produces queued records in batch order until librdkafka's queue is
  /// full. Returns true if it stopped at a full queue (or a fatal error).
  bool produce_some() {
    while (!produce_q_.empty()) {
      Tracked* t = produce_q_.front();
      while (t->has_more()) {
        const bool first_pass = t->next < t->batch->record_count();
        // A record produced again is a view into the batch: find its index
        // (and so its structure) from where it starts.
        const size_t index =
            first_pass ? t->next
                       : t->batch->record_at(static_cast<size_t>(t->redo[t->redo_next].data() - t->batch->data().data()));
        const Produced r = produce_one(*t, index);
        if (r == Produced::kQueueFull) return true;
        if (first_pass) ++t->next;
        else ++t->redo_next;
        // In librdkafka's queue now, or (failed at once) counted again by
        // failed_message(): either way it left the to-produce list.
        pending_msgs_.fetch_sub(1, std::memory_order_relaxed);
        if (fatal_) return true;
      }
      produce_q_.pop_front();
      finish(*t);
    }
    return false;
  }

  Produced produce_one(Tracked& t, size_t index) {
    const std::string_view record = t.batch->record(index);
    const RecordHead head = record_head(*t.batch, index);
    const std::string_view topic = router_.route(head);
    if (topic.empty()) {
      failed_message(t, record, "no topic for this record (its metadata does not fill LOGSHIP_KAFKA_TOPIC)",
                     "_NO_TOPIC");
      return Produced::kFailed;
    }
    rd_kafka_vu_t vu[8];
    size_t n = 0;
    vu[n].vtype = RD_KAFKA_VTYPE_RKT;
    vu[n++].u.rkt = topic_handle(topic);
    vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[n].u.mem.ptr = const_cast<char*>(record.data());
    vu[n++].u.mem.size = record.size();
    // No RD_KAFKA_MSG_F_COPY: the sink owns the batch until every message
    // of it is reported, so librdkafka reads the value in place.
    vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[n++].u.i = 0;
    if (auto key = message_key(opt_.key, head, key_scratch_)) {
      vu[n].vtype = RD_KAFKA_VTYPE_KEY;
      vu[n].u.mem.ptr = const_cast<char*>(key->data());
      vu[n++].u.mem.size = key->size();
    }
    // Headers go in as a list the sink builds: librdkafka 2.0.2's produceva
    // frees headers it built itself twice when the partitioner refuses a
    // message (librdkafka issue #4627); with an application list, ownership
    // is plain: librdkafka's on success, ours on failure.
    rd_kafka_headers_t* headers = nullptr;
    if (head.release.present || head.trace_id.present) {
      headers = rd_kafka_headers_new(2);
      if (head.release.present) {
        const std::string_view v = head.release.decode(release_scratch_);
        rd_kafka_header_add(headers, "release", 7, v.data(), static_cast<ssize_t>(v.size()));
      }
      if (head.trace_id.present) {
        const std::string_view v = head.trace_id.decode(trace_scratch_);
        rd_kafka_header_add(headers, "trace_id", 8, v.data(), static_cast<ssize_t>(v.size()));
      }
      vu[n].vtype = RD_KAFKA_VTYPE_HEADERS;
      vu[n++].u.headers = headers;
    }
    vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu[n++].u.ptr = &t;
    rd_kafka_error_t* error = rd_kafka_produceva(rk_, vu, n);
    if (error == nullptr) {
      ++t.in_queue;
      queue_msgs_.fetch_add(1, std::memory_order_relaxed);
      queue_bytes_.fetch_add(record.size(), std::memory_order_relaxed);
      return Produced::kOk;
    }
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    const std::string text = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) return Produced::kQueueFull;
    failed_message(t, record, text, rd_kafka_err2name(code));
    if (code == RD_KAFKA_RESP_ERR__FATAL) note_fatal();
    return Produced::kFailed;
  }

  rd_kafka_topic_t* topic_handle(std::string_view topic) {
    if (fixed_rkt_ != nullptr && router_.fixed()) return fixed_rkt_;
    if (auto it = topics_.find(topic); it != topics_.end()) return it->second;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, std::string(topic).c_str(), nullptr);
    topics_.emplace(std::string(topic), rkt);
    if (router_.fixed() && topic == *router_.fixed()) fixed_rkt_ = rkt;
    return rkt;
  }

  void failed_message(Tracked& t, std::string_view record, const std::string& error, std::string_view reason) {
    t.failed.push_back(record);
    pending_msgs_.fetch_add(1, std::memory_order_relaxed);
    if (t.error.empty()) t.error = error;
    std::lock_guard lock(state_mu_);
    ++delivery_errors_[std::string(reason)];
    last_error_ = error;
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    static_cast<Impl*>(opaque)->delivered(*m);
  }

  void delivered(const rd_kafka_message_t& m) {
    Tracked& t = *static_cast<Tracked*>(m._private);
    --t.in_queue;
    queue_msgs_.fetch_sub(1, std::memory_order_relaxed);
    queue_bytes_.fetch_sub(m.len, std::memory_order_relaxed);
    if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      produced_msgs_.fetch_add(1, std::memory_order_relaxed);
      produced_bytes_.fetch_add(m.len, std::memory_order_relaxed);
      if (!reachable_) mark_reachable();
    } else {
      // The payload pointer is the record in the batch (zero copy).
      const std::string_view record(static_cast<const char*>(m.payload), m.len);
      std::string text = rd_kafka_err2str(m.err);
      if (m.rkt != nullptr) text = "topic " + std::string(rd_kafka_topic_name(m.rkt)) + ": " + text;
      failed_message(t, record, text, rd_kafka_err2name(m.err));
      if (m.err == RD_KAFKA_RESP_ERR__FATAL) note_fatal();
    }
    finish(t);
  }

  /// Reports `t` once nothing of it is left to produce or to hear about:
  /// kOk when every message was delivered; otherwise the failed messages
  /// are produced again after a backoff (follow mode) or the batch goes
  /// back to the pipeline as kRetry (oneshot).
  void finish(Tracked& t) {
    if (t.has_more() || t.in_queue > 0) return;
    if (t.failed.empty()) {
      report(t, DeliveryStatus::kOk, {});
      return;
    }
    if (!opt_.redeliver_in_sink) {
      const std::string error = "kafka: " + std::to_string(t.failed.size()) + " of " +
                                std::to_string(t.batch->record_count()) + " messages not delivered: " + t.error;
      report(t, DeliveryStatus::kRetry, error);
      return;
    }
    const auto delay = backoff(t.attempt);
    const auto now = Clock::now();
    if (failure_log_.allow(now)) {
      log::warn(kLog, "delivery failed; producing the failed messages again",
                {{"error", t.error},
                 {"messages", static_cast<uint64_t>(t.failed.size())},
                 {"attempt", t.attempt},
                 {"retry_in_ms", static_cast<int64_t>(delay.count())},
                 {"suppressed", failure_log_.take_suppressed()}});
    }
    t.redo = std::move(t.failed);
    t.failed.clear();
    t.redo_next = 0;
    ++t.attempt;
    t.error.clear();
    waiting_.emplace(now + delay, &t);
  }

  void report(Tracked& t, DeliveryStatus status, std::string_view error) {
    pending_msgs_.fetch_sub(t.remaining(), std::memory_order_relaxed);
    BatchPtr batch = std::move(t.batch);
    tracked_.erase(t.self);
    listener_->on_delivered(std::move(batch), status, error);
  }

  std::chrono::milliseconds backoff(uint32_t attempt) { return backoff_.delay(attempt); }

  void promote_due(Clock::time_point now) {
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      produce_q_.push_back(waiting_.begin()->second);
      waiting_.erase(waiting_.begin());
    }
  }

  /// Readiness from the thread's view: failed messages waiting for another
  /// attempt mean the destination is not taking records.
  void publish_failing() {
    size_t retrying = 0;
    for (const Tracked& t : tracked_) retrying += t.attempt > 1 ? 1 : 0;
    std::lock_guard lock(state_mu_);
    if (retrying == 0) {
      failing_.clear();
    } else {
      failing_ = std::to_string(retrying) + " batch(es) waiting to be produced again; last error: " + last_error_;
    }
  }

  // ---- fatal errors -----------------------------------------------------------

  void note_fatal() {
    if (fatal_) return;
    fatal_ = true;
    char reason[512] = "";
    const rd_kafka_resp_err_t orig = rk_ != nullptr ? rd_kafka_fatal_error(rk_, reason, sizeof reason)
                                                    : RD_KAFKA_RESP_ERR__FATAL;
    log::error(kLog, "fatal producer error; replacing the producer (unacknowledged messages are produced again)",
               {{"error", std::string(rd_kafka_err2name(orig)) + ": " + reason}});
    std::lock_guard lock(state_mu_);
    restarting_ = true;
    fatal_reason_ = std::string(rd_kafka_err2name(orig)) + ": " + reason;
  }

  /// After a fatal error the producer instance is unusable: everything it
  /// holds is purged (those messages come back as failed and are produced
  /// again), and once all have come back it is replaced by a new one.
  void recover() {
    if (!purged_) {
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      purged_ = true;
      return;
    }
    if (queue_msgs_.load(std::memory_order_relaxed) > 0) return;  // reports still coming
    close_producer();
    if (auto r = open(); !r) {
      // Same settings as at start, so this should not happen; try again soon.
      log::error(kLog, "cannot create a new producer", {{"error", r.error().message}});
      return;
    }
    fatal_ = false;
    purged_ = false;
    reachable_ = false;
    restarts_.fetch_add(1, std::memory_order_relaxed);
    log::info(kLog, "new producer created after the fatal error");
    std::lock_guard lock(state_mu_);
    restarting_ = false;
    // The old instance reports its brokers down as it is destroyed; the new
    // one reports for itself.
    brokers_down_ = false;
    brokers_down_detail_.clear();
  }

  /// stop(): whatever is still held goes back as kRetry, after librdkafka
  /// has returned every message it holds (purged), so no batch is reported
  /// while librdkafka may still read its memory.
  void shut_down() {
    if (rk_ != nullptr && queue_msgs_.load(std::memory_order_relaxed) > 0) {
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      const auto deadline = Clock::now() + kPurgeWait;
      while (queue_msgs_.load(std::memory_order_relaxed) > 0 && Clock::now() < deadline) {
        rd_kafka_poll(rk_, 100);
      }
    }
    produce_q_.clear();
    waiting_.clear();
    while (!tracked_.empty()) {
      Tracked& t = tracked_.front();
      if (t.in_queue > 0) {
        // librdkafka did not give these messages back in time; the batch
        // memory is leaked rather than freed under its feet.
        log::error(kLog, "messages not returned by librdkafka at stop", {{"messages", static_cast<uint64_t>(t.in_queue)}});
        (void)t.batch.release();
        tracked_.pop_front();
        continue;
      }
      report(t, DeliveryStatus::kRetry, "kafka sink stopped before delivery");
    }
  }

  // ---- librdkafka callbacks -----------------------------------------------------

  void mark_reachable() {
    reachable_ = true;
    std::lock_guard lock(state_mu_);
    if (brokers_down_) log::info(kLog, "Kafka brokers reachable again");
    brokers_down_ = false;
    brokers_down_detail_.clear();
    auth_error_.clear();
  }

  static void on_error(rd_kafka_t*, int code, const char* reason, void* opaque) {
    static_cast<Impl*>(opaque)->client_error(static_cast<rd_kafka_resp_err_t>(code), reason);
  }

  void client_error(rd_kafka_resp_err_t code, const char* reason) {
    const auto now = Clock::now();
    {
      std::lock_guard lock(state_mu_);
      ++client_errors_[rd_kafka_err2name(code)];
      switch (code) {
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
          if (!brokers_down_) log::warn(kLog, "no Kafka broker reachable", {{"error", reason}});
          brokers_down_ = true;
          brokers_down_detail_ = reason;
          reachable_ = false;
          return;
        case RD_KAFKA_RESP_ERR__AUTHENTICATION:
          auth_error_ = reason;
          if (auth_log_.allow(now)) log::error(kLog, "Kafka authentication failed", {{"error", reason}});
          return;
        case RD_KAFKA_RESP_ERR__SSL:
          tls_error_ = reason;
          break;
        case RD_KAFKA_RESP_ERR__RESOLVE:
          resolve_error_ = reason;
          break;
        case RD_KAFKA_RESP_ERR__TRANSPORT:
          // librdkafka logs connection failures itself (as warnings).
          log::debug(kLog, "broker connection error", {{"error", reason}});
          return;
        default:
          break;
      }
    }
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      note_fatal();
      return;
    }
    if (error_log_.allow(now)) {
      log::warn(kLog, "Kafka client error", {{"error", std::string(rd_kafka_err2name(code)) + ": " + reason},
                                            {"suppressed", error_log_.take_suppressed()}});
    }
  }

  static int on_stats(rd_kafka_t*, char* json, size_t len, void* opaque) {
    static_cast<Impl*>(opaque)->statistics(std::string_view(json, len));
    return 0;  // librdkafka frees the JSON
  }

  void statistics(std::string_view json) {
    auto parsed = parse_stats(json);
    if (!parsed) {
      log::debug(kLog, "cannot parse librdkafka statistics", {{"error", parsed.error().message}});
      return;
    }
    const bool up = parsed->brokers_up > 0;
    {
      std::lock_guard lock(state_mu_);
      stats_ = std::move(*parsed);
    }
    if (up) mark_reachable();
  }

  static void on_log(const rd_kafka_t*, int level, const char* facility, const char* message) {
    const log::Level l = to_level(level);
    if (!log::enabled(l)) return;
    log::write(l, kLog, message, {{"facility", facility}});
  }

  KafkaSinkOptions opt_;
  TopicRouter router_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* main_q_ = nullptr;
  std::unordered_map<std::string, rd_kafka_topic_t*, StringHash, std::equal_to<>> topics_;
  rd_kafka_topic_t* fixed_rkt_ = nullptr;
  int wake_fd_ = -1;
  DeliveryListener* listener_ = nullptr;

  // send() -> producer thread.
  std::mutex mu_;
  std::deque<BatchPtr> inbox_;
  bool stopping_ = false;
  bool fatal_test_requested_ = false;
  std::thread thread_;

  // Producer thread only.
  std::list<Tracked> tracked_;
  std::deque<Tracked*> produce_q_;  // batches with records to produce, in order
  std::multimap<Clock::time_point, Tracked*> waiting_;  // failed records' next attempt
  bool fatal_ = false;
  bool purged_ = false;
  bool reachable_ = false;
  std::string key_scratch_, release_scratch_, trace_scratch_;
  Backoff backoff_;  ///< redelivery delays (follow mode)
  LogLimiter failure_log_{kLogInterval};

  // Readiness and metrics, read from other threads.
  mutable std::mutex state_mu_;
  bool brokers_down_ = false;
  std::string brokers_down_detail_;
  std::string auth_error_;
  std::string tls_error_;
  std::string resolve_error_;
  bool restarting_ = false;
  std::string fatal_reason_;
  std::string failing_;
  std::string last_error_;
  std::map<std::string, uint64_t> delivery_errors_;
  std::map<std::string, uint64_t> client_errors_;
  ClientStats stats_;
  LogLimiter auth_log_{kLogInterval};
  LogLimiter error_log_{kLogInterval};
  std::atomic<uint64_t> produced_msgs_{0};
  std::atomic<uint64_t> produced_bytes_{0};
  std::atomic<uint64_t> queue_msgs_{0};
  std::atomic<uint64_t> queue_bytes_{0};
  std::atomic<uint64_t> pending_msgs_{0};
  std::atomic<uint64_t> restarts_{0};
};

// ---- KafkaSink ------------------------------------------------------------------

Result<std::unique_ptr<KafkaSink>> KafkaSink::create(KafkaSinkOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto r = impl->open(); !r) return std::unexpected(r.error());
  impl->warn_about_overrides();
  if (auto r = impl->probe(); !r) return std::unexpected(r.error());
  return std::unique_ptr<KafkaSink>(new KafkaSink(std::move(impl)));
}

KafkaSink::KafkaSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaSink::~KafkaSink() = default;

Result<void> KafkaSink::start(DeliveryListener& listener) { return impl_->start(listener); }
void KafkaSink::send(BatchPtr batch) { impl_->send(std::move(batch)); }
void KafkaSink::stop() { impl_->stop(); }
std::optional<std::string> KafkaSink::unavailable_reason() const { return impl_->unavailable_reason(); }

bool KafkaSink::redelivers_internally() const { return impl_->redelivers_internally(); }
void KafkaSink::collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
  impl_->collect_metrics(emit);
}
void KafkaSink::raise_fatal_error_for_test() { impl_->raise_fatal_error_for_test(); }

}  // namespace logship::sinks::kafka
