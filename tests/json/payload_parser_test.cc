// Tests for PayloadParser: object detection and trace-context extraction.

#include "parsers/json/payload_parser.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace {

using logship::json::kPadding;
using logship::json::PayloadParser;

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpan = "00f067aa0ba902b7";
constexpr std::string_view kHeader = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// A payload followed by kPadding bytes of slack, as the parse() contract
// requires. The slack is filled with `fill` to show that its content is never
// taken as part of the payload.
class Padded {
 public:
  explicit Padded(std::string_view text, char fill = '\0') : len_(text.size()) {
    buf_.reserve(text.size() + kPadding);
    buf_.assign(text);
    buf_.append(kPadding, fill);
  }
  Padded(const Padded&) = delete;
  Padded& operator=(const Padded&) = delete;

  [[nodiscard]] std::string_view view() const { return {buf_.data(), len_}; }

 private:
  std::string buf_;
  std::size_t len_;
};

PayloadParser::Parsed parse_once(PayloadParser& parser, const Padded& p) { return parser.parse(p.view()); }

std::string obj(std::string_view body) { return "{" + std::string(body) + "}"; }
std::string field(std::string_view key, std::string_view value) {
  return "\"" + std::string(key) + "\":\"" + std::string(value) + "\"";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Distinct ids, one per spelling, so a test can tell which field won.
std::string two_digits(int n) {
  return {static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)};
}
std::string trace_n(int n) { return std::string(30, 'a') + two_digits(n); }
std::string span_n(int n) { return std::string(14, 'b') + two_digits(n); }

}  // namespace

TEST_CASE("parse: objects are recognised and passed through", "[json][payload]") {
  PayloadParser parser;
  const std::string inputs[] = {
      "{}",
      R"({"a":1})",
      R"({"msg":"hello","level":"info","n":[1,2,{"x":null}],"ok":true})",
      R"({"nested":{"deep":{"deeper":"x"}}})",
  };
  for (const std::string& in : inputs) {
    const Padded p(in);
    const auto r = parse_once(parser, p);
    INFO("input " << in);
    CHECK(r.is_object);
    CHECK(r.object == in);
    CHECK(r.object.data() == p.view().data());  // a view of the input, not a copy
    CHECK_FALSE(r.trace.has_trace);
  }
}

TEST_CASE("parse: surrounding JSON whitespace is trimmed from the view", "[json][payload]") {
  PayloadParser parser;
  const std::string body = R"({ "a" : "b" ,  "c":[ ] })";
  const std::string in = " \t\r\n" + body + "\n\r\t ";
  const Padded p(in);
  const auto r = parse_once(parser, p);
  REQUIRE(r.is_object);
  CHECK(r.object == body);
  CHECK(r.object.data() == p.view().data() + 4);
  CHECK(r.object.size() == body.size());
}

TEST_CASE("parse: non-objects are text", "[json][payload]") {
  PayloadParser parser;
  const std::string inputs[] = {
      "",
      "   \t\n",
      "plain text line",
      "[1,2,3]",
      "[{\"a\":1}]",
      "\"a string\"",
      "42",
      "true",
      "null",
      "{",
      "}",
      "{not json}",
      R"({"a":})",
      R"({"a":1,})",
      R"({"a" 1})",
      R"({"a":1} {"b":2})",     // two documents
      R"({"a":1}})",            // stray brace
      "{\"a\":1}\f",            // form feed is not JSON whitespace
      "\v{\"a\":1}",            // neither is vertical tab
      "{\"m\":\"\xFF\"}",       // invalid UTF-8 in a string
      "{\"m\":\"\xED\xA0\x80\"}",  // UTF-8 encoded surrogate
      "{\"m\":\"a\nb\"}",       // raw control character in a string
      "{\"\xC3\":1}",           // truncated UTF-8 in a key
  };
  for (const std::string& in : inputs) {
    const Padded p(in);
    const auto r = parse_once(parser, p);
    INFO("input " << in);
    CHECK_FALSE(r.is_object);
    CHECK(r.object.empty());
    CHECK_FALSE(r.trace.has_trace);
    CHECK_FALSE(r.trace.has_span);
  }
}

