#include "sinks/http/formats.h"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "tests/fakes/structured_batch.h"

using namespace logship;
using namespace logship::sinks::http;
namespace dom = simdjson::dom;

namespace {

const std::string kRecA =
    R"({"ts":"2026-11-26T23:08:04.123456789+10:00","stream":"stdout","release":"checkout@1.4.2",)"
    R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",)"
    R"("k8s":{"namespace":"shop","pod":"checkout-1","pod_uid":"uid-1","container":"app"},)"
    R"("log":{"level":"WARN","msg":"low stock","n":3,"ratio":0.5,"ok":true,"none":null,"tags":["a",1]}})";
const std::string kRecB =
    R"({"ts":"2026-11-26T13:08:03.000000001Z","stream":"stderr","k8s":{"namespace":"shop","pod":"checkout-1",)"
    R"("pod_uid":"uid-1","container":"app"},"log":"plain \"text\" line","truncated":true})";
const std::string kRecC =
    R"({"ts":"2026-11-26T13:08:05Z","stream":"stdout","k8s":{"namespace":"ops","pod":"db-0","container":"pg",)"
    R"("container_id":"abc"},"log":{"severity":"error","msg":"x"}})";

/// A batch with the structure the encoder would have stored.
Batch make_batch(const std::vector<std::string>& records) { return testing::structured_batch(records); }

std::string encode(HttpFormat f, const Batch& b, std::string index = "logs-{namespace}-%Y.%m.%d") {
  Encoder e(f, std::move(index));
  std::string out;
  REQUIRE(e.encode(b, RecordSelection::range(0, static_cast<uint32_t>(b.record_count())), out));
  return out;
}

}  // namespace

TEST_CASE("RFC 3339 timestamps to Unix nanoseconds, offsets applied", "[http][formats]") {
  CHECK(rfc3339_to_unix_nanos("1970-01-01T00:00:00Z") == 0);
  CHECK(rfc3339_to_unix_nanos("2026-11-26T13:08:04.123456789Z") == 1795698484123456789);
  CHECK(rfc3339_to_unix_nanos("2026-11-26T23:08:04.123456789+10:00") == 1795698484123456789);
  CHECK(rfc3339_to_unix_nanos("2026-11-26T08:38:04.123456789-04:30") == 1795698484123456789);
  CHECK(rfc3339_to_unix_nanos("2026-11-26t13:08:04.1z") == 1795698484100000000);
  CHECK(rfc3339_to_unix_nanos("2026-11-26T13:08:04.1234567891234Z") == 1795698484123456789);
  CHECK(rfc3339_to_unix_nanos("1969-12-31T23:59:59Z") == -1000000000);
  for (const char* bad : {"", "2026-11-26", "2026-11-26T13:08:04", "2026-13-26T13:08:04Z", "2026-11-26T13:08:04.Z",
                          "2026-11-26T13:08:04+1000", "2026-11-26T13:08:04Zjunk", "2026-11-26X13:08:04Z"}) {
    INFO(bad);
    CHECK_FALSE(rfc3339_to_unix_nanos(bad));
  }
}

TEST_CASE("severity numbers follow the OpenTelemetry ranges", "[http][formats]") {
  CHECK(severity_number("trace") == 1);
  CHECK(severity_number("DEBUG") == 5);
  CHECK(severity_number("info") == 9);
  CHECK(severity_number("Warning") == 13);
  CHECK(severity_number("error") == 17);
  CHECK(severity_number("FATAL") == 21);
  CHECK(severity_number("W") == 13);
  CHECK(severity_number("chatty") == 0);
  CHECK(severity_number_from_int(30) == 9);  // pino info
  CHECK(severity_number_from_int(50) == 17);
  CHECK(severity_number_from_int(60) == 21);
  CHECK(severity_number_from_int(3) == 0);
}

