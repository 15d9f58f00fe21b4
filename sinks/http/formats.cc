#include "sinks/http/formats.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <unordered_map>

#include "parsers/json/json_string.h"
#include "sinks/http/civil_text.h"

namespace logship::sinks::http {
namespace {

namespace dom = simdjson::dom;

/// Heterogeneous lookup, so a group key built in a reused buffer finds its
/// group without a string allocation per record.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

/// The members of one logship record the formats use. Views point into the
/// parser's memory: valid until the next parse.
struct Rec {
  std::string_view raw;
  std::string_view ts, stream, release, trace_id, span_id;
  std::string_view ns, pod, pod_uid, container, container_id;
  dom::element log;
  bool has_log = false;
  bool truncated = false;
  bool valid = false;  ///< false: not a JSON object (carried as a string)
};

std::string_view str_or_empty(dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

int64_t now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_two_digits(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10 % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

/// A JSON number for a double that came out of JSON (so it is finite).
void append_double(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view s(buf, static_cast<size_t>(end - buf));
  out += s;
  // "1e+20" is valid JSON; "inf"/"nan" cannot occur for parsed input.
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

bool digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

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
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  int y, mo, d, h, mi, s;
  if (ts.size() < 20 || !digits(ts, 0, 4, y) || ts[4] != '-' || !digits(ts, 5, 2, mo) || ts[7] != '-' ||
      !digits(ts, 8, 2, d) || (ts[10] != 'T' && ts[10] != 't' && ts[10] != ' ') || !digits(ts, 11, 2, h) ||
      ts[13] != ':' || !digits(ts, 14, 2, mi) || ts[16] != ':' || !digits(ts, 17, 2, s)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < ts.size() && ts[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < ts.size() && ts[pos] >= '0' && ts[pos] <= '9') {
      if (n < 9) {
        frac = frac * 10 + (ts[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) frac *= 10;
  }
  if (pos >= ts.size()) return std::nullopt;
  int64_t offset_s = 0;
  if (ts[pos] == 'Z' || ts[pos] == 'z') {
    ++pos;
  } else if (ts[pos] == '+' || ts[pos] == '-') {
    int oh, om;
    if (!digits(ts, pos + 1, 2, oh) || pos + 3 >= ts.size() || ts[pos + 3] != ':' || !digits(ts, pos + 4, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (ts[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != ts.size()) return std::nullopt;
  const int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                       h * 3600 + mi * 60 + std::min(s, 59) - offset_s;
  // int64 nanoseconds reach only 1677-09-21..2262-04-11: a time outside is
  // rejected (callers use the read time) rather than wrapped around.
  // (secs + 1) s - (1 s - frac) rather than secs s + frac, so the very first
  // representable instant does not overflow on the way.
  const int64_t carry = secs < 0 && frac > 0 ? 1 : 0;
  int64_t ns = 0;
  if (__builtin_mul_overflow(secs + carry, int64_t{1000000000}, &ns) ||
      __builtin_add_overflow(ns, frac - carry * 1000000000, &ns)) {
    return std::nullopt;
  }
  return ns;
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

namespace {

std::string_view severity_name(int number) {
  if (number >= 21) return "fatal";
  if (number >= 17) return "error";
  if (number >= 13) return "warn";
  if (number >= 9) return "info";
  if (number >= 5) return "debug";
  if (number >= 1) return "trace";
  return "";
}

}  // namespace

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

struct Encoder::State {
  dom::parser parser;
  std::string padded;  // one record, with simdjson's padding after it
  std::string key;     // group key being built
  std::string scratch;

  // Groups (loki streams, otlp resources), in first-seen order.
  struct Group {
    std::string header;  // the labels object / the resource object
    std::string items;   // otlp: logRecords joined by ','
    struct Value {
      int64_t ns;
      uint32_t begin, end;  // in items
    };
    std::vector<Value> values;  // loki: each value's bytes in items
  };
  std::vector<Group> groups;
  size_t used_groups = 0;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> group_index;

  // Elasticsearch: index of the last record, reused while ns and day repeat.
  std::string last_ns;
  int64_t last_day = INT64_MIN;
  std::string last_index;

  void reset_groups() {
    for (size_t i = 0; i < used_groups; ++i) {
      groups[i].header.clear();
      groups[i].items.clear();
      groups[i].values.clear();
    }
    used_groups = 0;
    group_index.clear();
  }

  Group& group_for(const std::string& k, bool& created) {
    auto it = group_index.find(std::string_view(k));
    if (it != group_index.end()) {
      created = false;
      return groups[it->second];
    }
    created = true;
    if (used_groups == groups.size()) groups.emplace_back();
    group_index.emplace(k, used_groups);
    return groups[used_groups++];
  }

  /// Parses one record into `r`. False (and r.valid false) when it is not a
  /// JSON object.
  bool parse(std::string_view raw, Rec& r) {
    r = Rec{};
    r.raw = raw;
    padded.resize(raw.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded.data(), raw.data(), raw.size());
    dom::element root;
    if (parser.parse(padded.data(), raw.size(), false).get(root) != simdjson::SUCCESS) return false;
    dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return false;
    for (auto field : obj) {
      const std::string_view k = field.key;
      if (k == "ts") r.ts = str_or_empty(field.value);
      else if (k == "stream") r.stream = str_or_empty(field.value);
      else if (k == "release") r.release = str_or_empty(field.value);
      else if (k == "trace_id") r.trace_id = str_or_empty(field.value);
      else if (k == "span_id") r.span_id = str_or_empty(field.value);
      else if (k == "log") {
        r.log = field.value;
        r.has_log = true;
      } else if (k == "truncated") {
        bool b = false;
        r.truncated = field.value.get_bool().get(b) == simdjson::SUCCESS && b;
      } else if (k == "k8s") {
        dom::object k8s;
        if (field.value.get_object().get(k8s) != simdjson::SUCCESS) continue;
        for (auto kf : k8s) {
          const std::string_view kk = kf.key;
          if (kk == "namespace") r.ns = str_or_empty(kf.value);
          else if (kk == "pod") r.pod = str_or_empty(kf.value);
          else if (kk == "pod_uid") r.pod_uid = str_or_empty(kf.value);
          else if (kk == "container") r.container = str_or_empty(kf.value);
          else if (kk == "container_id") r.container_id = str_or_empty(kf.value);
        }
      }
    }
    r.valid = true;
    return true;
  }
};

Encoder::Encoder(HttpFormat format, std::string index_template)
    : format_(format), index_template_(std::move(index_template)), state_(std::make_unique<State>()) {}

Encoder::~Encoder() = default;

namespace {

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
Severity severity_of(const Rec& r) {
  Severity s;
  if (!r.has_log || r.log.type() != dom::element_type::OBJECT) return s;
  const dom::object obj(r.log);
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

void append_kv_string(std::string& out, std::string_view key, std::string_view value, bool& first) {
  if (value.empty()) return;
  if (!first) out += ',';
  first = false;
  out += "{\"key\":\"";
  out += key;  // constant attribute names: no escaping needed
  out += "\",\"value\":{\"stringValue\":";
  json::append_string(out, value);
  out += "}}";
}

void append_member(std::string& out, std::string_view key, std::string_view value, bool& first) {
  if (value.empty()) return;
  if (!first) out += ',';
  first = false;
  out += '"';
  out += key;
  out += "\":";
  json::append_string(out, value);
}

/// A lowercase hex id of the given length, as OTLP/JSON wants trace and span ids.
bool is_hex_id(std::string_view s, size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

}  // namespace

std::optional<int64_t> Encoder::record_time(std::string_view ts) {
  if (ts.empty()) return std::nullopt;
  auto t = rfc3339_to_unix_nanos(ts);
  if (!t) timestamps_replaced_.fetch_add(1, std::memory_order_relaxed);
  return t;
}

Result<void> Encoder::encode(const Batch& batch, const RecordSelection& sel, std::string& out) {
  out.clear();
  State& st = *state_;
  const size_t n = sel.size();
  if (format_ == HttpFormat::kNdjson) {
    // The batch is NDJSON already: a whole batch goes as it is.
    if (sel.whole(batch.record_count())) {
      out.assign(batch.data());
      return {};
    }
    for (size_t i = 0; i < n; ++i) {
      out += batch.record(sel[i]);
      out += '\n';
    }
    return {};
  }

  const int64_t now = now_nanos();
  Rec r;
  switch (format_) {
    case HttpFormat::kNdjson:
      break;

    case HttpFormat::kElasticsearch: {
      for (size_t i = 0; i < n; ++i) {
        const std::string_view raw = batch.record(sel[i]);
        st.parse(raw, r);
        const auto t = record_time(r.ts);
        const int64_t ns = t.value_or(now);
        const int64_t secs = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
        const int64_t day = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
        if (day != st.last_day || r.ns != st.last_ns || st.last_index.empty()) {
          st.last_index = index_for(index_template_, r.ns, ns);
          st.last_day = day;
          st.last_ns.assign(r.ns);
        }
        // "create" works for indices and data streams alike.
        out += "{\"create\":{\"_index\":";
        json::append_string(out, st.last_index);
        out += "}}\n";
        if (!r.valid) {
          out += "{\"log\":";
          json::append_string(out, raw);
          out += "}\n";
          continue;
        }
        // The record as it is, with @timestamp first: no re-serialisation.
        out += '{';
        if (!r.ts.empty()) {
          out += "\"@timestamp\":";
          json::append_string(out, r.ts);
          std::string_view rest = raw.substr(1);
          while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
          if (!rest.starts_with('}')) out += ',';
          out += rest;
        } else {
          out += raw.substr(1);
        }
        out += '\n';
      }
      return {};
    }

    case HttpFormat::kSplunkHec: {
      for (size_t i = 0; i < n; ++i) {
        const std::string_view raw = batch.record(sel[i]);
        st.parse(raw, r);
        const auto t = record_time(r.ts);
        const int64_t ns = t.value_or(now);
        // HEC "time": epoch seconds with a fraction (microseconds kept).
        out += "{\"time\":";
        const int64_t secs = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
        append_int(out, secs);
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%06d", static_cast<int>((ns - secs * 1000000000) / 1000));
        out += frac;
        out += ",\"sourcetype\":\"_json\"";
        if (!r.ns.empty() || !r.pod.empty()) {
          st.scratch.clear();
          st.scratch.append(r.ns).append("/").append(r.pod).append("/").append(r.container);
          out += ",\"source\":";
          json::append_string(out, st.scratch);
        }
        // Indexed fields: flat strings only.
        bool first = true;
        st.scratch.clear();
        append_member(st.scratch, "namespace", r.ns, first);
        append_member(st.scratch, "pod", r.pod, first);
        append_member(st.scratch, "container", r.container, first);
        append_member(st.scratch, "stream", r.stream, first);
        if (!first) {
          out += ",\"fields\":{";
          out += st.scratch;
          out += '}';
        }
        out += ",\"event\":";
        if (r.valid) out += raw;
        else json::append_string(out, raw);
        out += "}\n";
      }
      return {};
    }

    case HttpFormat::kLoki: {
      st.reset_groups();
      for (size_t i = 0; i < n; ++i) {
        const std::string_view raw = batch.record(sel[i]);
        st.parse(raw, r);
        // Labels: the stream selector. Values must not be empty in Loki.
        bool first = true;
        st.key.clear();
        st.key += '{';
        append_member(st.key, "namespace", r.ns, first);
        append_member(st.key, "pod", r.pod, first);
        append_member(st.key, "container", r.container, first);
        append_member(st.key, "stream", r.stream, first);
        // Loki wants at least one label.
        if (first) st.key += "\"job\":\"logship\"";
        st.key += '}';
        bool created = false;
        State::Group& g = st.group_for(st.key, created);
        if (created) g.header = st.key;
        const auto t = record_time(r.ts);
        const auto begin = static_cast<uint32_t>(g.items.size());
        // The line is the whole record: LogQL's `| json` gets every field.
        json::append_string(g.items, raw);
        g.values.push_back({t.value_or(now), begin, static_cast<uint32_t>(g.items.size())});
      }
      out += "{\"streams\":[";
      for (size_t gi = 0; gi < st.used_groups; ++gi) {
        State::Group& g = st.groups[gi];
        // Oldest first within a stream; stable, so equal times keep file order.
        std::stable_sort(g.values.begin(), g.values.end(),
                         [](const State::Group::Value& a, const State::Group::Value& b) { return a.ns < b.ns; });
        if (gi) out += ',';
        out += "{\"stream\":";
        out += g.header;
        out += ",\"values\":[";
        for (size_t vi = 0; vi < g.values.size(); ++vi) {
          if (vi) out += ',';
          out += "[\"";
          append_int(out, g.values[vi].ns);
          out += "\",";
          out.append(g.items, g.values[vi].begin, g.values[vi].end - g.values[vi].begin);
          out += ']';
        }
        out += "]}";
      }
      out += "]}";
      return {};
    }

    case HttpFormat::kOtlp: {
      st.reset_groups();
      char now_text[24];
      auto [now_end, now_ec] = std::to_chars(now_text, now_text + sizeof now_text, now);
      const std::string_view observed(now_text, static_cast<size_t>(now_end - now_text));
      for (size_t i = 0; i < n; ++i) {
        const std::string_view raw = batch.record(sel[i]);
        st.parse(raw, r);
        st.key.clear();
        st.key.append(r.ns).append("\x1f").append(r.pod).append("\x1f").append(r.pod_uid).append("\x1f");
        st.key.append(r.container).append("\x1f").append(r.container_id).append("\x1f").append(r.release);
        bool created = false;
        State::Group& g = st.group_for(st.key, created);
        if (created) {
          bool first = true;
          g.header = "{\"attributes\":[";
          append_kv_string(g.header, "k8s.namespace.name", r.ns, first);
          append_kv_string(g.header, "k8s.pod.name", r.pod, first);
          append_kv_string(g.header, "k8s.pod.uid", r.pod_uid, first);
          append_kv_string(g.header, "k8s.container.name", r.container, first);
          append_kv_string(g.header, "container.id", r.container_id, first);
          append_kv_string(g.header, "service.version", r.release, first);
          g.header += "]}";
        } else {
          g.items += ',';
        }
        std::string& o = g.items;
        o += '{';
        const auto t = record_time(r.ts);
        if (t) {
          o += "\"timeUnixNano\":\"";
          append_int(o, *t);
          o += "\",";
        }
        o += "\"observedTimeUnixNano\":\"";
        o += observed;
        o += '"';
        const Severity sev = r.valid ? severity_of(r) : Severity{};
        if (sev.number != 0) {
          o += ",\"severityNumber\":";
          append_int(o, sev.number);
        }
        if (!sev.text.empty()) {
          o += ",\"severityText\":";
          json::append_string(o, sev.text);
        }
        o += ",\"body\":";
        if (!r.valid) {
          o += "{\"stringValue\":";
          json::append_string(o, raw);
          o += '}';
        } else if (r.has_log) {
          append_any_value(o, r.log);
        } else {
          o += "{}";
        }
        bool first = true;
        o += ",\"attributes\":[";
        append_kv_string(o, "log.iostream", r.stream, first);
        if (r.truncated) {
          if (!first) o += ',';
          first = false;
          o += "{\"key\":\"logship.truncated\",\"value\":{\"boolValue\":true}}";
        }
        o += ']';
        // OTLP/JSON carries ids as hex strings (not base64 as in proto3 JSON).
        if (is_hex_id(r.trace_id, 32)) {
          o += ",\"traceId\":\"";
          o += r.trace_id;
          o += '"';
        }
        if (is_hex_id(r.span_id, 16)) {
          o += ",\"spanId\":\"";
          o += r.span_id;
          o += '"';
        }
        o += '}';
      }
      out += "{\"resourceLogs\":[";
      for (size_t gi = 0; gi < st.used_groups; ++gi) {
        const State::Group& g = st.groups[gi];
        if (gi) out += ',';
        out += "{\"resource\":";
        out += g.header;
        out += ",\"scopeLogs\":[{\"scope\":{\"name\":\"logship\"},\"logRecords\":[";
        out += g.items;
        out += "]}]}";
      }
      out += "]}";
      return {};
    }
  }
  return fail(Errc::kInvalid, "unknown HTTP format");
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
