// Tests for trace/span id normalisation and traceparent parsing/finding.

#include "parsers/json/trace_context.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

namespace {

using logship::json::find_traceparent;
using logship::json::normalize_span_id;
using logship::json::normalize_trace_id;
using logship::json::parse_traceparent;
using logship::json::TraceContext;

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpan = "00f067aa0ba902b7";
// The W3C Trace Context specification's example header.
constexpr std::string_view kHeader = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string sv(const std::array<char, 32>& a) { return std::string(a.data(), a.size()); }
std::string sv(const std::array<char, 16>& a) { return std::string(a.data(), a.size()); }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string header(std::string_view version, std::string_view trace, std::string_view span,
                   std::string_view flags) {
  return std::string(version) + "-" + std::string(trace) + "-" + std::string(span) + "-" + std::string(flags);
}

}  // namespace

TEST_CASE("normalize_trace_id accepts 32 hex and lowercases", "[json][trace]") {
  std::array<char, 32> out{};
  REQUIRE(normalize_trace_id(kTrace, out));
  CHECK(sv(out) == kTrace);
  REQUIRE(normalize_trace_id(upper(kTrace), out));
  CHECK(sv(out) == kTrace);
  REQUIRE(normalize_trace_id("4BF92f3577B34DA6a3ce929d0e0e4736", out));
  CHECK(sv(out) == kTrace);
  REQUIRE(normalize_trace_id("00000000000000000000000000000001", out));
  CHECK(sv(out) == "00000000000000000000000000000001");
}

TEST_CASE("normalize_trace_id pads 16-hex B3 ids", "[json][trace]") {
  std::array<char, 32> out{};
  REQUIRE(normalize_trace_id("A3CE929D0E0E4736", out));
  CHECK(sv(out) == "0000000000000000a3ce929d0e0e4736");
}

TEST_CASE("normalize_trace_id rejects bad ids and leaves out untouched", "[json][trace]") {
  std::array<char, 32> out{};
  out.fill('x');
  const std::string bad[] = {
      "",
      "4bf92f3577b34da6a3ce929d0e0e473",    // 31
      "4bf92f3577b34da6a3ce929d0e0e47366",  // 33
      "a3ce929d0e0e473",                    // 15
      "a3ce929d0e0e47366",                  // 17
      "00000000000000000000000000000000",   // all zero
      "0000000000000000",                   // all zero B3
      "4bf92f3577b34da6a3ce929d0e0e473g",   // non-hex last
      "gbf92f3577b34da6a3ce929d0e0e4736",   // non-hex first
      "4bf92f3577b34da6-3ce929d0e0e4736",   // dash
      "4bf92f3577b34da6 3ce929d0e0e4736",   // space
      "a3ce929d0e0e473Z",                   // non-hex B3
      "4bf92f35-7b34-da6a-3ce9-29d0e0e4",   // UUID-ish
  };
  for (const std::string& s : bad) {
    INFO("input '" << s << "'");
    CHECK_FALSE(normalize_trace_id(s, out));
    CHECK(sv(out) == std::string(32, 'x'));
  }
}

TEST_CASE("normalize_span_id", "[json][trace]") {
  std::array<char, 16> out{};
  REQUIRE(normalize_span_id(kSpan, out));
  CHECK(sv(out) == kSpan);
  REQUIRE(normalize_span_id("00F067AA0BA902B7", out));
  CHECK(sv(out) == kSpan);

  out.fill('x');
  const std::string bad[] = {"",
                             "00f067aa0ba902b",    // 15
                             "00f067aa0ba902b77",  // 17
                             "0000000000000000",   // all zero
                             "00f067aa0ba902bg",   // non-hex
                             std::string(kTrace)};  // a trace id is too long
  for (const std::string& s : bad) {
    INFO("input '" << s << "'");
    CHECK_FALSE(normalize_span_id(s, out));
    CHECK(sv(out) == std::string(16, 'x'));
  }
}

TEST_CASE("parse_traceparent: the W3C example", "[json][trace]") {
  TraceContext tc;
  REQUIRE(parse_traceparent(kHeader, tc));
  CHECK(tc.has_trace);
  CHECK(tc.has_span);
  CHECK(tc.trace() == kTrace);
  CHECK(tc.span() == kSpan);
}

TEST_CASE("parse_traceparent: upper case is normalised", "[json][trace]") {
  TraceContext tc;
  REQUIRE(parse_traceparent(upper(kHeader), tc));
  CHECK(tc.trace() == kTrace);
  CHECK(tc.span() == kSpan);
}

TEST_CASE("parse_traceparent: versions", "[json][trace]") {
  TraceContext tc;
  CHECK_FALSE(parse_traceparent(header("ff", kTrace, kSpan, "01"), tc));
  CHECK_FALSE(parse_traceparent(header("FF", kTrace, kSpan, "01"), tc));
  CHECK_FALSE(parse_traceparent(header("0g", kTrace, kSpan, "01"), tc));
  // Version 00 is exactly 55 chars.
  CHECK_FALSE(parse_traceparent(std::string(kHeader) + "-extra", tc));
  CHECK_FALSE(parse_traceparent(std::string(kHeader) + " ", tc));
  // Later versions may append fields, but only after a '-'.
  CHECK(parse_traceparent(header("01", kTrace, kSpan, "01") + "-extra", tc));
  CHECK(parse_traceparent(header("cc", kTrace, kSpan, "09"), tc));
  CHECK_FALSE(parse_traceparent(header("01", kTrace, kSpan, "01") + "extra", tc));
  CHECK(tc.trace() == kTrace);
}

