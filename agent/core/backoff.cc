#include "agent/core/backoff.h"

#include <algorithm>

namespace logship {

Backoff::Backoff(Options options, uint64_t seed) : options_(options), rng_(seed) {}

std::chrono::milliseconds Backoff::ceiling(uint32_t failures) const {
  const uint32_t shift = std::min<uint32_t>(failures == 0 ? 0 : failures - 1, 30);
  const int64_t initial = std::max<int64_t>(options_.initial.count(), 0);
  // initial << 30 cannot overflow for any sane initial; cap before shifting
  // anyway so a huge initial cannot wrap.
  const int64_t max = std::max<int64_t>(options_.max.count(), 0);
  if (initial > (max >> std::min<uint32_t>(shift, 62))) return std::chrono::milliseconds(max);
  return std::chrono::milliseconds(std::min(max, initial << shift));
}

std::chrono::milliseconds Backoff::delay(uint32_t failures, std::optional<std::chrono::milliseconds> hint) {
  if (hint) return std::clamp(*hint, std::chrono::milliseconds(0), options_.max_hint);
  const int64_t d = ceiling(failures).count();
  const int64_t low = options_.jitter == Jitter::kEqual ? d / 2 : 0;
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(low, d)(rng_));
}

}  // namespace logship
