#pragma once
// Byte-level JSON scanning for the processors: skip strings and values,
// compare keys, decode escapes. No DOM and no allocation on the common path:
// the level filter reads one top-level field and the redactor walks a record
// only when its pre-filter found a candidate.
//
// The input is a record payload that the encoder's parser classified as one
// valid JSON object (PayloadKind::kJsonObject). The functions never read past
// `end` except where stated (SIMD loads within the 64 padding bytes that
// follow every payload, see agent/core/record.h), and tolerate malformed
// input by stopping at `end` rather than trusting the structure.

#include <cstddef>
#include <string>
#include <string_view>

namespace logship::processors::json_scan {

/// Padding the processors rely on after every payload (agent/core/record.h).
inline constexpr size_t kPadding = 64;

/// First '"' or '\\' in [p, end), or end. Reads up to 15 bytes past `end`
/// (inside the payload's padding).
[[nodiscard]] const char* find_quote_or_backslash(const char* p, const char* end);

/// `p` points just after a string's opening quote. Returns the position of
/// the closing quote (or end when unterminated) and sets `escaped` when the
/// string holds a backslash escape.
[[nodiscard]] const char* skip_string(const char* p, const char* end, bool& escaped);

/// Skips JSON whitespace.
[[nodiscard]] inline const char* skip_ws(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  return p;
}

/// `p` points at the first byte of a value; returns the position just after
/// it (strings, numbers, literals, whole objects and arrays).
[[nodiscard]] const char* skip_value(const char* p, const char* end);

/// Decodes the content of a JSON string (between the quotes) into `out`
/// (appended). \uXXXX pairs become UTF-8; a lone surrogate becomes U+FFFD.
void decode_string(std::string_view raw, std::string& out);

/// ASCII lower case of one byte (other bytes unchanged).
[[nodiscard]] constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

/// Case-insensitive (ASCII) equality against an already lower-case `lower`.
[[nodiscard]] inline bool iequals_lower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (ascii_lower(text[i]) != lower[i]) return false;
  }
  return true;
}

/// A key's text for comparison: the raw bytes when it has no escape,
/// otherwise decoded into `scratch`.
[[nodiscard]] inline std::string_view key_text(std::string_view raw, bool escaped,
                                               std::string& scratch) {
  if (!escaped) return raw;
  scratch.clear();
  decode_string(raw, scratch);
  return scratch;
}

}  // namespace logship::processors::json_scan
