#include "parsers/json/payload_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <array>

namespace logship::json {

static_assert(kPadding >= simdjson::SIMDJSON_PADDING,
              "payloads are padded by kPadding, simdjson may read SIMDJSON_PADDING past the end");

namespace {

using simdjson::dom::element;

inline bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_json_space(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_json_space(s[b])) ++b;
  while (e > b && is_json_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Slots for the candidate id fields, in priority order (lower wins). The
// traceparent field feeds both ids and sits between the explicit id fields
// and the ECS ones; it is kept separately.
enum TraceSlot : std::size_t {
  kTraceSnake,      // trace_id
  kTraceCamel,      // traceId
  kTraceUpper,      // traceID
  kTraceEcsNested,  // "trace": {"id": ...}
  kTraceEcsDotted,  // trace.id
  kTraceGoogle,     // logging.googleapis.com/trace
  kTraceSlots,
};
enum SpanSlot : std::size_t {
  kSpanSnake,       // span_id
  kSpanCamel,       // spanId
  kSpanUpper,       // spanID
  kSpanEcsNested,   // "span": {"id": ...}
  kSpanEcsDotted,   // span.id
  kSpanGoogle,      // logging.googleapis.com/spanId
  kSpanSlots,
};

// Collects the string values of the id fields in one pass over the top-level
// keys, then resolves them by priority. Collecting first keeps the walk to a
// single key comparison per field instead of one lookup per spelling, and an
// invalid value in a high-priority field can still fall back to a lower one.
// An empty view means "absent" (an empty string is never a valid id anyway).
// With duplicate keys the first occurrence is used. Views point into the
// simdjson document and are only valid until the next parse.
class IdFields {
 public:
  // Dispatches on the key length first: almost every key in a log object
  // ("message", "level", "ts", ...) is rejected by the switch or by a single
  // comparison.
  void offer(std::string_view key, element value) {
    switch (key.size()) {
      case 4:
        if (key == "span") take_nested_id(span_[kSpanEcsNested], value);
        return;
      case 5:
        if (key == "trace") take_nested_id(trace_[kTraceEcsNested], value);
        return;
      case 6:
        if (key == "spanId") take_string(span_[kSpanCamel], value);
        else if (key == "spanID") take_string(span_[kSpanUpper], value);
        return;
      case 7:
        if (key == "traceId") take_string(trace_[kTraceCamel], value);
        else if (key == "traceID") take_string(trace_[kTraceUpper], value);
        else if (key == "span_id") take_string(span_[kSpanSnake], value);
        else if (key == "span.id") take_string(span_[kSpanEcsDotted], value);
        return;
      case 8:
        if (key == "trace_id") take_string(trace_[kTraceSnake], value);
        else if (key == "trace.id") take_string(trace_[kTraceEcsDotted], value);
        return;
      case 11:
        if (key == "traceparent") take_string(traceparent_, value);
        return;
      case 28:
        if (key == "logging.googleapis.com/trace") take_string(trace_[kTraceGoogle], value);
        return;
      case 29:
        if (key == "logging.googleapis.com/spanId") take_string(span_[kSpanGoogle], value);
        return;
      default:
        return;
    }
  }

  [[nodiscard]] TraceContext resolve() const {
    TraceContext tc;
    TraceContext from_header;
    const bool has_header = !traceparent_.empty() && parse_traceparent(traceparent_, from_header);

    tc.has_trace = resolve_trace(from_header, has_header, tc.trace_id);
    tc.has_span = resolve_span(from_header, has_header, tc.span_id);
    return tc;
  }

 private:
  static void take_string(std::string_view& slot, element value) {
    if (!slot.empty()) return;
    std::string_view s;
    if (value.get_string().get(s) == simdjson::SUCCESS) slot = s;
  }

  // ECS nests ids as {"trace": {"id": "..."}}.
  static void take_nested_id(std::string_view& slot, element value) {
    if (!slot.empty()) return;
    simdjson::dom::object obj;
    if (value.get_object().get(obj) != simdjson::SUCCESS) return;
    for (const simdjson::dom::key_value_pair kv : obj) {
      if (kv.key == "id") {
        take_string(slot, kv.value);
        return;
      }
    }
  }

  // Cloud Logging's special field holds "projects/PROJECT/traces/TRACE_ID";
  // some clients write the bare id. Returns the id part.
  static std::string_view google_trace_id(std::string_view v) {
    constexpr std::string_view kProjects = "projects/";
    constexpr std::string_view kTraces = "/traces/";
    if (!v.starts_with(kProjects)) return v;
    const std::size_t slash = v.find('/', kProjects.size());
    if (slash == kProjects.size() || slash == std::string_view::npos) return {};
    if (v.compare(slash, kTraces.size(), kTraces) != 0) return {};
    return v.substr(slash + kTraces.size());
  }

  bool resolve_trace(const TraceContext& header, bool has_header, std::array<char, 32>& out) const {
    for (std::size_t i = kTraceSnake; i <= kTraceUpper; ++i) {
      if (normalize_trace_id(trace_[i], out)) return true;
    }
    if (has_header && header.has_trace) {
      out = header.trace_id;
      return true;
    }
    if (normalize_trace_id(trace_[kTraceEcsNested], out)) return true;
    if (normalize_trace_id(trace_[kTraceEcsDotted], out)) return true;
    const std::string_view google = trace_[kTraceGoogle];
    return !google.empty() && normalize_trace_id(google_trace_id(google), out);
  }

  bool resolve_span(const TraceContext& header, bool has_header, std::array<char, 16>& out) const {
    for (std::size_t i = kSpanSnake; i <= kSpanUpper; ++i) {
      if (normalize_span_id(span_[i], out)) return true;
    }
    if (has_header && header.has_span) {
      out = header.span_id;
      return true;
    }
    for (std::size_t i = kSpanEcsNested; i < kSpanSlots; ++i) {
      if (normalize_span_id(span_[i], out)) return true;
    }
    return false;
  }

  std::array<std::string_view, kTraceSlots> trace_{};
  std::array<std::string_view, kSpanSlots> span_{};
  std::string_view traceparent_;
};

}  // namespace

struct PayloadParser::Impl {
  // The DOM is parsed into our own document so that the parser and document
  // can be grown together, geometrically. Left to itself simdjson grows both
  // to exactly the current payload size, which reallocates on every payload
  // that is a little bigger than the biggest so far.
  simdjson::dom::parser parser;
  simdjson::dom::document doc;

