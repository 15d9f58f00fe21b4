// What the Kafka sink tells the outside: its metrics, and the librdkafka
// callbacks that feed readiness and metrics (client errors, statistics) or
// logship's log (librdkafka's own log lines).
#include "agent/core/log.h"
#include "sinks/kafka/kafka_sink_impl.h"

namespace logship::sinks::kafka {
namespace {

log::Level to_level(int syslog_level) {
  if (syslog_level <= 4) return log::Level::kWarn;  // emerg..warning
  if (syslog_level <= 6) return log::Level::kInfo;  // notice, info
  return log::Level::kDebug;
}

}  // namespace

void KafkaSink::Impl::collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
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
  counter("logship_kafka_queue_full_total",
          "Produce calls refused because librdkafka's queue was full (the record waits in the sink and is "
          "produced again as space frees; nothing is dropped).",
          queue_full_.load(std::memory_order_relaxed));
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

void KafkaSink::Impl::mark_reachable() {
  reachable_ = true;
  std::lock_guard lock(state_mu_);
  if (brokers_down_) log::info(kLog, "Kafka brokers reachable again");
  brokers_down_ = false;
  brokers_down_detail_.clear();
  auth_error_.clear();
}

void KafkaSink::Impl::on_error(rd_kafka_t*, int code, const char* reason, void* opaque) {
  static_cast<Impl*>(opaque)->client_error(static_cast<rd_kafka_resp_err_t>(code), reason);
}

void KafkaSink::Impl::client_error(rd_kafka_resp_err_t code, const char* reason) {
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

int KafkaSink::Impl::on_stats(rd_kafka_t*, char* json, size_t len, void* opaque) {
  static_cast<Impl*>(opaque)->statistics(std::string_view(json, len));
  return 0;  // librdkafka frees the JSON
}

void KafkaSink::Impl::statistics(std::string_view json) {
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

void KafkaSink::Impl::on_log(const rd_kafka_t*, int level, const char* facility, const char* message) {
  const log::Level l = to_level(level);
  if (!log::enabled(l)) return;
  log::write(l, kLog, message, {{"facility", facility}});
}

}  // namespace logship::sinks::kafka
