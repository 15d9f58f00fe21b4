#pragma once
// Per-container rate limit (LOGSHIP_RATE_LIMIT records/s, token bucket of
// LOGSHIP_RATE_BURST, default twice the rate; pod annotation
// `logship.io/rate-limit` overrides: a number N sets rate N and burst 2N,
// `off` or `0` lifts the limit for the pod).
//
// A chain is built per source, so the bucket is per file; the kubelet writes
// one file per container (a restart starts the next file after the last one
// ended), so per file is per container.
//
// Over the limit records are dropped and counted. The loss is made visible
// where the logs are read: a record {"logship":"throttled","dropped":N}
// (kind kJsonObject, so the encoder adds the container's k8s metadata) is
// emitted at least every 10 s while drops go on (on the next record, or via
// deadline()/flush(kTimeout) when the source is quiet) and for what is left
// at flush(kEndOfFile/kShutdown). It carries the timestamp and stream of the
// last dropped record and the commit offset of the last record seen, so
// offsets stay in order. The pending count is not held against the
// checkpoint: a crash within the 10 s may lose the summary (not the records
// that passed).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "agent/core/processor.h"
#include "agent/processors/annotations.h"
#include "agent/processors/processor_stats.h"

namespace logship::processors {

/// The clock the throttle reads; tests inject a fake one.
using SteadyClockFn = std::function<std::chrono::steady_clock::time_point()>;

struct ThrottleSettings {
  uint64_t rate = 0;   ///< records per second; 0 = no limit
  uint64_t burst = 0;  ///< bucket size; 0 = twice the rate
  [[nodiscard]] uint64_t effective_burst() const { return burst != 0 ? burst : 2 * rate; }
};

inline constexpr std::chrono::seconds kThrottleSummaryInterval{10};

class Throttle final : public Processor {
 public:
  Throttle(ThrottleSettings global, SteadyClockFn clock, ProcessorStats& stats);
  [[nodiscard]] std::string_view name() const override { return "throttle"; }
  void process(const Record& record, RecordEmitter& next) override;
  void flush(FlushReason reason, RecordEmitter& next) override;
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> deadline() const override;

 private:
  void apply_annotations(const Record& record);
  void emit_summary(RecordEmitter& next);

  ThrottleSettings global_;
  SteadyClockFn clock_;
  ProcessorStats& stats_;
  AnnotationWatch watch_;
  double rate_ = 0;   ///< effective for the current annotations; 0 = no limit
  double burst_ = 0;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point refilled_{};
  // Drops not yet reported.
  uint64_t dropped_ = 0;
  std::chrono::steady_clock::time_point window_start_{};
  std::string last_ts_;
  std::string last_stream_;
  uint64_t last_offset_ = 0;
  const SourceInfo* source_ = nullptr;
  std::string summary_;  ///< the summary payload + padding
};

class ThrottleFactory final : public ProcessorFactory {
 public:
  ThrottleFactory(ThrottleSettings global, bool k8s_api, SteadyClockFn clock, ProcessorStats& stats)
      : global_(global), k8s_api_(k8s_api), clock_(std::move(clock)), stats_(stats) {}
  /// Null when no rate is set and no annotation can set one.
  [[nodiscard]] ProcessorPtr create(const SourceInfo& source) const override;

 private:
  ThrottleSettings global_;
  bool k8s_api_;
  SteadyClockFn clock_;
  ProcessorStats& stats_;
};

}  // namespace logship::processors