TEST_CASE("Elasticsearch index template", "[http][formats]") {
  const int64_t t = *rfc3339_to_unix_nanos("2026-01-02T23:30:00-02:00");  // 2026-01-03 UTC
  CHECK(Encoder::index_for("logs-{namespace}-%Y.%m.%d", "shop", t) == "logs-shop-2026.01.03");
  CHECK(Encoder::index_for("logs-{namespace}", "", t) == "logs-unknown");
  CHECK(Encoder::index_for("a%%b%x", "", t) == "a%b%x");
}

TEST_CASE("record selections split and subset", "[http][formats]") {
  auto s = RecordSelection::range(2, 9);
  CHECK(s.size() == 7);
  CHECK_FALSE(s.whole(9));
  CHECK(RecordSelection::range(0, 9).whole(9));
  auto [a, b] = s.split();
  CHECK(a.size() == 3);
  CHECK(b.size() == 4);
  CHECK(a[0] == 2);
  CHECK(b[0] == 5);
  auto p = s.subset({1, 4, 6});
  CHECK(p.size() == 3);
  CHECK(p[0] == 3);
  CHECK(p[2] == 8);
  CHECK_FALSE(p.whole(3));
  auto [c, d] = p.split();
  CHECK(c.size() == 1);
  CHECK(d[1] == 8);
}

TEST_CASE("ndjson: a whole batch goes as it is; a part record by record", "[http][formats]") {
  Batch b = make_batch({kRecA, kRecB, kRecC});
  CHECK(encode(HttpFormat::kNdjson, b) == b.data());
  Encoder e(HttpFormat::kNdjson, "");
  std::string out;
  REQUIRE(e.encode(b, RecordSelection::picks({2, 0}), out));
  CHECK(out == kRecC + "\n" + kRecA + "\n");
}

TEST_CASE("loki: one stream per label set, values oldest first", "[http][formats]") {
  // B is older than A and in another stream (stderr); a second A-stream
  // record older than A must come first in its stream.
  const std::string older_a =
      R"({"ts":"2026-11-26T13:08:04Z","stream":"stdout","k8s":{"namespace":"shop","pod":"checkout-1","container":"app"},"log":"early"})";
  Batch b = make_batch({kRecA, kRecB, kRecC, older_a});
  const std::string body = encode(HttpFormat::kLoki, b);
  dom::parser parser;
  dom::element root = parser.parse(body);
  dom::array streams = root["streams"];
  REQUIRE(streams.size() == 3);
  dom::element first = streams.at(0);
  CHECK(std::string_view(first["stream"]["namespace"]) == "shop");
  CHECK(std::string_view(first["stream"]["pod"]) == "checkout-1");
  CHECK(std::string_view(first["stream"]["container"]) == "app");
  CHECK(std::string_view(first["stream"]["stream"]) == "stdout");
  dom::array values = first["values"];
  REQUIRE(values.size() == 2);
  CHECK(std::string_view(values.at(0).at(0)) == "1795698484000000000");
  CHECK(std::string_view(values.at(1).at(0)) == "1795698484123456789");
  // The line is the whole record.
  CHECK(std::string_view(values.at(1).at(1)) == kRecA);
  CHECK(std::string_view(streams.at(1)["stream"]["stream"]) == "stderr");
  CHECK(std::string_view(streams.at(2)["stream"]["namespace"]) == "ops");
}

TEST_CASE("elasticsearch: action line, then the record with @timestamp", "[http][formats]") {
  Batch b = make_batch({kRecA, kRecC});
  const std::string body = encode(HttpFormat::kElasticsearch, b);
  REQUIRE(body.back() == '\n');
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < body.size()) {
    const size_t nl = body.find('\n', start);
    lines.push_back(body.substr(start, nl - start));
    start = nl + 1;
  }
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == R"({"create":{"_index":"logs-shop-2026.11.26"}})");
  CHECK(lines[1] == R"({"@timestamp":"2026-11-26T23:08:04.123456789+10:00",)" + kRecA.substr(1));
  CHECK(lines[2] == R"({"create":{"_index":"logs-ops-2026.11.26"}})");
  dom::parser parser;
  dom::element doc = parser.parse(lines[3]);
  CHECK(std::string_view(doc["@timestamp"]) == "2026-11-26T13:08:05Z");
}

