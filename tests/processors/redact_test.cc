#include "agent/processors/redact.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

#include "tests/processors/test_support.h"

using namespace logship;
using namespace logship::processors;
using logship::processors::testing::Collect;
using logship::processors::testing::Link;
using logship::processors::testing::make_record;
using logship::processors::testing::Padded;

namespace {

RedactConfig config(std::vector<std::string> keys = {"password", "passwd", "secret", "token",
                                                     "authorization", "api_key", "apikey",
                                                     "access_token", "refresh_token",
                                                     "client_secret", "cookie", "set-cookie"},
                    PatternSet patterns = kDefaultPatterns) {
  RedactConfig c;
  c.keys = KeySet(keys);
  c.patterns = patterns;
  return c;
}

bool valid_json(std::string_view s) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parser.parse(simdjson::padded_string(s)).get(doc) == simdjson::SUCCESS;
}

/// The redacted payload (or the input when unchanged). Also checks that the
/// pre-filter never changes the outcome and that JSON stays valid.
std::string redact(std::string_view payload, PayloadKind kind, const RedactConfig& c = config()) {
  const Padded p(payload);
  std::string out, reference;
  std::array<uint32_t, kRedactKindCount> counts{}, counts2{};
  const bool changed = redact_payload(p.view(), kind, c, out, counts);
  const bool changed2 = redact_payload_unfiltered(p.view(), kind, c, reference, counts2);
  INFO(payload);
  CHECK(changed == changed2);
  // The three mask producers (AVX2 or SSE2 by CPU, SSE2, portable) agree.
  const auto same = [](const RedactCandidates& a, const RedactCandidates& b) {
    return a.patterns == b.patterns && a.key == b.key && a.escapes == b.escapes;
  };
  const bool is_json = kind == PayloadKind::kJsonObject;
  const RedactCandidates best = redact_prefilter(p.view(), is_json, c);
  CHECK(same(best, redact_prefilter_portable(p.view(), is_json, c)));
#if defined(__x86_64__)
  CHECK(same(best, redact_prefilter_sse2(p.view(), is_json, c)));
#endif
  if (!changed) return std::string(payload);
  CHECK(out == reference);
  CHECK(counts == counts2);
  if (kind == PayloadKind::kJsonObject) CHECK(valid_json(out));
  return out;
}

std::string text(std::string_view s, const RedactConfig& c = config()) {
  return redact(s, PayloadKind::kText, c);
}
std::string json(std::string_view s, const RedactConfig& c = config()) {
  return redact(s, PayloadKind::kJsonObject, c);
}

}  // namespace

TEST_CASE("Luhn", "[processors][redact]") {
  CHECK(luhn_valid("4111111111111111"));
  CHECK(luhn_valid("4111 1111 1111 1111"));
  CHECK(luhn_valid("79927398713"));
  CHECK(luhn_valid("378282246310005"));
  CHECK_FALSE(luhn_valid("4111111111111112"));
  CHECK_FALSE(luhn_valid("79927398710"));
}

TEST_CASE("credit cards in text", "[processors][redact]") {
  CHECK(text("card 4111 1111 1111 1111 ok") == "card [REDACTED:credit_card] ok");
  CHECK(text("card=4111-1111-1111-1111.") == "card=[REDACTED:credit_card].");
  CHECK(text("4111111111111111") == "[REDACTED:credit_card]");
  CHECK(text("amex 3782 822463 10005") == "amex [REDACTED:credit_card]");
  CHECK(text("two 5555555555554444,4012888888881881") ==
        "two [REDACTED:credit_card],[REDACTED:credit_card]");
  // Not cards: Luhn fails, epoch milliseconds (first digit 1), too long, glued to
  // letters, mixed separators, too few digits.
  CHECK(text("card 4111 1111 1111 1112") == "card 4111 1111 1111 1112");
  CHECK(text("ts=1701234567890 ok") == "ts=1701234567890 ok");
  CHECK(text("id 41111111111111111111111") == "id 41111111111111111111111");
  CHECK(text("x4111111111111111") == "x4111111111111111");
  CHECK(text("4111111111111111y") == "4111111111111111y");
  CHECK(text("4111 1111-1111 1111") == "4111 1111-1111 1111");
  // Luhn-valid but outside the issuers' ranges or lengths: decimal ids stay.
  CHECK(luhn_valid("3072778757897044"));
  CHECK(text("id 3072778757897044") == "id 3072778757897044");  // 30xx is Diners only for 300-305
  CHECK(luhn_valid("41111111111114"));
  CHECK(text("n 41111111111114") == "n 41111111111114");  // Visa has 13, 16 or 19 digits
  CHECK(text("jcb 3530111333300000 diners 30569309025904") ==
        "jcb [REDACTED:credit_card] diners [REDACTED:credit_card]");
  CHECK(text("mc 2221000000000009") == "mc [REDACTED:credit_card]");
  CHECK(text("2026-12-01 07:00:00.123456789 took 1234 ms") ==
        "2026-12-01 07:00:00.123456789 took 1234 ms");
}

