#include "agent/core/json_string.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>  // baseline on x86-64, so no run-time dispatch needed
#endif

namespace logship::json {
namespace {

// What a byte turns into inside a JSON string: 0 = copied as is, 'u' = \u00XX,
// anything else = the character after the backslash of a short escape.
// Only ASCII bytes ever need escaping; bytes >= 0x80 are UTF-8 and are the
// validator's business, not the escaper's.
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  // DEL is legal in JSON, but terminals and some log viewers treat it as a
  // control character, so it is escaped like the C0 controls.
  t[0x7F] = 'u';
  return t;
}();

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// Sets the high bit of the bytes of `w` that need escaping (< 0x20, '"', '\\',
// 0x7F), using the classic "has byte less than n" / "has zero byte" tricks.
// The subtraction can borrow into the byte above a match, so bytes above the
// lowest match may be flagged falsely; the lowest flagged byte is always
// exact (no borrow happens below the first match). Callers only use that one.
inline std::uint64_t escape_mask(std::uint64_t w) {
  const std::uint64_t control = (w - 0x20 * kOnes) & ~w;
  const std::uint64_t q = w ^ ('"' * kOnes);
  const std::uint64_t bs = w ^ ('\\' * kOnes);
  const std::uint64_t del = w ^ (0x7F * kOnes);
  const std::uint64_t quote = (q - kOnes) & ~q;
  const std::uint64_t backslash = (bs - kOnes) & ~bs;
  const std::uint64_t delete_char = (del - kOnes) & ~del;
  return (control | quote | backslash | delete_char) & kHighBits;
}

inline std::uint64_t load_le64(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  // The "lowest match is exact" property is about arithmetic significance, so
  // byte order must put the first byte in memory in the low bits.
  if constexpr (std::endian::native == std::endian::big) w = std::byteswap(w);
  return w;
}

// True if every byte is below 0x80. Checked 64 bytes at a time with an early
// exit, so non-ASCII text pays for at most one block.
inline bool is_ascii(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  while (end - p >= 64) {
    std::uint64_t acc = 0;
    for (int i = 0; i < 8; ++i) acc |= load_le64(p + 8 * i);
    if ((acc & kHighBits) != 0) return false;
    p += 64;
  }
  unsigned char tail = 0;
  for (; p < end; ++p) tail |= static_cast<unsigned char>(*p);
  return tail < 0x80;
}

// First byte in [p, end) that needs escaping, or end. A typical log line has
// no byte to escape at all, so this is the loop that runs: 16 bytes at a time
// with SSE2 where available (profiling showed the 8-byte SWAR loop taking
// ~70% of append_string on x86-64), then 8 at a time with SWAR, which also
// serves the remainder and other architectures, then byte by byte.
inline const char* find_escape(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i max_control = _mm_set1_epi8(0x1F);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i del = _mm_set1_epi8(0x7F);
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Unsigned x <= 0x1F  <=>  max(x, 0x1F) == 0x1F (SSE2 has no unsigned <).
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(x, max_control), max_control);
    const __m128i special =
        _mm_or_si128(_mm_cmpeq_epi8(x, quote),
                     _mm_or_si128(_mm_cmpeq_epi8(x, backslash), _mm_cmpeq_epi8(x, del)));
    const auto bits =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(control, special)));
    if (bits != 0) return p + std::countr_zero(bits);
    p += 16;
  }
#endif
  while (end - p >= 8) {
    if (const std::uint64_t m = escape_mask(load_le64(p)); m != 0) {
      return p + std::countr_zero(m) / 8;
    }
    p += 8;
  }
  while (p < end && kEscape[static_cast<unsigned char>(*p)] == 0) ++p;
  return p;
}

