#pragma once
// The HTTP sink (LOGSHIP_SINK=http): batches become POST requests to
// LOGSHIP_HTTP_URL in one of five formats (formats.h), compressed
// (Content-Encoding gzip, zstd or none), over keep-alive HTTP/1.1
// connections, plain or TLS.
//
// Delivery: a batch is reported kOk only when every one of its records was
// accepted by the endpoint or written to the dead-letter file. Inside the
// sink, connection errors, timeouts, 408, 429 and 5xx are retried with
// exponential backoff and full jitter (100 ms to 30 s, or the server's
// Retry-After) until delivered; 413 splits the request in halves; other 4xx
// and Elasticsearch per-item rejections go to the dead-letter file. Only
// with max_attempts set (oneshot) does a batch come back as kRetry.
// A request holds its concurrency slot while it waits to be retried, so
// with LOGSHIP_HTTP_CONCURRENCY=1 requests are delivered strictly in order,
// and a failing endpoint stops the sink from taking more work: batches queue
// until the pipeline's memory limit pauses reading.
//
// Ownership: send() takes the batch; the sink keeps it until it reports it.
//
// Threading: one I/O thread owned by the sink (Asio io_context) encodes,
// compresses, sends, retries, writes dead letters and calls the
// DeliveryListener. send() only queues and wakes it; it never blocks on the
// network. unavailable_reason() and collect_metrics() read atomics or take a
// short lock, from any thread.

#include <memory>

#include "agent/core/sink.h"
#include "sinks/http/http_config.h"

namespace logship::sinks::http {

class HttpSink final : public Sink {
 public:
  /// Sets up TLS (CA file or system CAs, client certificate): unreadable or
  /// invalid files fail here, naming the setting. Does not connect: an
  /// endpoint that is down at start is retried like one that goes down later.
  [[nodiscard]] static Result<std::unique_ptr<HttpSink>> create(HttpSinkOptions options);
  ~HttpSink() override;

  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  std::string_view name() const override { return "http"; }
  [[nodiscard]] Result<void> start(DeliveryListener& listener) override;
  void send(BatchPtr batch) override;
  /// Closes connections and reports every batch still held as kRetry.
  void stop() override;
  [[nodiscard]] std::optional<std::string> unavailable_reason() const override;
  void collect_metrics(const std::function<void(const MetricSample&)>& emit) const override;

 private:
  class Impl;
  explicit HttpSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace logship::sinks::http
