#pragma once
// Rate-limited logging: at most one line per interval for a recurring
// condition, counting the lines held back so the next line can say how many
// ("suppressed"). Not thread-safe: one limiter per thread or under a lock.

#include <chrono>
#include <cstdint>

namespace logship {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogLimiter(Clock::duration interval = std::chrono::seconds(10)) : interval_(interval) {}

  /// Whether a line may be written now. When it returns true, suppressed()
  /// holds the count held back since the last line; take_suppressed() reads
  /// and resets it.
  [[nodiscard]] bool allow(Clock::time_point now = Clock::now()) {
    if (now < next_) {
      ++suppressed_;
      return false;
    }
    next_ = now + interval_;
    return true;
  }
  [[nodiscard]] uint64_t suppressed() const { return suppressed_; }
  uint64_t take_suppressed() {
    const uint64_t n = suppressed_;
    suppressed_ = 0;
    return n;
  }

 private:
  Clock::duration interval_;
  Clock::time_point next_{};
  uint64_t suppressed_ = 0;
};

}  // namespace logship
