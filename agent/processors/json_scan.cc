#include "agent/processors/json_scan.h"

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>  // baseline on x86-64: no run-time dispatch needed
#endif

namespace logship::processors::json_scan {

const char* find_quote_or_backslash(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i bslash = _mm_set1_epi8('\\');
  while (p < end) {
    // May read up to 15 bytes past `end`: within the padding.
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto mask = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash))));
    if (mask != 0) {
      const char* hit = p + std::countr_zero(mask);
      return hit < end ? hit : end;
    }
    p += 16;
  }
  return end;
#else
  while (p < end && *p != '"' && *p != '\\') ++p;
  return p;
#endif
}

const char* skip_string(const char* p, const char* end, bool& escaped) {
  for (;;) {
    p = find_quote_or_backslash(p, end);
    if (p >= end) return end;
    if (*p == '"') return p;
    escaped = true;
    p += 2;  // the backslash and the escaped byte (\uXXXX's hex digits are plain bytes)
    if (p > end) return end;
  }
}

const char* skip_value(const char* p, const char* end) {
  if (p >= end) return end;
  if (*p == '"') {
    bool escaped = false;
    const char* close = skip_string(p + 1, end, escaped);
    return close < end ? close + 1 : end;
  }
  if (*p == '{' || *p == '[') {
    // Count brackets outside strings; strings are skipped whole, so brackets
    // inside them never count.
    int depth = 0;
    while (p < end) {
      const char c = *p;
      if (c == '"') {
        bool escaped = false;
        p = skip_string(p + 1, end, escaped);
        if (p < end) ++p;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return p + 1;
      }
      ++p;
    }
    return end;
  }
  // Number or literal: up to the next delimiter.
  while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
         *p != '\n' && *p != '\r') {
    ++p;
  }
  return p;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Four hex digits at s[i..i+4), or -1.
long hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  long v = 0;
  for (size_t k = 0; k < 4; ++k) {
    const int h = hex_value(s[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

void decode_string(std::string_view raw, std::string& out) {
  size_t i = 0;
  while (i < raw.size()) {
    const size_t bs = raw.find('\\', i);
    if (bs == std::string_view::npos) {
      out.append(raw.substr(i));
      return;
    }
    out.append(raw.substr(i, bs - i));
    if (bs + 1 >= raw.size()) return;  // a dangling backslash: dropped
    const char e = raw[bs + 1];
    i = bs + 2;
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        const long hi = hex4(raw, i);
        if (hi < 0) {
          out.append("\xEF\xBF\xBD");
          break;
        }
        i += 4;
        auto cp = static_cast<uint32_t>(hi);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate counts only with a low surrogate right after it.
          const long lo = (i + 1 < raw.size() && raw[i] == '\\' && raw[i + 1] == 'u')
                              ? hex4(raw, i + 2)
                              : -1;
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e); break;  // \" \\ \/ and anything else: the byte itself
    }
  }
}

}  // namespace logship::processors::json_scan
