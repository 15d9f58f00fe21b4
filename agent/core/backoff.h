#pragma once
// The one backoff helper: how long to wait before attempt n+1 after n
// failures. Exponential, capped, with jitter so that many agents failing
// together (an endpoint restart, an API server restart) do not come back in
// waves; a server's hint (HTTP Retry-After) wins over the computed delay,
// within a cap. Used by the pipeline's retries, the HTTP sink, the Kafka
// sink and the pod watcher.
//
// Threading: a Backoff holds its own random generator; use one per thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace logship {

class Backoff {
 public:
  enum class Jitter : uint8_t {
    kFull,   ///< uniform in [0, d]: spreads retries most (AWS "full jitter")
    kEqual,  ///< uniform in [d/2, d]: never close to zero, so a permanent failure cannot spin
  };
  struct Options {
    std::chrono::milliseconds initial{100};
    std::chrono::milliseconds max{30000};
    Jitter jitter = Jitter::kFull;
    /// A server hint is honoured up to this (a bogus Retry-After must not
    /// park a sender for hours).
    std::chrono::milliseconds max_hint{std::chrono::minutes(5)};
  };

  explicit Backoff(Options options, uint64_t seed = std::random_device{}());

  /// The delay after `failures` failures (1 after the first): d = initial *
  /// 2^(failures-1), capped at max, jittered; or the hint, capped at max_hint.
  [[nodiscard]] std::chrono::milliseconds delay(uint32_t failures,
                                                std::optional<std::chrono::milliseconds> hint = std::nullopt);

  /// The ceiling before jitter for `failures` (for tests and log lines).
  [[nodiscard]] std::chrono::milliseconds ceiling(uint32_t failures) const;

  [[nodiscard]] const Options& options() const { return options_; }

 private:
  Options options_;
  std::mt19937_64 rng_;
};

}  // namespace logship
