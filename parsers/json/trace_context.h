#pragma once
// Trace/span id extraction for log-trace correlation.
//
// Ids arrive in several shapes: W3C traceparent headers copied into a log
// line, OpenTelemetry-style 32-hex trace ids, 64-bit B3/Zipkin ids, upper-case
// hex from some SDKs. They are normalised here to the W3C form (lowercase hex,
// 32 chars for a trace id, 16 for a span id) so backends can join on them.
//
// All functions are pure and thread-safe; nothing allocates.

#include <array>
#include <string_view>

namespace logship::json {

/// A normalised trace context. Value type: the ids are stored inline, so it
/// never points into the input it was extracted from.
struct TraceContext {
  std::array<char, 32> trace_id{};  ///< lowercase hex; meaningful only if has_trace
  std::array<char, 16> span_id{};   ///< lowercase hex; meaningful only if has_span
  bool has_trace = false;
  bool has_span = false;

  /// The trace id as 32 lowercase hex chars, or empty if none was found.
  /// The view points into this object.
  [[nodiscard]] std::string_view trace() const {
    return has_trace ? std::string_view(trace_id.data(), trace_id.size()) : std::string_view();
  }
  /// The span id as 16 lowercase hex chars, or empty if none was found.
  /// The view points into this object.
  [[nodiscard]] std::string_view span() const {
    return has_span ? std::string_view(span_id.data(), span_id.size()) : std::string_view();
  }
};

/// Normalises a trace id: 32 hex digits (any case), or 16 (B3/Zipkin 64-bit
/// ids, left-padded with 16 '0's as W3C does). Writes lowercase hex to `out`.
/// False, leaving `out` untouched, for any other length, a non-hex character
/// or an all-zero id (which W3C defines as invalid).
[[nodiscard]] bool normalize_trace_id(std::string_view in, std::array<char, 32>& out);

/// Normalises a span id: exactly 16 hex digits (any case), written lowercase.
/// False, leaving `out` untouched, for other lengths, non-hex or all zeros.
[[nodiscard]] bool normalize_span_id(std::string_view in, std::array<char, 16>& out);

/// Parses a W3C traceparent, `version-traceid-parentid-flags`:
/// 2 hex, '-', 32 hex, '-', 16 hex, '-', 2 hex (hex in any case).
/// Version ff is invalid; version 00 must be exactly 55 chars; later versions
/// may carry more data after the flags, but only after a '-'.
///
/// On success `out` is overwritten with the ids that are valid (an all-zero
/// trace or parent id is left out, the other one is kept) and true is
/// returned. False, leaving `out` untouched, when the shape is wrong or both
/// ids are all zeros.
[[nodiscard]] bool parse_traceparent(std::string_view v, TraceContext& out);

/// Finds a traceparent inside free text, e.g. `... traceparent=00-4bf9...-01 ...`.
/// A candidate is a 55-char run shaped like a traceparent (hex in any case)
/// that is not glued to letters or digits on either side; it is parsed with
/// parse_traceparent, and the first candidate that parses wins (a malformed
/// or all-zero one is skipped). Returns an empty TraceContext if none does.
///
/// Linear time: only '-' bytes (found with memchr) are inspected as anchors,
/// each with a bounded check, so lines without a traceparent cost about as
/// much as a memchr.
[[nodiscard]] TraceContext find_traceparent(std::string_view text);

}  // namespace logship::json
