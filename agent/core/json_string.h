#pragma once
// JSON string output helpers shared by every encoder in the agent (NDJSON
// records, the agent's own structured log lines, enrichment fields).
//
// Log text is untrusted: it may hold control characters and bytes that are
// not UTF-8 at all (binary payloads, truncated multi-byte characters, Latin-1
// files). Whatever comes in, what goes out must be a valid JSON string that a
// strict downstream (Elasticsearch, Loki, BigQuery) accepts.
//
// All functions are stateless and thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace logship::json {

/// Appends `text` to `out` as a JSON string literal, quotes included.
///
/// Escaping: `"` and `\` get a backslash; \b \f \n \r \t use their short
/// forms; every other byte below 0x20 and DEL (0x7F) becomes \u00XX.
/// Everything else, including valid multi-byte UTF-8, is copied verbatim.
///
/// Invalid UTF-8 (stray continuation bytes, overlong forms, UTF-8 encoded
/// surrogates, code points above U+10FFFF, truncated sequences, bytes C0, C1
/// and F5..FF) is replaced by U+FFFD, one per maximal invalid subpart as in the
/// Unicode Standard (ch. 3, "U+FFFD Substitution of Maximal Subparts") and the
/// WHATWG decoder. Valid characters next to a bad byte are never swallowed, so
/// the output is always valid UTF-8.
///
/// `text` must not alias `out`'s buffer.
void append_string(std::string& out, std::string_view text);

/// Returns the largest n <= min(max_bytes, text.size()) such that text[0, n)
/// does not end inside a UTF-8 multi-byte character. Used to truncate over-long
/// messages without producing a broken character at the end. Only the bytes
/// around the cut are inspected (at most 4), so this is O(1).
///
/// Invalid input is tolerated: a cut is only moved back when text[n] continues
/// a character whose lead byte is within the 3 bytes before it.
[[nodiscard]] std::size_t utf8_cut(std::string_view text, std::size_t max_bytes);

}  // namespace logship::json
