// What the HTTP sink parses from configuration and from servers: the URL,
// Retry-After values, Elasticsearch _bulk responses and RFC 3339 record
// times. Byte 0 picks the parser; byte 1 is the number of items sent (for
// _bulk).
// Properties: no crash or UB; a parsed URL has a host, a non-zero port and a
// target that is empty or starts with '/'; a Retry-After delay is never
// negative; _bulk failures point at items that were sent.
#include <chrono>
#include <cstdint>
#include <string_view>

#include "sinks/http/formats.h"
#include "sinks/http/http_url.h"
#include "sinks/http/retry_policy.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  namespace http = logship::sinks::http;
  switch (data[0] % 4) {
    case 0: {
      auto url = http::parse_url(text);
      if (url) {
        LOGSHIP_FUZZ_CHECK(!url->host.empty() && url->port != 0, text);
        LOGSHIP_FUZZ_CHECK(url->target.empty() || url->target.front() == '/', text);
        (void)url->host_header();
        (void)url->origin();
      }
      break;
    }
    case 1: {
      // A fixed "now" keeps runs reproducible.
      const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1795698484));
      auto delay = http::parse_retry_after(text, now);
      if (delay) LOGSHIP_FUZZ_CHECK(delay->count() >= 0, text);
      break;
    }
    case 3: {
      // Record times (Elasticsearch index dates, Loki/OTLP nanoseconds):
      // UBSan catches arithmetic overflow here (years outside 1677-2262).
      (void)http::rfc3339_to_unix_nanos(text);
      break;
    }
    default: {
      const size_t items = data[1];
      auto r = http::parse_bulk_response(text, items);
      if (r) {
        for (const auto& f : r->failed) LOGSHIP_FUZZ_CHECK(f.position < items, text);
      }
      break;
    }
  }
  return 0;
}
