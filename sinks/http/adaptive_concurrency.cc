#include "sinks/http/adaptive_concurrency.h"

#include <algorithm>

namespace logship::sinks::http {
namespace {

// EWMA weights: the fast average follows the last few responses, the slow
// one the last hundred or so.
constexpr double kFastWeight = 0.3;
constexpr double kSlowWeight = 0.02;
// Latency this much above the baseline means requests are queueing.
constexpr double kRiseFactor = 2.0;
// Below this, latency changes are noise (loopback, tiny bodies): a jump from
// 0.2 ms to 0.5 ms says nothing about the endpoint's load.
constexpr double kLatencyFloor = 0.005;
constexpr double kOverloadFactor = 0.5;
constexpr double kLatencyFactor = 0.9;

}  // namespace

AdaptiveConcurrency::AdaptiveConcurrency(uint32_t min_limit, uint32_t max_limit, uint32_t initial)
    : min_(std::max<uint32_t>(1, min_limit)),
      max_(std::max<double>(std::max<uint32_t>(1, min_limit), max_limit)),
      limit_(std::clamp<double>(initial, min_, max_)) {}

void AdaptiveConcurrency::on_response(std::chrono::nanoseconds latency, uint32_t in_flight, Clock::time_point now) {
  const double s = std::chrono::duration<double>(latency).count();
  if (slow_ == 0) {
    fast_ = slow_ = s;
  } else {
    fast_ += kFastWeight * (s - fast_);
    slow_ += kSlowWeight * (s - slow_);
  }
  if (fast_ > kRiseFactor * slow_ && fast_ > kLatencyFloor) {
    decrease(kLatencyFactor, now);
    return;
  }
  // Only a limit that is actually reached is evidence that more would help;
  // otherwise an idle sink would creep up to the maximum.
  if (in_flight >= static_cast<uint32_t>(limit_)) limit_ = std::min(max_, limit_ + 1.0 / limit_);
}

void AdaptiveConcurrency::on_overload(Clock::time_point now) { decrease(kOverloadFactor, now); }

void AdaptiveConcurrency::decrease(double factor, Clock::time_point now) {
  if (now < next_decrease_) return;
  limit_ = std::max(min_, limit_ * factor);
  // Responses to requests sent before this cut carry no news about it: wait
  // about one round trip (at least 100 ms) before cutting again.
  const double rtt = std::max(0.1, fast_);
  next_decrease_ = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(rtt));
}

}  // namespace logship::sinks::http
