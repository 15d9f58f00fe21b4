// Tests for append_string and utf8_cut.
//
// simdjson serves as an independent oracle: every escaper output is parsed
// back as a JSON document, which proves it is valid JSON and valid UTF-8, and
// lets valid input be checked for an exact round trip.

#include "agent/core/json_string.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <string_view>

namespace {

using logship::json::append_string;
using logship::json::utf8_cut;

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::string escaped(std::string_view in) {
  std::string out;
  append_string(out, in);
  return out;
}

// Parses `literal` (a JSON string literal) with simdjson; fails the test if
// it is not valid JSON. Returns the decoded bytes.
std::string decode(const std::string& literal) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(literal);
  std::string_view s;
  const auto err = parser.parse(padded).get_string().get(s);
  INFO("literal: " << literal);
  REQUIRE(err == simdjson::SUCCESS);
  return std::string(s);
}

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Encodes a code point as UTF-8 (test-side encoder, independent of the code
// under test).
std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Random valid UTF-8 mixing ASCII (with characters that need escaping) and
// 2-, 3- and 4-byte characters.
std::string random_valid(std::mt19937& rng, int chars) {
  std::string s;
  for (int i = 0; i < chars; ++i) {
    switch (rng() % 6) {
      case 0: s += static_cast<char>(rng() % 0x80); break;  // any ASCII, controls included
      case 1:
      case 2: s += static_cast<char>(0x20 + rng() % 0x5F); break;  // printable
      case 3: s += utf8(0x80 + rng() % (0x800 - 0x80)); break;
      case 4: {
        char32_t cp = 0x800 + rng() % (0x10000 - 0x800);
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000;  // no surrogates
        s += utf8(cp);
        break;
      }
      default: s += utf8(0x10000 + rng() % (0x110000 - 0x10000)); break;
    }
  }
  return s;
}

}  // namespace

TEST_CASE("append_string: plain text is quoted and copied", "[json][json_string]") {
  CHECK(escaped("") == R"("")");
  CHECK(escaped("hello world") == R"("hello world")");
  CHECK(escaped("a/b") == R"("a/b")");  // '/' needs no escape
  CHECK(escaped("~ !#$%&'()*+,-.:;<=>?@[]^_`{|}") == R"("~ !#$%&'()*+,-.:;<=>?@[]^_`{|}")");
}

TEST_CASE("append_string: appends to existing content", "[json][json_string]") {
  std::string out = R"({"k":)";
  append_string(out, "v\n");
  out += ',';
  append_string(out, "w");
  CHECK(out == R"({"k":"v\n","w")");
}

TEST_CASE("append_string: every control character is escaped", "[json][json_string]") {
  for (int c = 0; c < 0x20; ++c) {
    std::string expected;
    switch (c) {
      case '\b': expected = "\\b"; break;
      case '\f': expected = "\\f"; break;
      case '\n': expected = "\\n"; break;
      case '\r': expected = "\\r"; break;
      case '\t': expected = "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        expected = buf;
      }
    }
    const std::string in(1, static_cast<char>(c));
    INFO("byte " << c);
    CHECK(escaped(in) == "\"" + expected + "\"");
    CHECK(decode(escaped(in)) == in);
  }
}

TEST_CASE("append_string: quote, backslash and DEL are escaped", "[json][json_string]") {
  CHECK(escaped("\"") == R"("\"")");
  CHECK(escaped("\\") == R"("\\")");
  CHECK(escaped("\x7f") == R"("\u007f")");
  CHECK(escaped("say \"hi\" C:\\dir\x7f") == R"("say \"hi\" C:\\dir\u007f")");
}

TEST_CASE("append_string: escapes found at every offset and length", "[json][json_string]") {
  // The fast path scans 16 bytes at a time (SSE2), then 8 (SWAR), then single
  // bytes. Put each special byte at every position of inputs of every length
  // up to 48, next to bytes close to the detection thresholds, so a wrong
  // lane, a carry across lanes or a mishandled remainder would show. A second
  // special byte at the end checks that scanning resumes correctly.
  const std::string specials[] = {"\"", "\\", "\x7f", "\x1f", std::string(1, '\0'), "\n"};
  const std::string expected_escape[] = {"\\\"", "\\\\", "\\u007f", "\\u001f", "\\u0000", "\\n"};
  const std::string fillers[] = {"a", " ", "!", "#", "[", "]", "~", "\xC3\xA9", "\xF4\x8F\xBF\xBF"};
  for (std::size_t k = 0; k < std::size(specials); ++k) {
    for (const std::string& filler : fillers) {
      for (int n = 0; n <= 48; ++n) {
        for (int pos = 0; pos <= n; ++pos) {
          const std::string in = repeat(filler, pos) + specials[k] + repeat(filler, n - pos) + specials[k];
          std::string expected = "\"";
          expected += repeat(filler, pos) + expected_escape[k];
          expected += repeat(filler, n - pos) + expected_escape[k] + "\"";
          INFO("special " << k << " filler " << filler << " n " << n << " pos " << pos);
          REQUIRE(escaped(in) == expected);
        }
      }
    }
  }
}

