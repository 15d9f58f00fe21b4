#pragma once
// The Kafka sink (LOGSHIP_SINK=kafka): one Kafka message per record, produced
// with librdkafka by an idempotent producer (acks=all, no message timeout),
// and a batch acknowledged only when every one of its messages has a
// successful delivery report.
//
// Ownership: send() takes the batch; the sink keeps it until it is
// reported, and librdkafka reads the message values straight out of it
// (zero copy), so nothing is copied between the pipeline and the broker
// but what librdkafka compresses.
//
// Threading: one producer thread owned by the sink does all librdkafka work
// (produce, poll, delivery reports, statistics, error events) and calls the
// DeliveryListener. send() only queues and wakes that thread, so it never
// blocks. unavailable_reason() and collect_metrics() may be called from any
// thread and only read state guarded by the sink's own lock or atomics.
// librdkafka's log callback runs on librdkafka's threads and only writes to
// logship's (thread-safe) log.

#include <memory>
#include <optional>
#include <string>

#include "agent/core/sink.h"
#include "sinks/kafka/kafka_config.h"

namespace logship::sinks::kafka {

class KafkaSink final : public Sink {
 public:
  /// Builds the producer from `options` and checks the cluster once: an
  /// unknown librdkafka property or bad value, a fixed topic the brokers do
  /// not have (and will not create), an authentication or TLS failure, or
  /// brokers whose names do not resolve fail here, with a message naming the
  /// setting and the cause. Brokers that merely do not answer within
  /// options.startup_timeout do not: the sink starts and reports itself
  /// unavailable until one does.
  [[nodiscard]] static Result<std::unique_ptr<KafkaSink>> create(KafkaSinkOptions options);
  ~KafkaSink() override;

  KafkaSink(const KafkaSink&) = delete;
  KafkaSink& operator=(const KafkaSink&) = delete;

  std::string_view name() const override { return "kafka"; }
  [[nodiscard]] Result<void> start(DeliveryListener& listener) override;
  void send(BatchPtr batch) override;
  /// Reports every batch still held (kRetry: not delivered; librdkafka's
  /// queue is purged), stops the producer thread, destroys the producer.
  void stop() override;
  [[nodiscard]] std::optional<std::string> unavailable_reason() const override;
  /// True in follow mode (KafkaSinkOptions::redeliver_in_sink): librdkafka
  /// retries transient errors without end and the sink produces failed
  /// messages again itself; see README.md "Retries".
  [[nodiscard]] bool redelivers_internally() const override;
  /// librdkafka's share of LOGSHIP_MEMORY_LIMIT (kafka_memory.h), which the
  /// pipeline leaves out of its in-flight budget.
  [[nodiscard]] size_t reserved_memory() const override;
  void collect_metrics(const std::function<void(const MetricSample&)>& emit) const override;

  /// Test hook: makes librdkafka raise a fatal error, as the idempotent
  /// producer does when it cannot guarantee ordering any more, so tests can
  /// check that the sink replaces its producer without losing a message.
  void raise_fatal_error_for_test();

 private:
  class Impl;
  explicit KafkaSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace logship::sinks::kafka
