#pragma once
// What the HTTP sink does with a response, and the server's hint for when
// to try again (Retry-After). Pure functions, unit-tested without a network.
// The delay itself is the retry owner's (agent/core/backoff.h).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace logship::sinks::http {

/// The fate of one request.
enum class Outcome {
  kDelivered,  ///< 2xx: the records are accepted (Elasticsearch: per item, see formats.h)
  kRetry,      ///< connection error, timeout, 408, 429, 5xx (and unexpected 1xx/3xx): the batch goes back as kRetry
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

/// Parses a Retry-After value (RFC 9110 10.2.3): delay-seconds, or an
/// HTTP-date (IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT") taken
/// relative to `now`. Dates in the past give zero. nullopt when malformed.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace logship::sinks::http
