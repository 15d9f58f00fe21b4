// LOGSHIP_HTTP_FORMAT=otlp: OTLP/HTTP JSON ExportLogsServiceRequest; one
// resource per namespace/pod/pod_uid/container/container_id/release.
//
// The one format that parses: the body is the app's log value as an OTLP
// AnyValue, so a JSON object log is parsed (that value only, not the
// record) to walk its members; it also yields the severity.

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "agent/core/json_string.h"
#include "sinks/http/body_encoder.h"
#include "sinks/http/civil_text.h"
#include "sinks/http/formats.h"
#include "sinks/http/record_groups.h"

namespace logship::sinks::http {
namespace {

namespace dom = simdjson::dom;

std::string_view str_or_empty(dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

/// A JSON number for a double that came out of JSON (so it is finite).
void append_double(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
  // "1e+20" is valid JSON; "inf"/"nan" cannot occur for parsed input.
}

/// Appends a JSON value as an OTLP AnyValue (JSON mapping of the protobuf).
void append_any_value(std::string& out, dom::element e) {
  switch (e.type()) {
    case dom::element_type::STRING:
      out += "{\"stringValue\":";
      json::append_string(out, str_or_empty(e));
      out += '}';
      break;
    case dom::element_type::INT64: {
      int64_t v = 0;
      if (e.get_int64().get(v) != simdjson::SUCCESS) v = 0;
      // int64 is a JSON string in the protobuf JSON mapping.
      out += "{\"intValue\":\"";
      append_int(out, v);
      out += "\"}";
      break;
    }
    case dom::element_type::UINT64: {
      uint64_t v = 0;
      if (e.get_uint64().get(v) != simdjson::SUCCESS) v = 0;
      out += "{\"doubleValue\":";
      append_double(out, static_cast<double>(v));
      out += '}';
      break;
    }
    case dom::element_type::DOUBLE: {
      double v = 0;
      if (e.get_double().get(v) != simdjson::SUCCESS) v = 0;
      out += "{\"doubleValue\":";
      append_double(out, v);
      out += '}';
      break;
    }
    case dom::element_type::BOOL: {
      bool v = false;
      if (e.get_bool().get(v) != simdjson::SUCCESS) v = false;
      out += v ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
      break;
    }
    case dom::element_type::NULL_VALUE:
      out += "{}";  // an empty AnyValue is OTLP's null
      break;
    case dom::element_type::ARRAY: {
      out += "{\"arrayValue\":{\"values\":[";
      bool first = true;
      for (dom::element item : dom::array(e)) {
        if (!first) out += ',';
        first = false;
        append_any_value(out, item);
      }
      out += "]}}";
      break;
    }
    case dom::element_type::OBJECT: {
      out += "{\"kvlistValue\":{\"values\":[";
      bool first = true;
      for (auto field : dom::object(e)) {
        if (!first) out += ',';
        first = false;
        out += "{\"key\":";
        json::append_string(out, field.key);
        out += ",\"value\":";
        append_any_value(out, field.value);
        out += '}';
      }
      out += "]}}";
      break;
    }
  }
}

/// The app's level, from the log object's usual level members.
struct Severity {
  int number = 0;
  std::string_view text;
};
Severity severity_of(dom::object obj) {
  Severity s;
  auto from = [&](dom::element v) -> bool {
    std::string_view t;
    if (v.get_string().get(t) == simdjson::SUCCESS) {
      s.text = t;
      s.number = severity_number(t);
      return true;
    }
    int64_t n = 0;
    if (v.get_int64().get(n) == simdjson::SUCCESS) {
      s.number = severity_number_from_int(n);
      s.text = severity_name(s.number);
      return true;
    }
    return false;
  };
  static constexpr std::string_view kKeys[] = {"level", "severity", "lvl", "log.level", "levelname", "loglevel",
                                               "@l"};
  for (auto field : obj) {
    const std::string_view k = field.key;
    for (std::string_view want : kKeys) {
      if (iequals(k, want) && from(field.value)) return s;
    }
  }
  // ECS nests it: {"log":{"level":"info"}}.
  dom::element nested;
  if (obj["log"].get(nested) == simdjson::SUCCESS && nested.type() == dom::element_type::OBJECT) {
    dom::element lv;
    if (dom::object(nested)["level"].get(lv) == simdjson::SUCCESS) from(lv);
  }
  return s;
}

/// A hex id of the given length, as OTLP/JSON wants trace and span ids.
bool is_hex_id(std::string_view s, size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

class OtlpEncoder final : public BodyEncoder {
 public:
  void encode(const Batch& batch, const RecordSelection& sel, std::string& out) override {
    out.clear();
    groups_.reset();
    char now_text[24];
    auto [now_end, now_ec] = std::to_chars(now_text, now_text + sizeof now_text, now_nanos());
    const std::string_view observed(now_text, static_cast<size_t>(now_end - now_text));
    for (size_t i = 0; i < sel.size(); ++i) add(RecordRef(batch, sel[i]), observed);
    out += "{\"resourceLogs\":[";
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const RecordGroups::Group& g = groups_[gi];
      if (gi) out += ',';
      out += "{\"resource\":";
      out += g.header;
      out += ",\"scopeLogs\":[{\"scope\":{\"name\":\"logship\"},\"logRecords\":[";
      out += g.items;
      out += "]}]}";
    }
    out += "]}";
  }

 private:
  void add(const RecordRef& r, std::string_view observed) {
    key_.clear();
    key_.append(r.ns()).append("\x1f").append(r.pod()).append("\x1f").append(r.pod_uid()).append("\x1f");
    key_.append(r.container()).append("\x1f").append(r.container_id()).append("\x1f").append(r.release());
    bool created = false;
    RecordGroups::Group& g = groups_.find_or_add(key_, created);
    if (created) {
      bool first = true;
      g.header = "{\"attributes\":[";
      append_kv_string(g.header, "k8s.namespace.name", r.ns(), first);
      append_kv_string(g.header, "k8s.pod.name", r.pod(), first);
      append_kv_string(g.header, "k8s.pod.uid", r.pod_uid(), first);
      append_kv_string(g.header, "k8s.container.name", r.container(), first);
      append_kv_string(g.header, "container.id", r.container_id(), first);
      append_kv_string(g.header, "service.version", r.release(), first);
      g.header += "]}";
    } else {
      g.items += ',';
    }
    std::string& o = g.items;
    o += '{';
    const std::string_view ts = r.ts();
    const auto t = record_time(ts);
    if (t) {
      o += "\"timeUnixNano\":\"";
      append_int(o, *t);
      o += "\",";
    }
    o += "\"observedTimeUnixNano\":\"";
    o += observed;
    o += '"';
    // The body: the app's object as a kvlist (parsed: that value only), or
    // the text line as it was written.
    dom::element log;
    const bool object = r.structured() && r.fields->log_is_object() && parse_log(r.log(), log);
    const Severity sev = object ? severity_of(dom::object(log)) : Severity{};
    if (sev.number != 0) {
      o += ",\"severityNumber\":";
      append_int(o, sev.number);
    }
    if (!sev.text.empty()) {
      o += ",\"severityText\":";
      json::append_string(o, sev.text);
    }
    o += ",\"body\":";
    if (object) {
      append_any_value(o, log);
    } else if (r.structured() && !r.fields->log_is_object() && r.fields->log.present()) {
      o += "{\"stringValue\":";
      o += r.log();  // a JSON string as the encoder wrote it
      o += '}';
    } else if (!r.structured()) {
      o += "{\"stringValue\":";
      json::append_string(o, r.raw);
      o += '}';
    } else {
      o += "{}";
    }
    bool first = true;
    o += ",\"attributes\":[";
    append_kv_string(o, "log.iostream", r.stream(), first);
    if (r.structured() && r.fields->truncated()) {
      if (!first) o += ',';
      first = false;
      o += "{\"key\":\"logship.truncated\",\"value\":{\"boolValue\":true}}";
    }
    o += ']';
    // OTLP/JSON carries ids as hex strings (not base64 as in proto3 JSON).
    if (is_hex_id(r.trace_id(), 32)) {
      o += ",\"traceId\":\"";
      o += r.trace_id();
      o += '"';
    }
    if (is_hex_id(r.span_id(), 16)) {
      o += ",\"spanId\":\"";
      o += r.span_id();
      o += '"';
    }
    o += '}';
  }

  /// Parses the log object (copied with simdjson's padding). False when it
  /// does not parse as an object (then it is carried as a string).
  bool parse_log(std::string_view text, dom::element& out) {
    padded_.resize(text.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded_.data(), text.data(), text.size());
    if (parser_.parse(padded_.data(), text.size(), false).get(out) != simdjson::SUCCESS) return false;
    return out.type() == dom::element_type::OBJECT;
  }

  dom::parser parser_;
  std::string padded_;
  RecordGroups groups_;
  std::string key_;
};

}  // namespace

BodyEncoderPtr make_otlp_encoder() { return std::make_unique<OtlpEncoder>(); }

}  // namespace logship::sinks::http
