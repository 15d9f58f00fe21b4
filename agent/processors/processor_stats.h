#pragma once
// Counters of the filtering and redaction processors. One instance is shared
// by every chain (the factories hold a reference); processors add with
// relaxed atomics from the source's worker thread; the lead's /metrics
// collector reads them:
//
//   logship_records_dropped_total{reason="excluded"|"level"|"throttled"}
//   logship_redactions_total{kind="key"|"credit_card"|"email"|"bearer"|"jwt"|"aws_key"|"private_key"}
//   logship_files_excluded_total           (files the tail source never opened)
//   logship_processor_annotation_errors_total  (logship.io/* values that did not parse)
//   logship_throttle_summaries_total       ({"logship":"throttled"} records emitted)

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace logship::processors {

/// What a redaction replaced. kKey is a value under a redacted JSON key; the
/// others are the built-in detectors of LOGSHIP_REDACT_PATTERNS.
enum class RedactKind : uint8_t {
  kKey,
  kCreditCard,
  kEmail,
  kBearer,
  kJwt,
  kAwsKey,
  kPrivateKey,
};
inline constexpr size_t kRedactKindCount = 7;

/// Label values, indexed by RedactKind (also the LOGSHIP_REDACT_PATTERNS names).
inline constexpr std::array<std::string_view, kRedactKindCount> kRedactKindNames = {
    "key", "credit_card", "email", "bearer", "jwt", "aws_key", "private_key"};

struct ProcessorStats {
  std::atomic<uint64_t> dropped_excluded{0};   ///< records of annotation-excluded pods
  std::atomic<uint64_t> dropped_level{0};      ///< below the minimum level
  std::atomic<uint64_t> dropped_throttled{0};  ///< over a container's rate limit
  std::atomic<uint64_t> files_excluded{0};     ///< incremented by the tail source
  std::atomic<uint64_t> annotation_errors{0};
  std::atomic<uint64_t> throttle_summaries{0};
  std::array<std::atomic<uint64_t>, kRedactKindCount> redactions{};

  void add_redaction(RedactKind kind, uint64_t n = 1) {
    redactions[static_cast<size_t>(kind)].fetch_add(n, std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t redaction_count(RedactKind kind) const {
    return redactions[static_cast<size_t>(kind)].load(std::memory_order_relaxed);
  }
};

/// Calls `fn(name, label_name, label_value, value)` for every counter, in the
/// Prometheus names above (label_name empty for unlabelled ones), so the
/// exporter needs no knowledge of the fields.
template <typename Fn>
void for_each_counter(const ProcessorStats& s, Fn&& fn) {
  const auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  fn("logship_records_dropped_total", "reason", "excluded", load(s.dropped_excluded));
  fn("logship_records_dropped_total", "reason", "level", load(s.dropped_level));
  fn("logship_records_dropped_total", "reason", "throttled", load(s.dropped_throttled));
  for (size_t k = 0; k < kRedactKindCount; ++k) {
    fn("logship_redactions_total", "kind", kRedactKindNames[k], load(s.redactions[k]));
  }
  fn("logship_files_excluded_total", "", "", load(s.files_excluded));
  fn("logship_processor_annotation_errors_total", "", "", load(s.annotation_errors));
  fn("logship_throttle_summaries_total", "", "", load(s.throttle_summaries));
}

}  // namespace logship::processors
