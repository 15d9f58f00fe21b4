#pragma once
// The adaptive request limit of the HTTP sink (LOGSHIP_HTTP_CONCURRENCY=
// adaptive): additive increase, multiplicative decrease, as TCP congestion
// control does with its window.
//
// - Increase: while the limit is in use (as many requests in flight as it
//   allows) and latency stays flat, the limit grows by 1/limit per response,
//   i.e. by one per round of `limit` responses.
// - Decrease: on an overload signal (429, 503, a timeout) the limit halves;
//   when latency rises well above its long-run baseline (the endpoint is
//   queueing our requests) it shrinks by a tenth. Either at most once per
//   recent round-trip time, so one burst of bad answers from requests that
//   were all in flight together counts once.
//
// Latency is tracked as two EWMAs: a fast one (recent) and a slow one (the
// baseline), compared on every response.
//
// Threading: not thread-safe; the sink's I/O thread owns it. Time is passed
// in, so tests drive it with a fake clock.

#include <chrono>
#include <cstdint>

namespace logship::sinks::http {

class AdaptiveConcurrency {
 public:
  using Clock = std::chrono::steady_clock;

  AdaptiveConcurrency(uint32_t min_limit, uint32_t max_limit, uint32_t initial = 1);

  /// Requests that may be in flight now.
  [[nodiscard]] uint32_t limit() const { return static_cast<uint32_t>(limit_); }

  /// A response that did not signal overload (2xx, and 4xx which says
  /// nothing about load). `in_flight` is the number of requests in flight
  /// when it arrived, this one included.
  void on_response(std::chrono::nanoseconds latency, uint32_t in_flight, Clock::time_point now);

  /// 429, 503 or a timeout.
  void on_overload(Clock::time_point now);

  /// The latency EWMAs, for tests and metrics (seconds; 0 before the first sample).
  [[nodiscard]] double recent_latency() const { return fast_; }
  [[nodiscard]] double baseline_latency() const { return slow_; }

 private:
  void decrease(double factor, Clock::time_point now);

  double min_;
  double max_;
  double limit_;
  double fast_ = 0;  // seconds
  double slow_ = 0;
  Clock::time_point next_decrease_{};
};

}  // namespace logship::sinks::http