TEST_CASE("append_string: valid multi-byte UTF-8 is kept", "[json][json_string]") {
  const std::string cases[] = {
      "\xC2\x80",          // U+0080, smallest 2-byte
      "\xC3\xA9",          // é
      "\xDF\xBF",          // U+07FF
      "\xE0\xA0\x80",      // U+0800, smallest 3-byte
      "\xE2\x82\xAC",      // €
      "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
      "\xEE\x80\x80",      // U+E000, just above the surrogates
      "\xEF\xBF\xBF",      // U+FFFF
      "\xF0\x90\x80\x80",  // U+10000, smallest 4-byte
      "\xF0\x9F\x98\x80",  // 😀
      "\xF4\x8F\xBF\xBF",  // U+10FFFF, the largest code point
      "h\xC3\xA9llo w\xC3\xB6rld \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x9A\x80",
  };
  for (const std::string& in : cases) {
    INFO("input " << in);
    CHECK(escaped(in) == "\"" + in + "\"");
  }
}

TEST_CASE("append_string: invalid UTF-8 becomes U+FFFD per maximal subpart", "[json][json_string]") {
  const std::string r(kFffd);
  struct Case {
    const char* what;
    std::string in;
    std::string out;  // expected body, without the quotes
  };
  const Case cases[] = {
      {"stray continuation", "\x80", r},
      {"stray continuation between ASCII", "a\x80z", "a" + r + "z"},
      {"two stray continuations", "\x80\xBF", r + r},
      {"C0 overlong", "\xC0\xAF", r + r},
      {"C1 overlong", "\xC1\xBF", r + r},
      {"3-byte overlong", "\xE0\x80\xAF", r + r + r},
      {"3-byte overlong high", "\xE0\x9F\xBF", r + r + r},
      {"4-byte overlong", "\xF0\x80\x80\xAF", r + r + r + r},
      {"4-byte overlong high", "\xF0\x8F\xBF\xBF", r + r + r + r},
      {"high surrogate", "\xED\xA0\x80", r + r + r},
      {"low surrogate", "\xED\xBF\xBF", r + r + r},
      {"above U+10FFFF", "\xF4\x90\x80\x80", r + r + r + r},
      {"F5 lead", "\xF5\x80\x80\x80", r + r + r + r},
      {"FE", "\xFE", r},
      {"FF", "\xFF", r},
      {"truncated 2-byte at end", "ab\xC3", "ab" + r},
      {"truncated 2-byte before ASCII", "\xC3 x", r + " x"},
      {"truncated 3-byte at end", "\xE2\x82", r},
      {"truncated 3-byte before ASCII", "\xE2\x82" "a", r + "a"},
      {"truncated 4-byte at end", "\xF0\x9F\x98", r},
      {"truncated 4-byte before valid 2-byte", "\xF0\x9F\xC3\xA9", r + "\xC3\xA9"},
      {"lead followed by lead", "\xE2\xE2\x82\xAC", r + "\xE2\x82\xAC"},
      // Unicode Standard, Table 3-8 example.
      {"Table 3-8", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
       "a" + r + r + r + "b" + r + "c" + r + r + "d"},
      {"escapes on the repair path", "\xFF\n\"\\\x7f\x01", r + "\\n\\\"\\\\\\u007f\\u0001"},
      {"valid text around garbage", "caf\xC3\xA9 \xFF \xE2\x82\xAC", "caf\xC3\xA9 " + r + " \xE2\x82\xAC"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string out = escaped(c.in);
    CHECK(out == "\"" + c.out + "\"");
    CHECK(valid_utf8(out));
    decode(out);
  }
}

TEST_CASE("append_string: every 1- and 2-byte input gives valid JSON", "[json][json_string]") {
  for (int a = 0; a < 256; ++a) {
    for (int b = -1; b < 256; ++b) {
      std::string in(1, static_cast<char>(a));
      if (b >= 0) in += static_cast<char>(b);
      const std::string decoded = decode(escaped(in));
      INFO("bytes " << a << " " << b);
      REQUIRE(valid_utf8(decoded));
      if (valid_utf8(in)) {
        REQUIRE(decoded == in);
      } else {
        REQUIRE(decoded.find(kFffd) != std::string::npos);
      }
    }
  }
}

TEST_CASE("append_string: valid input round-trips exactly", "[json][json_string]") {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    const std::string in = random_valid(rng, static_cast<int>(rng() % 100));
    REQUIRE(valid_utf8(in));
    REQUIRE(decode(escaped(in)) == in);
  }
}

