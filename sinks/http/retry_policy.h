#pragma once
// What the HTTP sink does with a response, and how long it waits before
// trying again. Pure functions (plus a caller-owned random generator), so the
// policy is unit-tested without a network.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace logship::sinks::http {

/// The fate of one request.
enum class Outcome {
  kDelivered,  ///< 2xx: the records are accepted (Elasticsearch: per item, see formats.h)
  kRetry,      ///< connection error, timeout, 408, 429, 5xx (and unexpected 1xx/3xx): back off, send again
  kSplit,      ///< 413: the body is too large; send each half on its own
  kReject,     ///< any other 4xx: retrying cannot help; the records go to the dead-letter file
};

/// Classifies an HTTP status. 3xx counts as retryable: redirects are not
/// followed (a log endpoint that redirects is misconfigured, and following
/// could leak credentials), and retrying keeps the records safe on disk
/// until someone fixes LOGSHIP_HTTP_URL, with /readyz saying why.
[[nodiscard]] Outcome classify(unsigned status);

/// Whether a status asks the client to slow down (429, 503): the adaptive
/// concurrency limit is cut on these as on timeouts.
[[nodiscard]] bool is_overload(unsigned status);

/// Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))].
/// `attempt` counts failures so far (1 after the first).
[[nodiscard]] std::chrono::milliseconds backoff_delay(uint32_t attempt, std::mt19937_64& rng,
                                                      std::chrono::milliseconds base = std::chrono::milliseconds(100),
                                                      std::chrono::milliseconds cap = std::chrono::seconds(30));

/// Parses a Retry-After value (RFC 9110 10.2.3): delay-seconds, or an
/// HTTP-date (IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT") taken
/// relative to `now`. Dates in the past give zero. nullopt when malformed.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

/// How long to wait before attempt `attempt + 1`: the server's Retry-After
/// when it sent one (capped at kMaxRetryAfter, so a bogus header cannot park
/// the sink for hours), else backoff_delay().
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::minutes(5);
[[nodiscard]] std::chrono::milliseconds retry_delay(uint32_t attempt, std::optional<std::chrono::milliseconds> retry_after,
                                                    std::mt19937_64& rng);

}  // namespace logship::sinks::http
