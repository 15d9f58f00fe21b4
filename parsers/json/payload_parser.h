#pragma once
// Classifies a log payload as a JSON object or free text and pulls the
// trace context out of it, so the encoder can pass JSON objects through
// untouched and attach trace/span ids for log-trace correlation.

#include <cstddef>
#include <memory>
#include <string_view>

#include "parsers/json/trace_context.h"

namespace logship::json {

/// Spare bytes that must be readable after the end of every payload handed
/// to PayloadParser::parse (their content does not matter). They let the
/// SIMD parser read whole blocks past the end instead of copying the payload.
/// Equal to or larger than simdjson's padding (checked in the .cc).
inline constexpr std::size_t kPadding = 64;

/// Parses log payloads with a reusable simdjson DOM parser.
///
/// Threading: not thread-safe; keep one per worker thread. Reusing it keeps
/// its buffers warm, so after the largest payload has been seen, parse() does
/// not allocate.
/// Lifecycle: movable, not copyable. A moved-from parser is still usable: it
/// re-creates its simdjson state on the next parse().
class PayloadParser {
 public:
  /// Result of parse(). `object` views the caller's payload (not this
  /// parser), so it stays valid as long as the payload does, across later
  /// parse() calls. `trace` is a self-contained value.
  struct Parsed {
    bool is_object = false;  ///< payload is exactly one valid JSON object
    std::string_view object;  ///< the object, trimmed of outer JSON whitespace
    TraceContext trace;       ///< ids found in the object or in the text
  };

  PayloadParser();
  ~PayloadParser();
  PayloadParser(PayloadParser&&) noexcept;
  PayloadParser& operator=(PayloadParser&&) noexcept;
  PayloadParser(const PayloadParser&) = delete;
  PayloadParser& operator=(const PayloadParser&) = delete;

  /// Classifies `payload`.
  ///
  /// Precondition: kPadding bytes after payload.data() + payload.size() are
  /// readable. The payload is parsed in place and never written to.
  ///
  /// If the payload, trimmed of JSON whitespace, is a valid JSON object (full
  /// validation, including UTF-8), returns is_object = true, object = the
  /// trimmed bytes as given, and the trace context from its top-level fields:
  ///   trace id: "trace_id", "traceId", "traceID", then "traceparent",
  ///             then ECS {"trace":{"id":..}} or "trace.id", then
  ///             "logging.googleapis.com/trace" ("projects/P/traces/ID" or ID);
  ///   span id:  "span_id", "spanId", "spanID", then "traceparent",
  ///             then ECS {"span":{"id":..}} or "span.id", then
  ///             "logging.googleapis.com/spanId".
  /// The first spelling, in that order, whose value is a string holding a
  /// valid id wins; other value types and invalid ids are ignored.
  ///
  /// Anything else (text, arrays, scalars, invalid JSON, empty input) gives
  /// is_object = false and trace = find_traceparent(payload).
  [[nodiscard]] Parsed parse(std::string_view payload);

 private:
  struct Impl;  // holds the simdjson parser; keeps simdjson out of this header
  std::unique_ptr<Impl> impl_;
};

}  // namespace logship::json