TEST_CASE("parse: bytes in the padding are never read as payload", "[json][payload]") {
  PayloadParser parser;
  // Unterminated string: if the parser looked past the end it would find
  // the closing `"}` in the padding and accept the object.
  const std::string in = R"({"a":"x})";
  const Padded p(in, '"');
  CHECK_FALSE(parse_once(parser, p).is_object);
  const Padded q(in, '}');
  CHECK_FALSE(parse_once(parser, q).is_object);
  // And a valid object is not spoiled by garbage after it.
  const Padded ok(R"({"a":"x"})", '\xFF');
  CHECK(parse_once(parser, ok).is_object);
}

TEST_CASE("parse: text falls back to find_traceparent", "[json][payload]") {
  PayloadParser parser;
  const Padded text("GET /x 200 traceparent=" + std::string(kHeader) + " 3ms");
  auto r = parse_once(parser, text);
  CHECK_FALSE(r.is_object);
  CHECK(r.trace.trace() == kTrace);
  CHECK(r.trace.span() == kSpan);

  // Invalid JSON (trailing comma) is treated as text, so the header inside
  // is still found.
  const Padded broken(R"({"traceparent":")" + std::string(kHeader) + R"(",})");
  r = parse_once(parser, broken);
  CHECK_FALSE(r.is_object);
  CHECK(r.trace.trace() == kTrace);

  const Padded none("nothing to see here");
  r = parse_once(parser, none);
  CHECK_FALSE(r.trace.has_trace);
  CHECK_FALSE(r.trace.has_span);
}

TEST_CASE("parse: a valid object does not fall back to free-text search", "[json][payload]") {
  // The header is only inside a message, not in a trace field.
  PayloadParser parser;
  const Padded p(obj(field("msg", "tp=" + std::string(kHeader))));
  const auto r = parse_once(parser, p);
  CHECK(r.is_object);
  CHECK_FALSE(r.trace.has_trace);
}

TEST_CASE("parse: every trace and span spelling", "[json][payload]") {
  struct Case {
    const char* key;
    bool is_trace;
  };
  const Case cases[] = {
      {"trace_id", true}, {"traceId", true}, {"traceID", true}, {"trace.id", true},
      {"span_id", false}, {"spanId", false}, {"spanID", false}, {"span.id", false},
      {"logging.googleapis.com/spanId", false},
  };
  PayloadParser parser;
  for (const Case& c : cases) {
    const std::string id(c.is_trace ? kTrace : kSpan);
    const Padded p(obj(R"("msg":"x",)" + field(c.key, id) + R"(,"n":1)"));
    const auto r = parse_once(parser, p);
    INFO("key " << c.key);
    REQUIRE(r.is_object);
    CHECK(r.trace.has_trace == c.is_trace);
    CHECK(r.trace.has_span == !c.is_trace);
    CHECK((c.is_trace ? r.trace.trace() : r.trace.span()) == id);
  }
}

TEST_CASE("parse: traceparent field gives both ids", "[json][payload]") {
  PayloadParser parser;
  const Padded p(obj(field("traceparent", kHeader)));
  const auto r = parse_once(parser, p);
  REQUIRE(r.is_object);
  CHECK(r.trace.trace() == kTrace);
  CHECK(r.trace.span() == kSpan);
}

TEST_CASE("parse: ECS nested ids", "[json][payload]") {
  PayloadParser parser;
  const Padded p(R"({"@timestamp":"t","trace":{"x":1,"id":")" + std::string(kTrace) + R"("},"span":{"id":")" +
                 std::string(kSpan) + R"("}})");
  const auto r = parse_once(parser, p);
  REQUIRE(r.is_object);
  CHECK(r.trace.trace() == kTrace);
  CHECK(r.trace.span() == kSpan);

  // Non-object or non-string forms are ignored.
  const Padded q(R"({"trace":"4bf92f3577b34da6a3ce929d0e0e4736","span":{"id":123}})");
  const auto s = parse_once(parser, q);
  REQUIRE(s.is_object);
  CHECK_FALSE(s.trace.has_trace);
  CHECK_FALSE(s.trace.has_span);
}

