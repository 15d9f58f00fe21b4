#include "agent/processors/throttle.h"

#include <algorithm>
#include <charconv>

#include "agent/processors/json_scan.h"

namespace logship::processors {

Throttle::Throttle(ThrottleSettings global, SteadyClockFn clock, ProcessorStats& stats)
    : global_(global), clock_(std::move(clock)), stats_(stats) {}

void Throttle::apply_annotations(const Record& record) {
  if (!watch_.changed(record.source)) return;
  uint64_t rate = global_.rate;
  uint64_t burst = global_.effective_burst();
  if (const std::string* value = find_annotation(watch_.map(), kAnnotationRateLimit)) {
    uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), v);
    if (json_scan::iequals_lower(*value, "off") || (ec == std::errc{} && ptr == value->data() + value->size())) {
      rate = v;  // "off" leaves v at 0
      burst = 2 * v;
    } else {
      stats_.annotation_errors.fetch_add(1, std::memory_order_relaxed);
    }
  }
  const bool was_unlimited = rate_ == 0;
  rate_ = static_cast<double>(rate);
  burst_ = std::max(1.0, static_cast<double>(burst));
  if (was_unlimited || tokens_ > burst_) {
    tokens_ = burst_;  // a new limit starts with a full bucket
    refilled_ = clock_();
  }
}

void Throttle::process(const Record& record, RecordEmitter& next) {
  apply_annotations(record);
  last_offset_ = std::max(last_offset_, record.commit_offset);
  if (rate_ == 0 && dropped_ == 0) {
    next.emit(record);
    return;
  }
  const auto now = clock_();
  if (dropped_ != 0 && now - window_start_ >= kThrottleSummaryInterval) emit_summary(next);
  if (rate_ == 0) {
    next.emit(record);
    return;
  }
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  if (elapsed > 0) {
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    refilled_ = now;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    next.emit(record);
    return;
  }
  if (dropped_ == 0) window_start_ = now;
  ++dropped_;
  stats_.dropped_throttled.fetch_add(1, std::memory_order_relaxed);
  last_ts_.assign(record.ts);
  last_stream_.assign(record.stream);
  source_ = record.source;
}

void Throttle::flush(FlushReason reason, RecordEmitter& next) {
  if (dropped_ == 0) return;
  if (reason == FlushReason::kTimeout && clock_() - window_start_ < kThrottleSummaryInterval) return;
  emit_summary(next);
}

std::optional<std::chrono::steady_clock::time_point> Throttle::deadline() const {
  if (dropped_ == 0) return std::nullopt;
  return window_start_ + kThrottleSummaryInterval;
}

void Throttle::emit_summary(RecordEmitter& next) {
  summary_.assign(R"({"logship":"throttled","dropped":)");
  summary_.append(std::to_string(dropped_));
  summary_.push_back('}');
  const size_t size = summary_.size();
  summary_.resize(size + json_scan::kPadding, ' ');  // record.h: readable padding
  Record r;
  r.ts = last_ts_;
  r.stream = last_stream_;
  r.payload = std::string_view(summary_.data(), size);
  r.kind = PayloadKind::kJsonObject;
  r.commit_offset = last_offset_;
  r.source = source_;
  dropped_ = 0;
  stats_.throttle_summaries.fetch_add(1, std::memory_order_relaxed);
  next.emit(r);
}

ProcessorPtr ThrottleFactory::create(const SourceInfo& /*source*/) const {
  if (global_.rate == 0 && !k8s_api_) return nullptr;
  return std::make_unique<Throttle>(global_, clock_ ? clock_ : SteadyClockFn(&std::chrono::steady_clock::now), stats_);
}

}  // namespace logship::processors