  static constexpr std::size_t kInitialCapacity = 4096;

  // Grows parser and document to at least `len`. Returns false if an
  // allocation failed. That is deliberately not fatal: parse_into_document
  // retries with the exact size and reports MEMALLOC/CAPACITY, which makes
  // the payload "not an object" instead of crashing the worker.
  bool reserve(std::size_t len) {
    const std::size_t have = std::min(parser.capacity(), doc.capacity());
    if (len <= have) return true;
    const std::size_t want =
        std::min(std::max({len, have * 2, kInitialCapacity}), parser.max_capacity());
    if (parser.capacity() < want && parser.allocate(want) != simdjson::SUCCESS) return false;
    return doc.capacity() >= want || doc.allocate(want) == simdjson::SUCCESS;
  }

  // Parses `object_text` (trimmed, starts with '{' and ends with '}') and, if
  // it is one valid JSON object, extracts its trace context into `trace`.
  bool parse_object(std::string_view object_text, TraceContext& trace) {
    reserve(object_text.size());
    element root;
    // realloc_if_needed = false: parse in place, relying on the kPadding
    // contract instead of copying every payload into a padded buffer.
    if (parser.parse_into_document(doc, object_text.data(), object_text.size(), false).get(root) !=
        simdjson::SUCCESS) {
      return false;
    }
    simdjson::dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return false;
    IdFields ids;
    for (const simdjson::dom::key_value_pair kv : obj) ids.offer(kv.key, kv.value);
    trace = ids.resolve();
    return true;
  }
};

PayloadParser::PayloadParser() : impl_(std::make_unique<Impl>()) {}
PayloadParser::~PayloadParser() = default;
PayloadParser::PayloadParser(PayloadParser&&) noexcept = default;
PayloadParser& PayloadParser::operator=(PayloadParser&&) noexcept = default;

PayloadParser::Parsed PayloadParser::parse(std::string_view payload) {
  Parsed out;
  const std::string_view trimmed = trim_json_space(payload);
  // Only something that looks like an object is worth a full parse; the
  // cheap bracket check keeps plain text lines off the simdjson path.
  if (trimmed.size() >= 2 && trimmed.front() == '{' && trimmed.back() == '}') {
    // A moved-from parser gets fresh state rather than a null dereference.
    if (!impl_) impl_ = std::make_unique<Impl>();
    if (impl_->parse_object(trimmed, out.trace)) {
      out.is_object = true;
      out.object = trimmed;
      return out;
    }
  }
  out.trace = find_traceparent(payload);
  return out;
}

}  // namespace logship::json