TEST_CASE("parse: Google Cloud Logging fields", "[json][payload]") {
  PayloadParser parser;
  const std::string google_trace = "projects/my-proj-1/traces/" + std::string(kTrace);
  const Padded p(obj(field("logging.googleapis.com/trace", google_trace) + "," +
                     field("logging.googleapis.com/spanId", kSpan)));
  auto r = parse_once(parser, p);
  REQUIRE(r.is_object);
  CHECK(r.trace.trace() == kTrace);
  CHECK(r.trace.span() == kSpan);

  const Padded bare(obj(field("logging.googleapis.com/trace", upper(kTrace))));
  r = parse_once(parser, bare);
  CHECK(r.trace.trace() == kTrace);

  const std::string malformed[] = {
      "projects//traces/" + std::string(kTrace),
      "projects/p/spans/" + std::string(kTrace),
      "projects/p/traces/" + std::string(kTrace) + "/x",
      "projects/p/traces/",
      "projects/" + std::string(kTrace),
  };
  for (const std::string& m : malformed) {
    const Padded bad(obj(field("logging.googleapis.com/trace", m)));
    r = parse_once(parser, bad);
    INFO("value " << m);
    REQUIRE(r.is_object);
    CHECK_FALSE(r.trace.has_trace);
  }
}

namespace {

// One field per spelling, in priority order; id n is trace_n(n)/span_n(n).
std::string trace_field(int priority) {
  const std::string id = trace_n(priority);
  switch (priority) {
    case 0: return field("trace_id", id);
    case 1: return field("traceId", id);
    case 2: return field("traceID", id);
    case 3: return field("traceparent", "00-" + id + "-" + span_n(99) + "-01");
    case 4: return R"("trace":{"id":")" + id + R"("})";
    case 5: return field("trace.id", id);
    default: return field("logging.googleapis.com/trace", "projects/p/traces/" + id);
  }
}

std::string span_field(int priority) {
  const std::string id = span_n(priority);
  switch (priority) {
    case 0: return field("span_id", id);
    case 1: return field("spanId", id);
    case 2: return field("spanID", id);
    case 3: return field("traceparent", "00-" + trace_n(99) + "-" + id + "-01");
    case 4: return R"("span":{"id":")" + id + R"("})";
    case 5: return field("span.id", id);
    default: return field("logging.googleapis.com/spanId", id);
  }
}

}  // namespace

TEST_CASE("parse: trace id priority does not depend on key order", "[json][payload]") {
  PayloadParser parser;
  for (int best = 0; best <= 6; ++best) {
    // Lowest priority first in the object, so "first key seen" would be wrong.
    std::string body = R"("msg":"m")";
    for (int i = 6; i >= best; --i) body.append(",").append(trace_field(i));
    const Padded p(obj(body));
    const auto r = parse_once(parser, p);
    INFO("best " << best << " in " << p.view());
    REQUIRE(r.is_object);
    CHECK(r.trace.trace() == trace_n(best));
  }
}

TEST_CASE("parse: span id priority does not depend on key order", "[json][payload]") {
  PayloadParser parser;
  for (int best = 0; best <= 6; ++best) {
    std::string body = R"("msg":"m")";
    for (int i = 6; i >= best; --i) body.append(",").append(span_field(i));
    const Padded p(obj(body));
    const auto r = parse_once(parser, p);
    INFO("best " << best << " in " << p.view());
    REQUIRE(r.is_object);
    CHECK(r.trace.span() == span_n(best));
  }
}

TEST_CASE("parse: explicit span field beats traceparent, traceparent trace still used", "[json][payload]") {
  PayloadParser parser;
  const Padded p(obj(field("traceparent", kHeader) + "," + field("span_id", span_n(7))));
  const auto r = parse_once(parser, p);
  CHECK(r.trace.trace() == kTrace);
  CHECK(r.trace.span() == span_n(7));
}

TEST_CASE("parse: ids are normalised; B3 ids are padded", "[json][payload]") {
  PayloadParser parser;
  const Padded p(obj(field("traceId", upper(kTrace)) + "," + field("spanId", upper(kSpan))));
  auto r = parse_once(parser, p);
  CHECK(r.trace.trace() == kTrace);
  CHECK(r.trace.span() == kSpan);

  const Padded b3(obj(field("traceId", "A3CE929D0E0E4736")));
  r = parse_once(parser, b3);
  CHECK(r.trace.trace() == "0000000000000000a3ce929d0e0e4736");
}

TEST_CASE("parse: invalid ids are omitted and lower priorities used", "[json][payload]") {
  PayloadParser parser;
  const std::string invalid_traces[] = {"",
                                        "xyz",
                                        std::string(32, '0'),
                                        std::string(16, '0'),
                                        std::string(31, 'a'),
                                        std::string(32, 'g'),
                                        std::string(kTrace) + " "};
  for (const std::string& bad : invalid_traces) {
    INFO("bad trace '" << bad << "'");
    const Padded alone(obj(field("trace_id", bad) + "," + field("span_id", bad)));
    auto r = parse_once(parser, alone);
    REQUIRE(r.is_object);
    CHECK_FALSE(r.trace.has_trace);
    CHECK_FALSE(r.trace.has_span);
    CHECK(r.trace.trace().empty());

    const Padded fallback(obj(field("trace_id", bad) + "," + field("trace.id", kTrace) + "," +
                              field("span_id", bad) + "," + field("span.id", kSpan)));
    r = parse_once(parser, fallback);
    CHECK(r.trace.trace() == kTrace);
    CHECK(r.trace.span() == kSpan);
  }
}