TEST_CASE("bearer, jwt, aws keys, private keys, email", "[processors][redact]") {
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
  CHECK(text("Authorization: Bearer abc123def456ghi") ==
        "Authorization: Bearer [REDACTED:bearer]");
  CHECK(text("bearer   xyz.789_abcdef==  rest") == "bearer   [REDACTED:bearer]  rest");
  CHECK(text("the Bearer scheme is standard") == "the Bearer scheme is standard");
  CHECK(text("token " + jwt + " end") == "token [REDACTED:jwt] end");
  // Same span found by two detectors: one replacement (the more specific kind).
  CHECK(text("Bearer " + jwt) == "Bearer [REDACTED:jwt]");
  CHECK(text("eyJhbGciOi only") == "eyJhbGciOi only");
  CHECK(text("key AKIAIOSFODNN7EXAMPLE used") == "key [REDACTED:aws_key] used");
  CHECK(text("ASIAIOSFODNN7EXAMPLE") == "[REDACTED:aws_key]");
  CHECK(text("AKIAIOSFODNN7EXAMPLEX") == "AKIAIOSFODNN7EXAMPLEX");
  CHECK(text("k=-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY----- done") ==
        "k=[REDACTED:private_key] done");
  CHECK(text("-----BEGIN PRIVATE KEY-----\nMIIEvQ (cut)") == "[REDACTED:private_key]");
  CHECK(text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----") ==
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
  // email is off by default.
  CHECK(text("mail bob.smith+x@mail.example.com now") == "mail bob.smith+x@mail.example.com now");
  const RedactConfig with_email = config({}, kAllPatterns);
  CHECK(text("mail bob.smith+x@mail.example.com now", with_email) == "mail [REDACTED:email] now");
  CHECK(text("at @home or a@b", with_email) == "at @home or a@b");
  CHECK(text("x@y.c1", with_email) == "x@y.c1");
}

TEST_CASE("keys at any depth, in arrays, any case, escaped", "[processors][redact]") {
  CHECK(json(R"({"user":"bob","password":"hunter2"})") == R"({"user":"bob","password":"[REDACTED]"})");
  CHECK(json(R"({"a":{"b":{"Token":"t0k"}}})") == R"({"a":{"b":{"Token":"[REDACTED]"}}})");
  CHECK(json(R"({"list":[{"x":1},{"api_key":"k1"},{"API_KEY":"k2"}]})") ==
        R"({"list":[{"x":1},{"api_key":"[REDACTED]"},{"API_KEY":"[REDACTED]"}]})");
  CHECK(json(R"({"headers":{"Set-Cookie":["a=1","b=2"],"Cookie":"c=3"}})") ==
        R"({"headers":{"Set-Cookie":"[REDACTED]","Cookie":"[REDACTED]"}})");
  CHECK(json(R"({"secret":{"k":"v"},"token":12345})") ==
        R"({"secret":"[REDACTED]","token":"[REDACTED]"})");
  CHECK(json(R"({"pass\u0077ord":"x"})") == R"({"pass\u0077ord":"[REDACTED]"})");
  CHECK(json(R"( { "password" : "x" , "n" : 1 } )") == R"( { "password" : "[REDACTED]" , "n" : 1 } )");
  // Nothing to hide: null, booleans, "", {} and [] stay, and the record is untouched.
  CHECK(json(R"({"password":null,"token":"","secret":{},"cookie":[],"apikey":false})") ==
        R"({"password":null,"token":"","secret":{},"cookie":[],"apikey":false})");
  // Not keys: values and parts of keys.
  CHECK(json(R"({"msg":"password","password_hint":"x","a\"password":"y"})") ==
        R"({"msg":"password","password_hint":"x","a\"password":"y"})");
  // The key set is configurable; none turns key redaction off.
  CHECK(json(R"({"ssn":"123","password":"x"})", config({"SSN"})) ==
        R"({"ssn":"[REDACTED]","password":"x"})");
  CHECK(json(R"({"password":"x"})", config({})) == R"({"password":"x"})");
}

