#include "agent/enrich/record_encoder.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

#include "agent/enrich/k8s_path.h"
#include "tests/fakes/structured_batch.h"

using logship::Batch;
using logship::K8sShape;
using logship::Record;
using logship::RecordFields;
using logship::enrich::RecordEncoder;
using logship::enrich::SourceContext;

namespace {

/// Encodes `payload` (padded) with the given frame fields.
/// Also checks the structure the encoder stores in the batch against the
/// structure derived from the bytes (tests/fakes/structured_batch.h), so sink
/// tests built on the derivation see what production sees.
std::string encode(RecordEncoder& enc, std::string payload, const SourceContext& src = {},
                   bool truncated = false, std::string ts = "2026-11-26T23:08:04.1Z",
                   std::string stream = "stdout", bool partial = false) {
  const size_t n = payload.size();
  payload.append(logship::json::kPadding, ' ');
  Record r;
  r.ts = ts;
  r.stream = stream;
  r.payload = std::string_view(payload.data(), n);
  r.truncated = truncated;
  r.partial = partial;
  Batch batch;
  batch.data() = "x\n";  // a record before: offsets are relative to the record
  batch.end_record();
  enc.encode(r, src, batch);
  REQUIRE(batch.record_count() == 2);
  const std::string out(batch.record(1));
  const RecordFields& got = batch.fields(1);
  std::optional<K8sShape> shape;
  const RecordFields want = logship::testing::derive_fields(out, shape);
  CHECK(got.structured());
  CHECK(got.ts == want.ts);
  CHECK(got.stream == want.stream);
  CHECK(got.release == want.release);
  CHECK(got.trace_id == want.trace_id);
  CHECK(got.span_id == want.span_id);
  CHECK(got.k8s == want.k8s);
  CHECK(got.log == want.log);
  CHECK(got.flags == want.flags);
  const K8sShape* got_shape = batch.k8s_shape(got);
  CHECK((got_shape != nullptr) == shape.has_value());
  if (got_shape != nullptr && shape) CHECK(*got_shape == *shape);
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

TEST_CASE("encoder: partial flag after truncated", "[enrich]") {
  RecordEncoder enc(std::nullopt);
  CHECK(encode(enc, "x", {}, true, "", "", true) == R"({"log":"x","truncated":true,"partial":true})");
  CHECK(encode(enc, "x", {}, false, "", "", true) == R"({"log":"x","partial":true})");
}

TEST_CASE("encoder: structure of records with k8s metadata from paths and the API", "[enrich]") {
  RecordEncoder enc(std::nullopt);
  auto meta = logship::enrich::parse_k8s_path(
      "/var/log/pods/web_frontend-1_0f8e6a2c-1b2c-4d5e-8f90-123456789abc/nginx/0.log");
  REQUIRE(meta);
  logship::enrich::PodDetails details;
  details.labels = {{"tricky", "} \" {"}};
  SourceContext src;
  src.k8s_member = logship::enrich::encode_k8s_member(*meta, &details);
  src.release_member = logship::enrich::encode_release_member("r\"1");
  // encode() compares the stored structure with the derived one.
  const std::string out = encode(enc, R"({"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","a":1})", src);
  CHECK(valid_json(out));
  // A second source with another shape, then the first again: shapes are
  // found per source, not reused across sources.
  SourceContext other;
  other.k8s_member = "\"k8s\":{\"pod\":\"p\",\"namespace\":\"n\"}";
  encode(enc, "y", other);
  encode(enc, "z", src);
}

TEST_CASE("encoder: a batch's k8s shapes are shared by runs of one source", "[enrich]") {
  RecordEncoder enc(std::nullopt);
  SourceContext a;
  a.k8s_member = "\"k8s\":{\"namespace\":\"a\"}";
  SourceContext b;
  b.k8s_member = "\"k8s\":{\"namespace\":\"bb\"}";
  Batch batch;
  std::string payload = "x";
  payload.append(logship::json::kPadding, ' ');
  Record r;
  r.payload = std::string_view(payload.data(), 1);
  enc.encode(r, a, batch);
  enc.encode(r, a, batch);
  enc.encode(r, b, batch);
  CHECK(batch.fields(0).k8s_shape == batch.fields(1).k8s_shape);
  CHECK(batch.fields(2).k8s_shape != batch.fields(0).k8s_shape);
  const K8sShape* s2 = batch.k8s_shape(batch.fields(2));
  REQUIRE(s2 != nullptr);
  CHECK(s2->namespace_name.in(batch.fields(2).k8s.in(batch.record(2))) == "bb");
  CHECK(batch.memory_bytes() >= batch.data().size() + 3 * sizeof(RecordFields));
}