TEST_CASE("parse: non-string values are ignored", "[json][payload]") {
  PayloadParser parser;
  const std::string values[] = {"123",
                                "4.5e10",
                                "null",
                                "true",
                                R"({"id":"4bf92f3577b34da6a3ce929d0e0e4736"})",
                                R"(["4bf92f3577b34da6a3ce929d0e0e4736"])"};
  for (const std::string& v : values) {
    INFO("value " << v);
    std::string body;
    for (const char* key : {"trace_id", "traceparent", "trace.id", "logging.googleapis.com/trace",
                            "span_id", "span.id", "logging.googleapis.com/spanId"}) {
      if (!body.empty()) body += ',';
      body.append("\"").append(key).append("\":").append(v);
    }
    const Padded p(obj(body));
    auto r = parse_once(parser, p);
    REQUIRE(r.is_object);
    CHECK_FALSE(r.trace.has_trace);
    CHECK_FALSE(r.trace.has_span);

    // ...and do not block a valid lower-priority field.
    const Padded q("{\"trace_id\":" + v + "," + field("traceID", kTrace) + "}");
    r = parse_once(parser, q);
    CHECK(r.trace.trace() == kTrace);
  }
}

TEST_CASE("parse: only top-level fields count", "[json][payload]") {
  PayloadParser parser;
  const Padded p(obj(R"("ctx":)" + obj(field("trace_id", kTrace) + "," + field("span_id", kSpan))));
  const auto r = parse_once(parser, p);
  REQUIRE(r.is_object);
  CHECK_FALSE(r.trace.has_trace);
  CHECK_FALSE(r.trace.has_span);
}

TEST_CASE("parse: keys are compared after JSON unescaping; first duplicate wins", "[json][payload]") {
  PayloadParser parser;
  const Padded escaped(obj(field(R"(trace\u005fid)", kTrace)));
  auto r = parse_once(parser, escaped);
  REQUIRE(r.is_object);
  CHECK(r.trace.trace() == kTrace);

  const Padded dup(obj(field("trace_id", trace_n(1)) + "," + field("trace_id", trace_n(2))));
  r = parse_once(parser, dup);
  CHECK(r.trace.trace() == trace_n(1));
}

TEST_CASE("parse: results outlive later parses; buffers grow and shrink", "[json][payload]") {
  PayloadParser parser;
  const std::string small = obj(field("trace_id", trace_n(1)));
  const Padded p1(small);
  const auto r1 = parse_once(parser, p1);

  // Bigger than the initial capacity, so the parser must grow.
  const std::string big = obj(field("msg", std::string(200000, 'x')) + "," + field("trace_id", trace_n(2)));
  const Padded p2(big);
  const auto r2 = parse_once(parser, p2);
  REQUIRE(r2.is_object);
  CHECK(r2.object.size() == big.size());
  CHECK(r2.trace.trace() == trace_n(2));

  const Padded p3(obj(field("trace_id", trace_n(3))));
  const auto r3 = parse_once(parser, p3);
  CHECK(r3.trace.trace() == trace_n(3));

  CHECK(r1.is_object);
  CHECK(r1.object == small);
  CHECK(r1.trace.trace() == trace_n(1));
}

TEST_CASE("parse: move construction and assignment", "[json][payload]") {
  const Padded p(obj(field("trace_id", kTrace)));
  PayloadParser a;
  CHECK(a.parse(p.view()).trace.trace() == kTrace);
  PayloadParser b(std::move(a));
  CHECK(b.parse(p.view()).trace.trace() == kTrace);
  PayloadParser c;
  c = std::move(b);
  CHECK(c.parse(p.view()).is_object);
  // Moved-from parsers stay usable.
  CHECK(a.parse(p.view()).trace.trace() == kTrace);  // NOLINT(bugprone-use-after-move)
  CHECK(b.parse(p.view()).is_object);                // NOLINT(bugprone-use-after-move)
}