TEST_CASE("patterns in JSON string values, escaped strings", "[processors][redact]") {
  CHECK(json(R"({"msg":"paid with 4111 1111 1111 1111","n":4111111111111111})") ==
        R"({"msg":"paid with [REDACTED:credit_card]","n":4111111111111111})");
  // Escaped quotes around and inside: the string is decoded, redacted, re-escaped.
  CHECK(json(R"({"msg":"say \"Bearer abc123def456\" now"})") ==
        R"({"msg":"say \"Bearer [REDACTED:bearer]\" now"})");
  // A secret spelled with \u escapes is still found.
  CHECK(json(R"({"msg":"card \u0034111111111111111"})") ==
        R"({"msg":"card [REDACTED:credit_card]"})");
  // "\n" right before a card: in raw bytes an 'n' touches the digits.
  CHECK(json(R"({"msg":"line1\n4111111111111111"})") == R"({"msg":"line1\n[REDACTED:credit_card]"})");
  CHECK(json(R"({"key":"-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n"})") ==
        R"({"key":"[REDACTED:private_key]\n"})");
  CHECK(json(R"({"arr":["AKIAIOSFODNN7EXAMPLE",{"deep":["x AKIAIOSFODNN7EXAMPLE"]}]})") ==
        R"({"arr":["[REDACTED:aws_key]",{"deep":["x [REDACTED:aws_key]"]}]})");
  // Trace-context values are ids, left to the encoder's correlation.
  CHECK(json(R"({"spanId":"4111111111111111","trace_id":"4111111111111111","x":"4111111111111111"})") ==
        R"({"spanId":"4111111111111111","trace_id":"4111111111111111","x":"[REDACTED:credit_card]"})");
  // Keys themselves are never pattern-redacted.
  CHECK(json(R"({"4111111111111111":"x"})") == R"({"4111111111111111":"x"})");
  // Non-ASCII text next to a match survives.
  CHECK(json(R"({"msg":"é \u00e9 AKIAIOSFODNN7EXAMPLE ü"})") ==
        "{\"msg\":\"\xC3\xA9 \xC3\xA9 [REDACTED:aws_key] \xC3\xBC\"}");
}

TEST_CASE("pre-filter agrees with the full walk on mixed records", "[processors][redact]") {
  const std::vector<std::string> pieces = {
      R"("ts":"2026-12-01T07:00:00.123456789Z")", R"("msg":"GET /api/v1/orders 200 12ms")",
      R"("password":"p")",                         R"("n":1701234567890)",
      R"("card":"5555-5555-5555-4444")",           R"("t":"Bearer abcdefgh12345")",
      R"("x":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx.sig")", R"("a":["AKIAIOSFODNN7EXAMPLE"])",
      R"("esc":"quote \" back \\ nl \n")",         R"("u":"\u0041KIAIOSFODNN7EXAMPLE")",
      R"("o":{"Cookie":"c","k":[1,2,{"refresh_token":"r"}]})", R"("msg":"mail a@b.co")",
      R"("ip":"10.0.0.1:8080")",                   R"("tokens":5)",
  };
  for (size_t i = 0; i < pieces.size(); ++i) {
    for (size_t j = 0; j < pieces.size(); ++j) {
      const std::string record = "{" + pieces[i] + "," + pieces[j] + "}";
      (void)json(record);
      (void)json(record, config({}, kAllPatterns));
      (void)text(record);
    }
  }
}

TEST_CASE("untouched records keep their bytes", "[processors][redact]") {
  ProcessorStats stats;
  auto cfg = std::make_shared<RedactConfig>(config());
  RedactProcessor p(cfg, stats);
  Collect out;
  const Padded plain(R"({"ts":"2026-12-01T07:00:00Z","level":"info","msg":"order 1234 placed"})");
  const Padded text_line("GET /healthz 200 1234us");
  p.process(make_record(plain, PayloadKind::kJsonObject), out);
  p.process(make_record(text_line, PayloadKind::kText), out);
  REQUIRE(out.out.size() == 2);
  CHECK(out.out[0].data == plain.view().data());
  CHECK(out.out[1].data == text_line.view().data());
  for (size_t k = 0; k < kRedactKindCount; ++k) CHECK(stats.redaction_count(static_cast<RedactKind>(k)) == 0);
}

namespace {

/// A processor that changes every record (appends " [seen]" to text), for
/// the chain test: its buffer has the padding record.h promises.
class Rewrite final : public Processor {
 public:
  std::string_view name() const override { return "rewrite"; }
  void process(const Record& r, RecordEmitter& next) override {
    buf_.assign(r.payload);
    buf_.append(" [seen]");
    const size_t n = buf_.size();
    buf_.append(64, '4');  // padding full of digits: must not be read as payload
    Record c = r;
    c.payload = std::string_view(buf_.data(), n);
    next.emit(c);
  }

 private:
  std::string buf_;
};

}  // namespace