TEST_CASE("elasticsearch: bulk responses with per-item errors", "[http][formats]") {
  auto ok = parse_bulk_response(R"({"took":3,"errors":false,"items":[{"create":{"status":201}}]})", 1);
  REQUIRE(ok);
  CHECK(ok->failed.empty());
  auto mixed = parse_bulk_response(
      R"({"took":3,"errors":true,"items":[{"create":{"status":201}},)"
      R"({"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse [n]"}}},)"
      R"({"index":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]})",
      3);
  REQUIRE(mixed);
  REQUIRE(mixed->failed.size() == 2);
  CHECK(mixed->failed[0].position == 1);
  CHECK(mixed->failed[0].status == 400);
  CHECK(mixed->failed[0].reason == "mapper_parsing_exception: failed to parse [n]");
  CHECK(mixed->failed[1].position == 2);
  CHECK(mixed->failed[1].status == 429);
  CHECK_FALSE(parse_bulk_response("not json", 1));
  CHECK_FALSE(parse_bulk_response(R"({"errors":true,"items":[{"create":{"status":400}}]})", 2));
  CHECK_FALSE(parse_bulk_response(R"({"items":[]})", 0));
}

TEST_CASE("splunk_hec: one event object per record", "[http][formats]") {
  Batch b = make_batch({kRecA, kRecB});
  const std::string body = encode(HttpFormat::kSplunkHec, b);
  const size_t nl = body.find('\n');
  dom::parser parser;
  dom::element e = parser.parse(body.substr(0, nl));
  CHECK(double(e["time"]) == Approx(1795698484.123456));
  CHECK(std::string_view(e["sourcetype"]) == "_json");
  CHECK(std::string_view(e["source"]) == "shop/checkout-1/app");
  CHECK(std::string_view(e["fields"]["namespace"]) == "shop");
  CHECK(std::string_view(e["event"]["log"]["msg"]) == "low stock");
  dom::parser parser2;
  dom::element e2 = parser2.parse(body.substr(nl + 1, body.size() - nl - 2));
  CHECK(std::string_view(e2["event"]["log"]) == "plain \"text\" line");
}

