// The HTTP sink's metrics: request counters by status class, bytes, splits,
// dead letters, concurrency, and the request latency histogram.
#include "sinks/http/http_sink_impl.h"

namespace logship::sinks::http {
namespace {

Sink::MetricSample sample(std::string_view name, std::string_view help, double value, bool counter = true,
                          std::string_view label_name = {}, std::string_view label_value = {}) {
  Sink::MetricSample s;
  s.name = name;
  s.help = help;
  s.counter = counter;
  s.label_name = label_name;
  s.label_value = label_value;
  s.value = value;
  return s;
}

}  // namespace

void HttpSink::Impl::collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
  const auto load = [](const auto& a) { return static_cast<double>(a.load(std::memory_order_relaxed)); };
  for (size_t i = 0; i < kClassCount; ++i) {
    emit(sample("logship_http_requests_total",
                "HTTP requests completed, by status class (error: no response: connect, TLS, timeout).",
                load(requests_[i]), true, "class", kClassLabels[i]));
  }
  emit(sample("logship_http_retries_total", "HTTP requests sent again after a failure.", load(retries_)));
  emit(sample("logship_http_request_bytes_total", "Request body bytes before compression.", load(bytes_raw_)));
  emit(sample("logship_http_request_compressed_bytes_total",
              "Request body bytes after compression (each body counted once, retries not counted).",
              load(bytes_sent_)));
  emit(sample("logship_http_splits_total", "Requests split in halves after a 413.", load(splits_)));
  emit(sample("logship_http_timestamps_replaced_total",
              "Records whose ts was malformed or outside 1677-2262, sent with the encoding time.",
              static_cast<double>(timestamps_replaced_total())));
  emit(sample("logship_http_dead_letter_records_total",
              "Records the endpoint rejected, written to the dead-letter file.", load(dead_lettered_)));
  emit(sample("logship_http_concurrency_limit", "Requests allowed in flight now.", load(limit_), false));
  emit(sample("logship_http_requests_in_flight", "Requests sent or waiting to be retried.", load(in_flight_),
              false));
  emit(sample("logship_http_body_bytes",
              "Compressed request bodies the HTTP sink holds (encoded ahead, or on a connection), beyond the "
              "batches charged to LOGSHIP_MEMORY_LIMIT.",
              load(body_bytes_), false));
  // A histogram through the one-label sample API: cumulative buckets.
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBucketLabels.size(); ++i) {
    cumulative += latency_buckets_[i].load(std::memory_order_relaxed);
    emit(sample("logship_http_request_duration_seconds_bucket",
                "HTTP request latency (send to response), cumulative buckets.", static_cast<double>(cumulative),
                true, "le", kBucketLabels[i]));
  }
  emit(sample("logship_http_request_duration_seconds_sum", "Total HTTP request latency in seconds.",
              load(latency_sum_ns_) / 1e9));
  emit(sample("logship_http_request_duration_seconds_count", "HTTP requests timed.",
              static_cast<double>(cumulative)));
}

void HttpSink::Impl::observe_latency(Clock::duration latency) {
  const double s = std::chrono::duration<double>(latency).count();
  size_t b = 0;
  while (b < kBuckets.size() && s > kBuckets[b]) ++b;
  latency_buckets_[b].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<uint64_t>(std::chrono::nanoseconds(latency).count()),
                            std::memory_order_relaxed);
}

}  // namespace logship::sinks::http