TEST_CASE("parse_traceparent: malformed shapes", "[json][trace]") {
  TraceContext tc;
  std::string h(kHeader);
  CHECK_FALSE(parse_traceparent(h.substr(0, 54), tc));
  CHECK_FALSE(parse_traceparent("", tc));
  for (std::size_t dash : {2u, 35u, 52u}) {
    std::string b = h;
    b[dash] = '_';
    INFO("dash at " << dash);
    CHECK_FALSE(parse_traceparent(b, tc));
  }
  // A non-hex character in each field.
  for (std::size_t pos : {0u, 1u, 3u, 20u, 34u, 36u, 51u, 53u, 54u}) {
    std::string b = h;
    b[pos] = 'z';
    INFO("bad char at " << pos);
    CHECK_FALSE(parse_traceparent(b, tc));
  }
  CHECK_FALSE(tc.has_trace);  // untouched throughout
  CHECK_FALSE(tc.has_span);
}

TEST_CASE("parse_traceparent: all-zero ids are left out", "[json][trace]") {
  TraceContext tc;
  REQUIRE(parse_traceparent(header("00", std::string(32, '0'), kSpan, "01"), tc));
  CHECK_FALSE(tc.has_trace);
  CHECK(tc.trace().empty());
  CHECK(tc.span() == kSpan);

  // A previous result is overwritten, not merged.
  REQUIRE(parse_traceparent(header("00", kTrace, std::string(16, '0'), "01"), tc));
  CHECK(tc.trace() == kTrace);
  CHECK_FALSE(tc.has_span);
  CHECK(tc.span().empty());

  // Both zero: nothing usable, out untouched.
  CHECK_FALSE(parse_traceparent(header("00", std::string(32, '0'), std::string(16, '0'), "01"), tc));
  CHECK(tc.trace() == kTrace);
}

TEST_CASE("find_traceparent: found in free text", "[json][trace]") {
  const std::string prefixes[] = {"", "GET /api traceparent=", "msg=\"x\" tp:", "[", "\""};
  const std::string suffixes[] = {"", " status=200", "\"", "]", "-xyz", ";"};
  for (const std::string& p : prefixes) {
    for (const std::string& s : suffixes) {
      const std::string line = p + std::string(kHeader) + s;
      INFO("line " << line);
      const TraceContext tc = find_traceparent(line);
      CHECK(tc.trace() == kTrace);
      CHECK(tc.span() == kSpan);
    }
  }
}

TEST_CASE("find_traceparent: upper case, and the first one wins", "[json][trace]") {
  const std::string second = header("00", "11111111111111111111111111111111", "2222222222222222", "00");
  const TraceContext tc = find_traceparent("a=" + upper(kHeader) + " b=" + second);
  CHECK(tc.trace() == kTrace);
  CHECK(tc.span() == kSpan);

  const TraceContext tc2 = find_traceparent("b=" + second + " a=" + std::string(kHeader));
  CHECK(tc2.trace() == "11111111111111111111111111111111");
  CHECK(tc2.span() == "2222222222222222");
}

TEST_CASE("find_traceparent: none present", "[json][trace]") {
  CHECK_FALSE(find_traceparent("").has_trace);
  CHECK_FALSE(find_traceparent("short").has_trace);
  const TraceContext tc = find_traceparent(
      "2024-05-01T10:00:00Z INFO request-id=4bf92f35-77b3-4da6-a3ce-929d0e0e4736 done in 12ms ---- ok");
  CHECK_FALSE(tc.has_trace);
  CHECK_FALSE(tc.has_span);
  CHECK_FALSE(find_traceparent(std::string(10000, '-')).has_trace);
}

TEST_CASE("find_traceparent: malformed or glued candidates are skipped", "[json][trace]") {
  const std::string h(kHeader);
  // Glued to a word on either side.
  CHECK_FALSE(find_traceparent("x" + h).has_trace);
  CHECK_FALSE(find_traceparent("9" + h).has_trace);
  CHECK_FALSE(find_traceparent(h + "a").has_trace);
  CHECK_FALSE(find_traceparent(h + "0").has_trace);
  // A bad character inside.
  std::string b = h;
  b[10] = 'x';
  CHECK_FALSE(find_traceparent("tp=" + b + " end").has_trace);
  // Truncated.
  CHECK_FALSE(find_traceparent("tp=" + h.substr(0, 54)).has_trace);
  // Invalid version or all-zero ids, followed by a valid one: the valid one is found.
  const std::string zero = header("00", std::string(32, '0'), std::string(16, '0'), "01");
  const TraceContext tc = find_traceparent(header("ff", kTrace, kSpan, "01") + " " + zero + " " +
                                           header("00", "abcdefabcdefabcdefabcdefabcdef12", kSpan, "01"));
  CHECK(tc.trace() == "abcdefabcdefabcdefabcdefabcdef12");
}

TEST_CASE("find_traceparent: a long adversarial line stays correct", "[json][trace]") {
  // Many near-misses (bad flags) sharing the dash layout, then a real one at
  // the very end. A quadratic scan would take minutes here.
  const std::string near_miss = header("00", kTrace, kSpan, "0g") + " ";
  std::string line;
  for (int i = 0; i < 20000; ++i) line += near_miss;
  line += std::string(200000, '-');
  line += ' ';
  line += header("00", "0123456789abcdef0123456789abcdef", kSpan, "01");
  const TraceContext tc = find_traceparent(line);
  CHECK(tc.trace() == "0123456789abcdef0123456789abcdef");
}