TEST_CASE("append_string: a bad byte costs exactly one U+FFFD and nothing else", "[json][json_string]") {
  // escaped(x + bad + y) must equal escaped(x) + FFFD + escaped(y) spliced: the
  // valid neighbours survive, and the repair path (taken for the whole input)
  // escapes exactly like the fast path used for x and y alone.
  std::mt19937 rng(777);
  const std::string bad_bytes[] = {"\x80", "\xBF", "\xC0", "\xC1",
                                   "\xF5", "\xFF", "\xE2\x82", "\xF0\x9F\x98"};
  for (int i = 0; i < 2000; ++i) {
    const std::string x = random_valid(rng, static_cast<int>(rng() % 40));
    std::string y = random_valid(rng, static_cast<int>(rng() % 40));
    const std::string& bad = bad_bytes[rng() % std::size(bad_bytes)];
    // A truncated lead followed by a continuation byte would legitimately
    // absorb it; start y with ASCII so the split is unambiguous.
    y.insert(0, 1, 'y');
    const std::string qx = escaped(x);
    const std::string qy = escaped(y);
    const std::string expected = qx.substr(0, qx.size() - 1) + std::string(kFffd) + qy.substr(1);
    INFO("case " << i);
    REQUIRE(escaped(x + bad + y) == expected);
  }
}

TEST_CASE("append_string: random bytes always give valid JSON and UTF-8", "[json][json_string]") {
  std::mt19937 rng(4242);
  for (int i = 0; i < 3000; ++i) {
    std::string in(rng() % 64, '\0');
    for (char& c : in) c = static_cast<char>(rng() & 0xFF);
    const std::string out = escaped(in);
    REQUIRE(valid_utf8(out));
    const std::string decoded = decode(out);
    REQUIRE(valid_utf8(decoded));
    if (valid_utf8(in)) REQUIRE(decoded == in);
  }
}

TEST_CASE("append_string: long input", "[json][json_string]") {
  const std::string line = repeat("the quick brown fox \xE2\x80\x94 jumps\t", 5000);
  const std::string out = escaped(line);
  CHECK(out.size() == line.size() + 5000 + 2);  // each \t becomes two bytes
  CHECK(decode(out) == line);
}

TEST_CASE("utf8_cut: ASCII cuts anywhere", "[json][utf8_cut]") {
  const std::string_view s = "hello";
  for (std::size_t k = 0; k <= 5; ++k) CHECK(utf8_cut(s, k) == k);
  CHECK(utf8_cut(s, 6) == 5);
  CHECK(utf8_cut(s, static_cast<std::size_t>(-1)) == 5);
  CHECK(utf8_cut("", 0) == 0);
  CHECK(utf8_cut("", 10) == 0);
}

TEST_CASE("utf8_cut: never splits a character", "[json][utf8_cut]") {
  const std::string_view two = "a\xC3\xA9" "b";  // a é b
  CHECK(utf8_cut(two, 1) == 1);
  CHECK(utf8_cut(two, 2) == 1);
  CHECK(utf8_cut(two, 3) == 3);
  CHECK(utf8_cut(two, 4) == 4);

  const std::string_view three = "\xE2\x82\xAC";  // €
  CHECK(utf8_cut(three, 0) == 0);
  CHECK(utf8_cut(three, 1) == 0);
  CHECK(utf8_cut(three, 2) == 0);
  CHECK(utf8_cut(three, 3) == 3);

  const std::string_view four = "x\xF0\x9F\x98\x80y";  // x 😀 y
  CHECK(utf8_cut(four, 1) == 1);
  CHECK(utf8_cut(four, 2) == 1);
  CHECK(utf8_cut(four, 3) == 1);
  CHECK(utf8_cut(four, 4) == 1);
  CHECK(utf8_cut(four, 5) == 5);
  CHECK(utf8_cut(four, 6) == 6);
}

TEST_CASE("utf8_cut: stray continuation bytes do not pull the cut back", "[json][utf8_cut]") {
  // 'a' is a complete character, so cutting inside the stray bytes splits
  // nothing valid; backing off to 'a' would drop bytes for no reason.
  CHECK(utf8_cut("a\x80\x80z", 2) == 2);
  CHECK(utf8_cut("a\x80\x80z", 1) == 1);
  // No lead byte within reach: left as is.
  CHECK(utf8_cut("\x80\x80\x80\x80\x80", 4) == 4);
  // A lead whose declared length does not reach the cut.
  CHECK(utf8_cut("\xC3\xA9\x80\x80", 3) == 3);
}

TEST_CASE("utf8_cut: largest valid cut on random text", "[json][utf8_cut]") {
  std::mt19937 rng(99);
  for (int i = 0; i < 300; ++i) {
    const std::string s = random_valid(rng, 30);
    for (std::size_t k = 0; k <= s.size() + 1; ++k) {
      const std::size_t n = utf8_cut(s, k);
      INFO("text " << s << " k " << k);
      REQUIRE(n <= k);
      REQUIRE(n <= s.size());
      REQUIRE(valid_utf8(std::string_view(s).substr(0, n)));
      // Maximal: no longer valid prefix up to k.
      for (std::size_t m = n + 1; m <= std::min(k, s.size()); ++m) {
        REQUIRE_FALSE(valid_utf8(std::string_view(s).substr(0, m)));
      }
    }
  }
}