TEST_CASE("otlp: resources, records, ids, severity, body as AnyValue", "[http][formats]") {
  Batch b = make_batch({kRecA, kRecB, kRecC, "not json at all"});
  const std::string body = encode(HttpFormat::kOtlp, b);
  dom::parser parser;
  dom::element root = parser.parse(body);
  dom::array rls = root["resourceLogs"];
  // A (with release), B (same pod, no release), C (ops/db-0), the non-JSON one.
  REQUIRE(rls.size() == 4);
  // First resource: A.
  dom::element r0 = rls.at(0);
  std::map<std::string, std::string> attrs;
  for (dom::element a : dom::array(r0["resource"]["attributes"])) {
    attrs[std::string(std::string_view(a["key"]))] = std::string(std::string_view(a["value"]["stringValue"]));
  }
  CHECK(attrs["k8s.namespace.name"] == "shop");
  CHECK(attrs["k8s.pod.name"] == "checkout-1");
  CHECK(attrs["k8s.pod.uid"] == "uid-1");
  CHECK(attrs["k8s.container.name"] == "app");
  CHECK(attrs["service.version"] == "checkout@1.4.2");
  dom::element lr = r0["scopeLogs"].at(0)["logRecords"].at(0);
  CHECK(std::string_view(lr["timeUnixNano"]) == "1795698484123456789");
  CHECK(std::string_view(lr["traceId"]) == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(std::string_view(lr["spanId"]) == "00f067aa0ba902b7");
  CHECK(int64_t(lr["severityNumber"]) == 13);
  CHECK(std::string_view(lr["severityText"]) == "WARN");
  dom::array kv = lr["body"]["kvlistValue"]["values"];
  std::map<std::string, std::string> body_json;
  for (dom::element e : kv) body_json[std::string(std::string_view(e["key"]))] = simdjson::minify(e["value"]);
  CHECK(body_json["msg"] == R"({"stringValue":"low stock"})");
  CHECK(body_json["n"] == R"({"intValue":"3"})");
  CHECK(body_json["ratio"] == R"({"doubleValue":0.5})");
  CHECK(body_json["ok"] == R"({"boolValue":true})");
  CHECK(body_json["none"] == "{}");
  CHECK(body_json["tags"] == R"({"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"}]}})");
  // B: a text line, truncated, no ids, no severity; same pod but no release -> its own resource.
  dom::element r1 = rls.at(1);
  dom::element lb = r1["scopeLogs"].at(0)["logRecords"].at(0);
  CHECK(std::string_view(lb["body"]["stringValue"]) == "plain \"text\" line");
  CHECK(lb["traceId"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(lb["severityNumber"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(simdjson::minify(lb["attributes"]) ==
        R"([{"key":"log.iostream","value":{"stringValue":"stderr"}},{"key":"logship.truncated","value":{"boolValue":true}}])");
  // C: severity from "severity"; container.id from the containers/ layout.
  dom::element r2 = rls.at(2);
  dom::element lc = r2["scopeLogs"].at(0)["logRecords"].at(0);
  CHECK(int64_t(lc["severityNumber"]) == 17);
  CHECK(simdjson::minify(r2["resource"]["attributes"]).find(R"("key":"container.id")") != std::string::npos);
  // Not JSON (cannot come from logship's encoder, but a body must stay
  // valid): carried as a string body, no resource attributes.
  dom::element r3 = rls.at(3);
  CHECK(dom::array(r3["resource"]["attributes"]).size() == 0);
  CHECK(std::string_view(r3["scopeLogs"].at(0)["logRecords"].at(0)["body"]["stringValue"]) == "not json at all");
}

TEST_CASE("formats: escaped parts are carried as the same JSON text", "[http][formats]") {
  // Parts with JSON escapes (a quote, a backslash, a control character):
  // the formats copy their escaped text, which must read back as the text.
  const std::string rec =
      R"({"ts":"2026-11-26T13:08:05Z","stream":"std\"out","k8s":{"namespace":"n\\s","pod":"p\"1","container":"c\n"},)"
      R"("log":"x"})";
  Batch b = make_batch({rec});
  dom::parser parser;
  {
    const std::string body = encode(HttpFormat::kLoki, b);
    dom::element root = parser.parse(body);
    dom::element labels = root["streams"].at(0)["stream"];
    CHECK(std::string_view(labels["namespace"]) == "n\\s");
    CHECK(std::string_view(labels["pod"]) == "p\"1");
    CHECK(std::string_view(labels["container"]) == "c\n");
    CHECK(std::string_view(labels["stream"]) == "std\"out");
  }
  {
    const std::string body = encode(HttpFormat::kSplunkHec, b);
    dom::element e = parser.parse(body.substr(0, body.size() - 1));
    CHECK(std::string_view(e["source"]) == "n\\s/p\"1/c\n");
    CHECK(std::string_view(e["fields"]["pod"]) == "p\"1");
  }
  {
    const std::string body = encode(HttpFormat::kElasticsearch, b, "logs-{namespace}");
    const std::string action = body.substr(0, body.find('\n'));
    dom::element a = parser.parse(action);
    CHECK(std::string_view(a["create"]["_index"]) == "logs-n\\s");
  }
  {
    const std::string body = encode(HttpFormat::kOtlp, b);
    dom::element root = parser.parse(body);
    dom::element attrs = root["resourceLogs"].at(0)["resource"]["attributes"];
    CHECK(std::string_view(attrs.at(1)["value"]["stringValue"]) == "p\"1");
  }
}
