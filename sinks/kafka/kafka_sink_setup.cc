// The Kafka producer's life: librdkafka configuration from the sink's
// settings (safety defaults, user overrides), the startup check of the
// cluster, and replacing the producer after a fatal error. Replacement lives
// here rather than with delivery because it is open() and close_producer()
// again; delivery only notices the fatal error (note_fatal()).
#include <sys/eventfd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "agent/core/log.h"
#include "sinks/kafka/kafka_sink_impl.h"

namespace logship::sinks::kafka {
namespace {

// linger.ms (README.md "Producer defaults"). At full speed librdkafka
// 2.0.2's broker thread busy-polls: perf stat counted ~1.3M poll(2) calls
// per 256 MiB run at 20 ms, 0.6M at 5 ms, ~1M at 150 ms, but 1,700-18,000
// at 500-1000 ms (sys time 0.5-1.3 s -> 0.2-0.4 s per run; bench/README.md:
// 13-25% less CPU per GB with the other changes). The likely cause, not
// confirmed in librdkafka's source: a linger that expires while 5 requests
// are in flight makes its wake-up time "now"; at 500 ms, batches fill by
// size first. At low rates a record waits up to this long in librdkafka
// (after the pipeline's batch timeout); there was no spin at 20 lines/s.
constexpr int kLingerMs = 500;

}  // namespace

Result<void> KafkaSink::Impl::open() {
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

Result<rd_kafka_conf_t*> KafkaSink::Impl::build_conf() {
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
  // librdkafka's own memory (message structs, requests in flight) is
  // capped to the share of LOGSHIP_MEMORY_LIMIT the sink reserved
  // (kafka_memory.h); records beyond the message cap wait in the sink,
  // where they cost nothing but an index.
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
      // Backpressure and memory: see kafka_memory.h and README.md.
      {"queue.buffering.max.kbytes", std::to_string(mem_.max_kbytes)},
      {"queue.buffering.max.messages", std::to_string(mem_.max_messages)},
      {"batch.size", std::to_string(mem_.batch_size)},
      // Requests reference the values in the batches instead of copying
      // them (librdkafka copies values under this size by default): the
      // sink keeps every batch until its delivery reports, so the memory
      // outlives the requests. Saves a copy per byte and the uncompressed
      // request buffer librdkafka keeps beside the compressed one
      // (measured: peak RSS ~12 MiB lower, CPU no higher).
      {"message.copy.max.bytes", "0"},
      // batch.size, not the count, should end a batch: half the message
      // cap lets one batch fill while the previous one is in flight.
      {"batch.num.messages", std::to_string(std::clamp<size_t>(mem_.max_messages / 2, 1000, 100000))},
      // CPU per GB over latency (see kLingerMs).
      {"linger.ms", std::to_string(kLingerMs)},
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
  bool user_linger = false;
  long user_timeout_ms = 0;
  for (const Property& p : opt_.properties) {
    if (auto r = set(p.name, p.value, &p); !r) {
      rd_kafka_conf_destroy(conf);
      return std::unexpected(r.error());
    }
    if (p.name == "linger.ms" || p.name == "queue.buffering.max.ms") user_linger = true;
    if (p.name == "message.timeout.ms" || p.name == "delivery.timeout.ms") {
      user_timeout_ms = std::strtol(p.value.c_str(), nullptr, 10);
    }
  }
  if (!user_linger && user_timeout_ms > 0 && user_timeout_ms <= kLingerMs) {
    // librdkafka requires linger.ms < message.timeout.ms. Our linger is a
    // throughput default, not the user's choice: a short timeout they set
    // wins and the linger shrinks under it rather than failing at start.
    const long linger = user_timeout_ms / 2;
    if (auto r = set("linger.ms", std::to_string(linger), nullptr); !r) {
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
void KafkaSink::Impl::warn_about_overrides() const {
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
Result<void> KafkaSink::Impl::probe() {
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

void KafkaSink::Impl::close_producer() {
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

// ---- fatal errors -----------------------------------------------------------

void KafkaSink::Impl::note_fatal() {
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
void KafkaSink::Impl::recover() {
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

}  // namespace logship::sinks::kafka
