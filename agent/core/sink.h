#pragma once
// The Sink interface: where batches go. Pure abstract, no third-party types,
// so the core never depends on a sink's library (librdkafka, Beast, ...).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/batch.h"
#include "agent/core/result.h"

namespace logship {

/// What became of one batch.
enum class DeliveryStatus {
  kOk,     ///< durably accepted: its positions may be committed
  kRetry,  ///< not delivered, may succeed later: the pipeline sends it again
  kFatal,  ///< not delivered and retrying cannot help: the run fails
};

/// What a sink says about one batch.
struct DeliveryReport {
  DeliveryStatus status = DeliveryStatus::kOk;
  std::string_view error;  ///< empty for kOk
  /// kRetry only: the destination asked to wait this long before sending
  /// again (HTTP Retry-After). The retry owner (the pipeline) uses it instead
  /// of its own backoff delay, within the backoff's hint cap.
  std::optional<std::chrono::milliseconds> retry_after;
};

/// Receives delivery reports. Implemented by the pipeline.
/// Threading: on_delivered may be called from any thread (a sink's I/O thread,
/// a client library's callback thread), but never concurrently for one sink.
class DeliveryListener {
 public:
  virtual ~DeliveryListener() = default;
  /// Ownership of `batch` returns to the listener. `error` is empty for kOk.
  virtual void on_delivered(BatchPtr batch, DeliveryStatus status, std::string_view error) = 0;
  /// The full report. Sinks with more to say (a retry hint) call this one;
  /// by default it forwards to the three-argument form (dropping the hint),
  /// so listeners that do not use hints need not implement it.
  virtual void on_report(BatchPtr batch, const DeliveryReport& report) {
    on_delivered(std::move(batch), report.status, report.error);
  }
};

/// A destination for batches.
/// Lifecycle: start() once, then send() any number of times, then stop().
/// Threading: start/send/stop are called from the pipeline's threads, send()
/// possibly concurrently with delivery reports but never concurrently with
/// itself (the pipeline serialises its calls; tests/fakes/fake_sink.h aborts
/// on an overlap). Every sent batch is reported exactly once, in any order.
/// send() must not block on the network or on a full queue for long: the
/// pipeline bounds in-flight bytes, so a sink may queue what it is given.
///
/// Retries: the pipeline owns them. A sink makes one delivery attempt per
/// send() and reports kRetry (with a hint when the destination gave one);
/// it does not back off and resend on its own, unless it declares
/// redelivers_internally().
///
/// Order: a sink with one request in flight (HTTP at concurrency 1, the
/// file sink) delivers in send() order. So that a file's records stay in
/// order across failures, the retry owner resends a kRetry batch before it
/// sends any later batch to that sink (tests/blackbox/test_http_sink.py
/// test_formats_under_faults_exactly_once_in_order checks it end to end).
class Sink {
 public:
  virtual ~Sink() = default;

  /// Short name for logs and metrics ("file", "stdout", "kafka").
  virtual std::string_view name() const = 0;

  /// Opens connections/files. A failure here is a startup error.
  [[nodiscard]] virtual Result<void> start(DeliveryListener& listener) = 0;

  /// Takes ownership of `batch` until it is reported to the listener.
  virtual void send(BatchPtr batch) = 0;

  /// Reports every batch already sent, then releases resources. Idempotent.
  virtual void stop() = 0;

  /// True when the sink itself redelivers what failed transiently (librdkafka
  /// re-producing messages until acknowledged; the file sink holding every
  /// later batch and rewriting from where a write failed, so output order is
  /// kept): then kRetry from it means it gave up or was stopped, and the
  /// pipeline's resend is the last resort rather than the retry loop.
  /// Constant for the sink's lifetime.
  [[nodiscard]] virtual bool redelivers_internally() const { return false; }

  /// Bytes of LOGSHIP_MEMORY_LIMIT the sink needs for buffers outside the
  /// batches it holds (a client library's own queues, e.g. librdkafka's
  /// message structs and requests in flight). The pipeline takes them out of
  /// its in-flight budget, so the limit bounds both. Constant after create.
  [[nodiscard]] virtual size_t reserved_memory() const { return 0; }

  /// Why the destination cannot take records right now (e.g. no broker
  /// reachable), or nullopt when it can. Drives /readyz. Any thread; cheap.
  [[nodiscard]] virtual std::optional<std::string> unavailable_reason() const { return std::nullopt; }

  /// One sample of a sink's own metrics, for /metrics.
  struct MetricSample {
    std::string_view name;  ///< Prometheus name, e.g. "logship_kafka_messages_produced_total"
    std::string_view help;
    bool counter = true;           ///< false: gauge
    std::string_view label_name;   ///< empty: unlabelled
    std::string_view label_value;
    double value = 0;
  };
  /// Emits the sink's metrics. Called at each scrape from the admin thread.
  virtual void collect_metrics(const std::function<void(const MetricSample&)>& emit) const { (void)emit; }
};

using SinkPtr = std::unique_ptr<Sink>;

}  // namespace logship