TEST_CASE("a record changed by two processors", "[processors][redact]") {
  ProcessorStats stats;
  // Keys only, then patterns only: two redactors in a row, after a rewriter.
  RedactProcessor keys(std::make_shared<RedactConfig>(config({"password"}, 0)), stats);
  RedactProcessor patterns(std::make_shared<RedactConfig>(config({}, kDefaultPatterns)), stats);
  Rewrite rewrite;
  Collect out;
  Link to_patterns(patterns, out);
  Link to_keys(keys, to_patterns);
  const Padded line("login ok, token Bearer abc123def456ghi, card 4111111111111111");
  rewrite.process(make_record(line, PayloadKind::kText), to_keys);
  REQUIRE(out.out.size() == 1);
  CHECK(out.out[0].payload ==
        "login ok, token Bearer [REDACTED:bearer], card [REDACTED:credit_card] [seen]");

  const Padded rec(R"({"password":"x","msg":"AKIAIOSFODNN7EXAMPLE"})");
  keys.process(make_record(rec, PayloadKind::kJsonObject), to_patterns);
  REQUIRE(out.out.size() == 2);
  CHECK(out.out[1].payload == R"({"password":"[REDACTED]","msg":"[REDACTED:aws_key]"})");
  CHECK(out.out[1].kind == PayloadKind::kJsonObject);
  CHECK(stats.redaction_count(RedactKind::kKey) == 1);
  CHECK(stats.redaction_count(RedactKind::kAwsKey) == 1);
  CHECK(stats.redaction_count(RedactKind::kBearer) == 1);
  CHECK(stats.redaction_count(RedactKind::kCreditCard) == 1);
}

TEST_CASE("deep nesting is walked to the parser's limit", "[processors][redact]") {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += R"({"a":[)";
  deep += R"({"secret":"s"})";
  for (int i = 0; i < 200; ++i) deep += "]}";
  const std::string out = json(deep);
  CHECK(out.find(R"("secret":"[REDACTED]")") != std::string::npos);
}

TEST_CASE("triggers at every offset across 64-byte blocks", "[processors][redact]") {
  // Each secret at each position 0..140 of a longer record: block edges,
  // vector edges and the payload's end are all crossed.
  const std::vector<std::pair<std::string, std::string>> secrets = {
      {"4111 1111 1111 1111", "[REDACTED:credit_card]"},
      {"AKIAIOSFODNN7EXAMPLE", "[REDACTED:aws_key]"},
      {"Bearer abc123def456ghi", "Bearer [REDACTED:bearer]"},
      {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx.c2ln", "[REDACTED:jwt]"},
  };
  for (const auto& [secret, replaced] : secrets) {
    for (size_t pos = 0; pos < 140; ++pos) {
      const std::string filler(pos, 'x');
      CHECK(text(filler + " " + secret) == filler + " " + replaced);
      CHECK(json(R"({"m":")" + filler + " " + secret + R"("})") == R"({"m":")" + filler + " " + replaced + R"("})");
    }
  }
  for (size_t pos = 0; pos < 140; ++pos) {
    const std::string key(pos, 'k');
    CHECK(json(R"({")" + key + R"(":1,"password":"x"})") == R"({")" + key + R"(":1,"password":"[REDACTED]"})");
  }
}

TEST_CASE("random records: pre-filter, producers and walk agree, JSON stays valid",
          "[processors][redact]") {
  // Deterministic pseudo-random records over an alphabet dense in trigger
  // bytes, so that near-misses at every offset are common.
  uint64_t state = 0x9E3779B97F4A7C15ull;
  const auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::vector<std::string> atoms = {
      "4", "1", "5", "0", " ", "-", "4111", "1111", "eyJ", "hbGciOiJIUzI1NiJ9", ".", "AKIA",
      "IOSFODNN7EXAMPLE", "Bearer ", "abc123def456", "-----BEGIN ", "PRIVATE KEY-----",
      "-----END RSA PRIVATE KEY-----", "@", "mail.example.com", "x", "é", "\\n", "\\\"", "\\u0034",
      "\\u00e9", "\\\\", ":", "\"", "password", "Token", "t"};
  const RedactConfig all = config({"password", "token", "t"}, kAllPatterns);
  for (int i = 0; i < 3000; ++i) {
    std::string value;
    const int n = static_cast<int>(next() % 24);
    for (int k = 0; k < n; ++k) value += atoms[next() % atoms.size()];
    // As text, raw; as JSON, inside a string value and as a key's value.
    (void)text(value, all);
    std::string escaped;  // make the value a legal JSON string body
    for (size_t k = 0; k < value.size(); ++k) {
      const char c = value[k];
      if (c == '\\' && k + 1 < value.size()) {
        const char e = value[k + 1];
        if (e == 'n' || e == '"' || e == '\\' || e == 'u') {
          escaped += value.substr(k, e == 'u' ? 6 : 2);
          k += e == 'u' ? 5 : 1;
          continue;
        }
      }
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    const std::string rec = R"({"a":")" + escaped + R"(","password":")" + escaped + R"(","l":[")" +
                            escaped + R"("]})";
    REQUIRE(valid_json(rec));
    (void)json(rec, all);
    (void)json(rec);
  }
}
