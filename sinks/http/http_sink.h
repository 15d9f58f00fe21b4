#pragma once
// The HTTP sink (LOGSHIP_SINK=http): batches become POST requests to
// LOGSHIP_HTTP_URL in one of five formats (formats.h), compressed
// (Content-Encoding gzip, zstd or none), over keep-alive HTTP/1.1
// connections, plain or TLS.
//
// Delivery: a batch is reported kOk only when every one of its records was
// accepted by the endpoint or written to the dead-letter file. The pipeline
// owns retries: each request is sent once (a reused keep-alive connection the
// server closed while idle is the one free resend); a connection error,
// timeout, 408, 429 or 5xx fails its batch, reported kRetry with the
// server's Retry-After as DeliveryReport::retry_after. 413 splits the request
// in halves; other 4xx and Elasticsearch per-item rejections go to the
// dead-letter file. The only resend inside the sink: Elasticsearch items a
// 2xx _bulk answer rejected with 429/5xx (the pipeline cannot resend part of
// a batch), at most 5 attempts with backoff, then the batch is kRetry.
// redelivers_internally() is false.
//
// Ownership: send() takes the batch; the sink keeps it until it reports it.
//
// Threading: the sink's encoding threads (body_workers.h) encode and
// compress bodies; one I/O thread owned by the sink (Asio io_context) only
// sends them, retries, writes dead letters and calls the DeliveryListener.
// send() only queues and wakes it; it never blocks on the network.
// unavailable_reason() and collect_metrics() read atomics or take a short
// lock, from any thread.

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
  /// The compressed bodies encoded ahead (HttpSinkOptions::body_budget): the
  /// pipeline keeps that much of LOGSHIP_MEMORY_LIMIT out of its batch budget.
  [[nodiscard]] size_t reserved_memory() const override;
  void collect_metrics(const std::function<void(const MetricSample&)>& emit) const override;

 private:
  class Impl;
  explicit HttpSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace logship::sinks::http