// Appends the escape sequence for `c`, which must have kEscape[c] != 0.
inline void append_escape(std::string& out, unsigned char c) {
  const char kind = kEscape[c];
  if (kind == 'u') {
    const char seq[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
    out.append(seq, sizeof seq);
  } else {
    const char seq[2] = {'\\', kind};
    out.append(seq, sizeof seq);
  }
}

// Grows geometrically even when callers append many small strings to one
// buffer: a bare reserve(size + n) would reallocate on every call on
// standard libraries that honour the exact request.
inline void reserve_extra(std::string& out, std::size_t extra) {
  const std::size_t need = out.size() + extra;
  if (need > out.capacity()) out.reserve(std::max(need, out.capacity() * 2));
}

// Body of a string already known to be valid UTF-8: only escapes to insert.
void append_valid(std::string& out, std::string_view text) {
  const char* run = text.data();
  const char* const end = run + text.size();
  for (const char* p = find_escape(run, end); p != end; p = find_escape(run, end)) {
    out.append(run, p);
    append_escape(out, static_cast<unsigned char>(*p));
    run = p + 1;
  }
  out.append(run, end);
}

// Body of a string with invalid UTF-8 somewhere. Decodes byte by byte against
// the well-formed byte sequence table (Unicode Table 3-7). For a lead byte it
// consumes continuation bytes only while they can still complete a valid
// character; the bytes consumed so far form the "maximal subpart" that one
// U+FFFD replaces, and the byte that broke the sequence is looked at again as
// a potential start, so no valid character next to garbage is lost.
// Runs of bytes that are copied verbatim are still appended in one go.
void append_repairing(std::string& out, std::string_view text) {
  const auto* const begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = begin + text.size();
  const unsigned char* run = begin;
  const unsigned char* p = begin;
  auto flush = [&] { out.append(reinterpret_cast<const char*>(run), p - run); };

  while (p < end) {
    const unsigned char b = *p;
    if (b < 0x80) {
      if (kEscape[b] != 0) {
        flush();
        append_escape(out, b);
        run = ++p;
      } else {
        ++p;
      }
      continue;
    }

    // Sequence length and the allowed range of the second byte. The narrowed
    // ranges exclude overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4).
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    }
    // 80..BF (stray continuation), C0, C1 (always overlong), F5..FF: len 0.

    std::size_t valid = 1;  // bytes of the sequence accepted so far
    if (len != 0 && end - p > 1 && p[1] >= lo && p[1] <= hi) {
      valid = 2;
      while (valid < len && p + valid < end && (p[valid] & 0xC0) == 0x80) ++valid;
    }
    if (valid == len) {
      p += len;  // well-formed: stays part of the verbatim run
      continue;
    }
    flush();
    out.append(kReplacement);
    p += valid;
    run = p;
  }
  flush();
}

}  // namespace

void append_string(std::string& out, std::string_view text) {
  // Exact for the common case of nothing to escape; escapes grow the string
  // through append's own (geometric) growth.
  reserve_extra(out, text.size() + 2);
  out.push_back('"');
  // Validating up front with simdjson's SIMD validator costs a fraction of a
  // byte-wise decode, and valid input is by far the common case. Most log
  // text is pure ASCII, though, and for a ~200-byte message the dispatched
  // validator call costs ~40 ns, several times the ASCII check (measured on
  // icelake), so ASCII skips it.
  if (is_ascii(text) || simdjson::validate_utf8(text.data(), text.size())) {
    append_valid(out, text);
  } else {
    append_repairing(out, text);
  }
  out.push_back('"');
}

std::size_t utf8_cut(std::string_view text, std::size_t max_bytes) {
  const std::size_t n = std::min(max_bytes, text.size());
  if (n == text.size() || n == 0) return n;
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  auto is_continuation = [](unsigned char c) { return (c & 0xC0) == 0x80; };
  if (!is_continuation(byte(n))) return n;

  // text[n] continues a character: find its lead byte (UTF-8 characters are at
  // most 4 bytes, so it is at most 3 bytes back) and cut before it if the
  // character would otherwise be split.
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const unsigned char c = byte(n - back);
    if (is_continuation(c)) continue;
    const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    // len <= back: the bytes at n are stray continuations, not part of this
    // character, so the cut at n splits nothing valid.
    return len > back ? n - back : n;
  }
  return n;  // no lead byte in reach: invalid input, nothing valid to split
}

}  // namespace logship::json
