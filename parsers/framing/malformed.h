#pragma once
// Counters of odd input met while framing, keyed by format and reason, for
// logship_malformed_lines_total{format,reason}. One MalformedCounters is
// shared by every framer of the agent (all fields are atomics); a framer
// without one counts into a private instance.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace logship::framing {

/// The format label: the line's apparent format, or the framer's
/// configured one when the line has none (an empty line).
enum class MalformedFormat : uint8_t { kAuto, kCri, kDocker, kRaw, kCount };

enum class MalformedReason : uint8_t {
  kEmptyLine,        ///< a physical line with nothing on it: skipped
  kNoPrefix,         ///< forced CRI: the line has no CRI prefix; shipped as text
  kBadEnvelope,      ///< docker: not a JSON object with string log and stream; shipped as text
  kBadTimestamp,     ///< CRI/docker line whose time is not RFC 3339; shipped as text with the read time
  kTorn,             ///< the tail of a docker line cut at its head (copytruncate); shipped as text
  kUnframed,         ///< auto: a plain-text line in a file that had CRI/docker lines
  kPartialExpired,   ///< a partial with no continuation within the timeout; shipped "partial":true
  kPartialFlushed,   ///< a partial pending when the file ended/closed; shipped "partial":true
  kResumeSkipped,    ///< after a restart: the continuation of a record delivered before the checkpoint; skipped
  kCount
};

[[nodiscard]] std::string_view malformed_format_name(MalformedFormat f);
[[nodiscard]] std::string_view malformed_reason_name(MalformedReason r);

class MalformedCounters {
 public:
  void add(MalformedFormat f, MalformedReason r) {
    at(f, r).fetch_add(1, std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t get(MalformedFormat f, MalformedReason r) const {
    return at(f, r).load(std::memory_order_relaxed);
  }
  /// Calls fn(format_name, reason_name, value) for every non-zero counter.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (size_t f = 0; f < kFormats; ++f) {
      for (size_t r = 0; r < kReasons; ++r) {
        const uint64_t v = counts_[f * kReasons + r].load(std::memory_order_relaxed);
        if (v != 0) {
          fn(malformed_format_name(static_cast<MalformedFormat>(f)),
             malformed_reason_name(static_cast<MalformedReason>(r)), v);
        }
      }
    }
  }

 private:
  static constexpr size_t kFormats = static_cast<size_t>(MalformedFormat::kCount);
  static constexpr size_t kReasons = static_cast<size_t>(MalformedReason::kCount);
  std::atomic<uint64_t>& at(MalformedFormat f, MalformedReason r) {
    return counts_[static_cast<size_t>(f) * kReasons + static_cast<size_t>(r)];
  }
  const std::atomic<uint64_t>& at(MalformedFormat f, MalformedReason r) const {
    return counts_[static_cast<size_t>(f) * kReasons + static_cast<size_t>(r)];
  }
  std::array<std::atomic<uint64_t>, kFormats * kReasons> counts_{};
};

}  // namespace logship::framing
