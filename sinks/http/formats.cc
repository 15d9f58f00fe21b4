#include "sinks/http/formats.h"

#include <atomic>

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>

#include "agent/core/time_format.h"
#include "agent/core/json_string.h"
#include "sinks/http/civil_text.h"

namespace logship::sinks::http {
namespace {

namespace dom = simdjson::dom;

void append_two_digits(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

struct Civil {
  int64_t year;
  unsigned month, day;
};
Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

}  // namespace

// ---- shared by the formats (body_encoder.h) ----------------------------------

int64_t now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_member(std::string& out, std::string_view key, std::string_view raw, bool& first) {
  if (raw.empty()) return;
  if (!first) out += ',';
  first = false;
  out += '"';
  out += key;
  out += "\":";
  append_quoted(out, raw);
}

void append_kv_string(std::string& out, std::string_view key, std::string_view raw, bool& first) {
  if (raw.empty()) return;
  if (!first) out += ',';
  first = false;
  out += "{\"key\":\"";
  out += key;  // constant attribute names: no escaping needed
  out += "\",\"value\":{\"stringValue\":";
  append_quoted(out, raw);
  out += "}}";
}

RecordRef::RecordRef(const Batch& batch, uint32_t index)
    : raw(batch.record(index)), fields(&batch.fields(index)), shape(batch.k8s_shape(*fields)) {
  k8s = fields->k8s.in(raw);
}

int64_t RecordRef::time_or(int64_t fallback) const {
  // A timestamp needing JSON escapes is not RFC 3339 either: parse the raw text.
  return record_time(ts()).value_or(fallback);
}

BodyEncoderPtr make_body_encoder(HttpFormat format, std::string index_template) {
  switch (format) {
    case HttpFormat::kNdjson: return make_ndjson_encoder();
    case HttpFormat::kLoki: return make_loki_encoder();
    case HttpFormat::kElasticsearch: return make_elasticsearch_encoder(std::move(index_template));
    case HttpFormat::kSplunkHec: return make_splunk_hec_encoder();
    case HttpFormat::kOtlp: return make_otlp_encoder();
  }
  return make_ndjson_encoder();
}

// ---- RecordSelection --------------------------------------------------------

std::pair<RecordSelection, RecordSelection> RecordSelection::split() const {
  const size_t half = size() / 2;
  if (picks_.empty()) {
    const auto mid = begin_ + static_cast<uint32_t>(half);
    return {range(begin_, mid), range(mid, end_)};
  }
  return {picks(std::vector<uint32_t>(picks_.begin(), picks_.begin() + static_cast<ptrdiff_t>(half))),
          picks(std::vector<uint32_t>(picks_.begin() + static_cast<ptrdiff_t>(half), picks_.end()))};
}

RecordSelection RecordSelection::subset(const std::vector<uint32_t>& positions) const {
  std::vector<uint32_t> out;
  out.reserve(positions.size());
  for (uint32_t p : positions) {
    if (p < size()) out.push_back((*this)[p]);
  }
  return picks(std::move(out));
}

// ---- helpers ----------------------------------------------------------------

FormatInfo format_info(HttpFormat format) {
  switch (format) {
    case HttpFormat::kNdjson: return {"", "application/x-ndjson"};
    case HttpFormat::kLoki: return {"/loki/api/v1/push", "application/json"};
    case HttpFormat::kElasticsearch: return {"/_bulk", "application/x-ndjson"};
    case HttpFormat::kSplunkHec: return {"/services/collector/event", "application/json"};
    case HttpFormat::kOtlp: return {"/v1/logs", "application/json"};
  }
  return {"", "application/octet-stream"};
}

std::optional<int64_t> rfc3339_to_unix_nanos(std::string_view ts) {
  // One RFC 3339 parser (agent/core/time_format.h); what is left here is
  // the range: int64 nanoseconds reach only 1677-09-21..2262-04-11, and a
  // time outside is rejected (callers use the read time) rather than wrapped.
  const auto t = parse_rfc3339(ts);
  if (!t) return std::nullopt;
  // (secs + 1) s - (1 s - frac) rather than secs s + frac, so the very first
  // representable instant does not overflow on the way.
  const int64_t frac = t->nanos;
  const int64_t carry = t->unix_seconds < 0 && frac > 0 ? 1 : 0;
  int64_t ns = 0;
  if (__builtin_mul_overflow(t->unix_seconds + carry, int64_t{1000000000}, &ns) ||
      __builtin_add_overflow(ns, frac - carry * 1000000000, &ns)) {
    return std::nullopt;
  }
  return ns;
}

std::atomic<uint64_t>& timestamps_replaced_counter() {
  static std::atomic<uint64_t> counter{0};
  return counter;
}

uint64_t timestamps_replaced_total() { return timestamps_replaced_counter().load(std::memory_order_relaxed); }

std::optional<int64_t> record_time(std::string_view ts) {
  if (ts.empty()) return std::nullopt;
  auto t = rfc3339_to_unix_nanos(ts);
  if (!t) timestamps_replaced_counter().fetch_add(1, std::memory_order_relaxed);
  return t;
}

int severity_number(std::string_view t) {
  // OpenTelemetry log data model, SeverityNumber ranges: TRACE 1, DEBUG 5,
  // INFO 9, WARN 13, ERROR 17, FATAL 21 (the first of each range).
  struct Name {
    std::string_view name;
    int number;
  };
  static constexpr Name kNames[] = {
      {"trace", 1},    {"debug", 5},     {"info", 9},       {"information", 9}, {"informational", 9},
      {"notice", 10},  {"warn", 13},     {"warning", 13},   {"error", 17},      {"err", 17},
      {"fatal", 21},   {"critical", 21}, {"crit", 21},      {"alert", 22},      {"emerg", 23},
      {"emergency", 23}, {"panic", 24},  {"dpanic", 21},    {"severe", 17},     {"fine", 5},
      {"finer", 2},    {"finest", 1},    {"config", 7},     {"verbose", 2},     {"dbug", 5},
      {"eror", 17},    {"trce", 1},      {"crit", 21},
  };
  // Single letters (klog/glog's I/W/E/F, Serilog's compact @l values).
  if (t.size() == 1) {
    switch (t[0]) {
      case 'T': case 't': return 1;
      case 'D': case 'd': return 5;
      case 'I': case 'i': return 9;
      case 'W': case 'w': return 13;
      case 'E': case 'e': return 17;
      case 'F': case 'f': return 21;
      default: return 0;
    }
  }
  for (const Name& n : kNames) {
    if (iequals(n.name, t)) return n.number;
  }
  return 0;
}

int severity_number_from_int(int64_t level) {
  // pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
  if (level >= 60) return 21;
  if (level >= 50) return 17;
  if (level >= 40) return 13;
  if (level >= 30) return 9;
  if (level >= 20) return 5;
  if (level >= 10) return 1;
  return 0;
}

std::string_view severity_name(int number) {
  if (number >= 21) return "fatal";
  if (number >= 17) return "error";
  if (number >= 13) return "warn";
  if (number >= 9) return "info";
  if (number >= 5) return "debug";
  if (number >= 1) return "trace";
  return "";
}

std::string Encoder::index_for(std::string_view tmpl, std::string_view ns, int64_t unix_nanos) {
  std::string out;
  const int64_t secs = unix_nanos >= 0 ? unix_nanos / 1000000000 : (unix_nanos - 999999999) / 1000000000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const Civil c = civil_from_days(days);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const char ch = tmpl[i];
    if (ch == '%' && i + 1 < tmpl.size()) {
      const char f = tmpl[++i];
      if (f == 'Y') {
        append_int(out, c.year);
      } else if (f == 'm') {
        append_two_digits(out, c.month);
      } else if (f == 'd') {
        append_two_digits(out, c.day);
      } else if (f == '%') {
        out += '%';
      } else {
        out += '%';
        out += f;
      }
    } else if (ch == '{' && tmpl.substr(i).starts_with("{namespace}")) {
      // Index names are lower case; namespaces are DNS labels (already
      // lower case). Records from outside Kubernetes have none.
      out += ns.empty() ? std::string_view("unknown") : ns;
      i += std::string_view("{namespace}").size() - 1;
    } else {
      out += ch;
    }
  }
  return out;
}

// ---- Encoder ----------------------------------------------------------------

Encoder::Encoder(HttpFormat format, std::string index_template)
    : format_(format), body_(make_body_encoder(format, std::move(index_template))) {}

Result<void> Encoder::encode(const Batch& batch, const RecordSelection& records, std::string& out) {
  body_->encode(batch, records, out);
  return {};
}

// ---- Elasticsearch bulk response --------------------------------------------

Result<BulkResult> parse_bulk_response(std::string_view body, size_t items) {
  BulkResult result;
  dom::parser parser;
  dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS) {
    return fail(Errc::kInvalid, "the _bulk response is not JSON");
  }
  bool errors = false;
  if (root["errors"].get_bool().get(errors) != simdjson::SUCCESS) {
    return fail(Errc::kInvalid, "the _bulk response has no \"errors\" member");
  }
  if (!errors) return result;
  dom::array arr;
  if (root["items"].get_array().get(arr) != simdjson::SUCCESS) {
    return fail(Errc::kInvalid, "the _bulk response reports errors but has no \"items\"");
  }
  if (arr.size() != items) {
    return fail(Errc::kInvalid, "the _bulk response has " + std::to_string(arr.size()) + " items for " +
                                    std::to_string(items) + " actions");
  }
  uint32_t pos = 0;
  for (dom::element item : arr) {
    // Each item is {"<action>": {"status": ..., "error": {...}}}.
    dom::object wrapper;
    if (item.get_object().get(wrapper) != simdjson::SUCCESS || wrapper.size() != 1) {
      return fail(Errc::kInvalid, "malformed _bulk response item");
    }
    dom::element inner = (*wrapper.begin()).value;
    uint64_t status = 0;
    if (inner["status"].get_uint64().get(status) != simdjson::SUCCESS) {
      return fail(Errc::kInvalid, "_bulk response item without a status");
    }
    if (status < 200 || status >= 300) {
      BulkItemError e;
      e.position = pos;
      e.status = static_cast<unsigned>(status);
      dom::element err;
      if (inner["error"].get(err) == simdjson::SUCCESS) {
        std::string_view type, reason;
        if (err.type() == dom::element_type::OBJECT) {
          if (err["type"].get_string().get(type) != simdjson::SUCCESS) type = {};
          if (err["reason"].get_string().get(reason) != simdjson::SUCCESS) reason = {};
        } else if (err.get_string().get(reason) != simdjson::SUCCESS) {
          reason = {};
        }
        e.reason = std::string(type);
        if (!reason.empty()) e.reason += (e.reason.empty() ? "" : ": ") + std::string(reason.substr(0, 300));
      }
      result.failed.push_back(std::move(e));
    }
    ++pos;
  }
  return result;
}

}  // namespace logship::sinks::http
