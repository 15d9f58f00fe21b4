#include "parsers/json/trace_context.h"

#include <cstddef>
#include <cstring>

namespace logship::json {
namespace {

// Lowercase form of a hex digit, or 0 for any other byte. One table lookup
// both validates and normalises a character.
constexpr std::array<char, 256> kLowerHex = [] {
  std::array<char, 256> t{};
  for (char c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = c;
  for (char c = 'a'; c <= 'f'; ++c) t[static_cast<unsigned char>(c)] = c;
  for (char c = 'A'; c <= 'F'; ++c) {
    t[static_cast<unsigned char>(c)] = static_cast<char>(c - 'A' + 'a');
  }
  return t;
}();

constexpr std::size_t kTraceparentSize = 55;  // "00-" + 32 + "-" + 16 + "-" + 2

inline bool is_hex(char c) { return kLowerHex[static_cast<unsigned char>(c)] != 0; }

inline bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Lowercases `n` hex chars from `in` into `out`. False on a non-hex char (out
// is then partially written; callers write into scratch space). `nonzero`
// tells whether any digit was not '0', for the all-zero rule.
inline bool copy_hex(const char* in, std::size_t n, char* out, bool& nonzero) {
  char any = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char h = kLowerHex[static_cast<unsigned char>(in[i])];
    if (h == 0) return false;
    out[i] = h;
    any |= static_cast<char>(h ^ '0');
  }
  nonzero = any != 0;
  return true;
}

inline bool all_hex(const char* in, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_hex(in[i])) return false;
  }
  return true;
}

}  // namespace

bool normalize_trace_id(std::string_view in, std::array<char, 32>& out) {
  std::array<char, 32> tmp;
  bool nonzero = false;
  if (in.size() == 32) {
    if (!copy_hex(in.data(), 32, tmp.data(), nonzero)) return false;
  } else if (in.size() == 16) {
    // 64-bit B3 ids map to W3C by left-padding, which is what Zipkin and the
    // OpenTelemetry B3 propagator do, so the ids still join across systems.
    std::memset(tmp.data(), '0', 16);
    if (!copy_hex(in.data(), 16, tmp.data() + 16, nonzero)) return false;
  } else {
    return false;
  }
  if (!nonzero) return false;
  out = tmp;
  return true;
}

bool normalize_span_id(std::string_view in, std::array<char, 16>& out) {
  std::array<char, 16> tmp;
  bool nonzero = false;
  if (in.size() != 16 || !copy_hex(in.data(), 16, tmp.data(), nonzero) || !nonzero) return false;
  out = tmp;
  return true;
}

bool parse_traceparent(std::string_view v, TraceContext& out) {
  if (v.size() < kTraceparentSize) return false;
  const char* p = v.data();
  if (p[2] != '-' || p[35] != '-' || p[52] != '-') return false;
  if (!all_hex(p, 2) || !all_hex(p + 53, 2)) return false;

  const char v0 = kLowerHex[static_cast<unsigned char>(p[0])];
  const char v1 = kLowerHex[static_cast<unsigned char>(p[1])];
  if (v0 == 'f' && v1 == 'f') return false;  // reserved as invalid by W3C
  if (v.size() > kTraceparentSize) {
    // Version 00 has exactly four fields; a future version may append fields,
    // which must start with '-' so that version-00 parsers can skip them.
    if ((v0 == '0' && v1 == '0') || p[kTraceparentSize] != '-') return false;
  }

  TraceContext tc;
  bool trace_nonzero = false;
  bool span_nonzero = false;
  if (!copy_hex(p + 3, 32, tc.trace_id.data(), trace_nonzero)) return false;
  if (!copy_hex(p + 36, 16, tc.span_id.data(), span_nonzero)) return false;
  tc.has_trace = trace_nonzero;
  tc.has_span = span_nonzero;
  if (!tc.has_trace && !tc.has_span) return false;
  if (!tc.has_trace) tc.trace_id = {};
  if (!tc.has_span) tc.span_id = {};
  out = tc;
  return true;
}

TraceContext find_traceparent(std::string_view text) {
  TraceContext result;
  const std::size_t n = text.size();
  if (n < kTraceparentSize) return result;
  const char* const base = text.data();

  // Anchor on the dash after the version field: a candidate starting at s has
  // dashes at s+2, s+35 and s+52, so each '-' at d is tested as s+2 with three
  // byte compares before any hex scan. Every '-' is visited once and does
  // bounded work, which keeps this O(n) even for lines full of dashes.
  const std::size_t last_anchor = n - kTraceparentSize + 2;  // s <= n - 55
  std::size_t from = 2;
  while (from <= last_anchor) {
    const void* hit = std::memchr(base + from, '-', last_anchor - from + 1);
    if (hit == nullptr) break;
    const std::size_t d = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
    from = d + 1;
    const std::size_t s = d - 2;
    const char* c = base + s;
    if (c[35] != '-' || c[52] != '-') continue;
    // Not part of a longer word: "x00-..." or "...-01ab" are not traceparents.
    if (s > 0 && is_alnum(base[s - 1])) continue;
    if (s + kTraceparentSize < n && is_alnum(c[kTraceparentSize])) continue;
    // Only the 55 core chars are parsed: in free text whatever follows the
    // flags is the surrounding text, not extra traceparent fields.
    if (parse_traceparent(std::string_view(c, kTraceparentSize), result)) return result;
  }
  return result;
}

}  // namespace logship::json
