#include "agent/enrich/record_encoder.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

using logship::enrich::RecordEncoder;
using logship::enrich::SourceContext;
using logship::framing::Frame;

namespace {

/// Encodes `payload` (padded) with the given frame fields.
std::string encode(RecordEncoder& enc, std::string payload, const SourceContext& src = {},
                   bool truncated = false, std::string ts = "2026-11-26T23:08:04.1Z",
                   std::string stream = "stdout") {
  const size_t n = payload.size();
  payload.append(logship::json::kPadding, ' ');
  Frame f;
  f.ts = ts;
  f.stream = stream;
  f.payload = std::string_view(payload.data(), n);
  f.truncated = truncated;
  std::string out;
  enc.encode(f, src, out);
  return out;
}

bool valid_json(const std::string& s) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  return p.parse(simdjson::padded_string(s)).get(e) == simdjson::SUCCESS;
}

}  // namespace

TEST_CASE("encoder: JSON object passed through with trace ids and metadata", "[enrich]") {
  RecordEncoder enc(std::string("v1.2.3"));
  SourceContext src;
  src.k8s_member = "\"k8s\":{\"namespace\":\"shop\"}";
  const std::string obj = R"({"level":"info", "trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","span_id":"00f067aa0ba902b7"})";
  const std::string out = encode(enc, obj, src);
  CHECK(out == "{\"ts\":\"2026-11-26T23:08:04.1Z\",\"stream\":\"stdout\",\"release\":\"v1.2.3\","
               "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"00f067aa0ba902b7\","
               "\"k8s\":{\"namespace\":\"shop\"},\"log\":" + obj + "}");
  CHECK(valid_json(out));
}

TEST_CASE("encoder: text becomes a string; unknown fields omitted", "[enrich]") {
  RecordEncoder enc(std::nullopt);
  CHECK(encode(enc, "hello \"world\"", {}, false, "", "") == R"({"log":"hello \"world\""})");
  CHECK(encode(enc, "", {}, false, "", "stderr") == R"({"stream":"stderr","log":""})");
  CHECK(encode(enc, "[1,2]", {}, false, "", "") == R"({"log":"[1,2]"})");
  CHECK(encode(enc, "{\"a\":", {}, false, "", "") == R"({"log":"{\"a\":"})");
  CHECK(encode(enc, "42", {}, false, "", "") == R"({"log":"42"})");
}

TEST_CASE("encoder: traceparent in text, truncation flag, invalid UTF-8", "[enrich]") {
  RecordEncoder enc(std::nullopt);
  const std::string out =
      encode(enc, "GET / traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 ok", {}, true);
  CHECK(out.find("\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\"") != std::string::npos);
  CHECK(out.find("\"span_id\":\"b7ad6b7169203331\"") != std::string::npos);
  CHECK(out.ends_with(",\"truncated\":true}"));
  const std::string bad = encode(enc, "caf\xc3 x\xff");
  CHECK(valid_json(bad));
  CHECK(bad.find("\xef\xbf\xbd") != std::string::npos);
}

TEST_CASE("encoder: odd timestamps are escaped, never copied raw", "[enrich]") {
  RecordEncoder enc(std::nullopt);
  const std::string out = encode(enc, "x", {}, false, "a\"b", "stdout");
  CHECK(valid_json(out));
  CHECK(out.starts_with(R"({"ts":"a\"b")"));
}

TEST_CASE("encoder: pod release per file; LOGSHIP_RELEASE overrides it", "[enrich]") {
  SourceContext src;
  src.release_member = logship::enrich::encode_release_member("from-pod");
  RecordEncoder from_pod(std::nullopt);
  CHECK(encode(from_pod, "x", src).find("\"release\":\"from-pod\"") != std::string::npos);
  RecordEncoder global(std::string("global"));
  const std::string out = encode(global, "x", src);
  CHECK(out.find("\"release\":\"global\"") != std::string::npos);
  CHECK(out.find("from-pod") == std::string::npos);
}
