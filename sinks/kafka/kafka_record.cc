#include "sinks/kafka/kafka_record.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace logship::sinks::kafka {
namespace {

/// A tiny cursor over the record head. Every step checks bounds: a record
/// that is not shaped as expected ends the scan, it never reads past it.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  /// Reads a JSON string; `pos_` must be at its opening quote. memchr finds
  /// the closing quote (ids of 32 and 64 hex digits are most of the head).
  bool string(JsonText& out) {
    if (!eat('"')) return false;
    const size_t begin = pos_;
    size_t from = pos_;
    for (;;) {
      const void* q = std::memchr(s_.data() + from, '"', s_.size() - from);
      if (q == nullptr) return false;
      const size_t quote = static_cast<size_t>(static_cast<const char*>(q) - s_.data());
      // The quote is escaped if an odd number of backslashes precede it.
      size_t backslashes = 0;
      while (quote - backslashes > begin && s_[quote - backslashes - 1] == '\\') ++backslashes;
      if (backslashes % 2 == 0) {
        const bool escaped = std::memchr(s_.data() + begin, '\\', quote - begin) != nullptr;
        out = JsonText{.raw = s_.substr(begin, quote - begin), .escaped = escaped, .present = true};
        pos_ = quote + 1;
        return true;
      }
      from = quote + 1;
    }
  }
  /// Skips one JSON value of any kind (nested objects such as k8s labels,
  /// arrays, numbers, literals), string-aware so braces in strings do not
  /// count.
  bool skip_value() {
    skip_space();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '"') {
      JsonText ignored;
      return string(ignored);
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      while (pos_ < s_.size()) {
        const char d = s_[pos_];
        if (d == '"') {
          JsonText ignored;
          if (!string(ignored)) return false;
          continue;
        }
        ++pos_;
        if (d == '{' || d == '[') ++depth;
        else if ((d == '}' || d == ']') && --depth == 0) return true;
      }
      return false;
    }
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']' && s_[pos_] != ' ' &&
           s_[pos_] != '\t' && s_[pos_] != '\n' && s_[pos_] != '\r') {
      ++pos_;
    }
    return pos_ > start;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Four hex digits at `s[pos]`, or -1.
int32_t hex4(std::string_view s, size_t pos) {
  if (pos + 4 > s.size()) return -1;
  int32_t v = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    const char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  return v;
}

bool legal_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

}  // namespace

std::string_view JsonText::decode(std::string& scratch) const {
  if (!escaped) return raw;
  scratch.clear();
  decode_json_string(raw, scratch);
  return scratch;
}

void decode_json_string(std::string_view raw, std::string& out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out += c;
      continue;
    }
    const char e = raw[i + 1];
    switch (e) {
      case '"': out += '"'; ++i; continue;
      case '\\': out += '\\'; ++i; continue;
      case '/': out += '/'; ++i; continue;
      case 'b': out += '\b'; ++i; continue;
      case 'f': out += '\f'; ++i; continue;
      case 'n': out += '\n'; ++i; continue;
      case 'r': out += '\r'; ++i; continue;
      case 't': out += '\t'; ++i; continue;
      case 'u': {
        int32_t cp = hex4(raw, i + 2);
        if (cp < 0) break;
        size_t used = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= raw.size() && raw[i + 6] == '\\' && raw[i + 7] == 'u') {
          const int32_t lo = hex4(raw, i + 8);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            used = 12;
          }
        }
        // A lone surrogate cannot be UTF-8: U+FFFD, as the encoder does for
        // invalid input.
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        append_utf8(out, static_cast<uint32_t>(cp));
        i += used - 1;
        continue;
      }
      default: break;
    }
    out += c;  // malformed escape: keep the backslash, the next char follows
  }
}

bool scan_record_head(std::string_view record, RecordHead& head, bool want_k8s) {
  head = RecordHead{};
  Cursor cur(record);
  if (!cur.eat('{')) return false;
  for (;;) {
    JsonText key;
    if (!cur.string(key) || !cur.eat(':')) return false;
    if (key.raw == "log") return true;  // the application's data starts here
    // The encoder writes release and trace_id before k8s (the record
    // contract's order), so without a use for k8s the scan ends here.
    if (key.raw == "k8s" && !want_k8s) return true;
    if (key.raw == "k8s") {
      if (!cur.eat('{')) return false;
      if (!cur.peek('}')) {
        for (;;) {
          JsonText name;
          if (!cur.string(name) || !cur.eat(':')) return false;
          if (cur.peek('"')) {
            JsonText value;
            if (!cur.string(value)) return false;
            if (name.raw == "namespace") head.namespace_name = value;
            else if (name.raw == "pod") head.pod = value;
            else if (name.raw == "container") head.container = value;
          } else if (!cur.skip_value()) {  // labels, annotations: objects
            return false;
          }
          if (!cur.eat(',')) break;
        }
      }
      if (!cur.eat('}')) return false;
    } else if (cur.peek('"')) {
      // ts, stream, release, trace_id, span_id.
      JsonText value;
      if (!cur.string(value)) return false;
      if (key.raw == "release") head.release = value;
      else if (key.raw == "trace_id") head.trace_id = value;
    } else if (!cur.skip_value()) {  // a member of another kind: not ours to read
      return false;
    }
    if (!cur.eat(',')) return false;
  }
}

std::optional<std::string_view> message_key(config::KafkaKey mode, const RecordHead& head, std::string& scratch) {
  using config::KafkaKey;
  std::string piece;
  const auto add = [&](const JsonText& t) {
    if (t.escaped) {
      piece.clear();
      decode_json_string(t.raw, piece);
      scratch += piece;
    } else {
      scratch += t.raw;
    }
  };
  switch (mode) {
    case KafkaKey::kNone: return std::nullopt;
    case KafkaKey::kTraceId:
      if (!head.trace_id.present) return std::nullopt;
      return head.trace_id.decode(scratch);
    case KafkaKey::kPod:
      if (!head.namespace_name.present || !head.pod.present) return std::nullopt;
      scratch.clear();
      add(head.namespace_name);
      scratch += '/';
      add(head.pod);
      return std::string_view(scratch);
    case KafkaKey::kContainer:
      if (!head.namespace_name.present || !head.pod.present || !head.container.present) return std::nullopt;
      scratch.clear();
      add(head.namespace_name);
      scratch += '/';
      add(head.pod);
      scratch += '/';
      add(head.container);
      return std::string_view(scratch);
  }
  return std::nullopt;
}

TopicRouter::TopicRouter(std::vector<config::TopicPart> parts, std::optional<std::string> fallback)
    : parts_(std::move(parts)), fallback_(std::move(fallback)) {
  std::string fixed;
  bool templated = false;
  for (const auto& p : parts_) {
    if (p.kind == config::TopicPart::Kind::kText) fixed += p.text;
    else templated = true;
  }
  if (!templated) fixed_ = std::move(fixed);
}

std::string_view TopicRouter::route(const RecordHead& head) {
  if (fixed_) return *fixed_;
  topic_.clear();
  for (const auto& p : parts_) {
    const JsonText* field = nullptr;
    switch (p.kind) {
      case config::TopicPart::Kind::kText: topic_ += p.text; continue;
      case config::TopicPart::Kind::kNamespace: field = &head.namespace_name; break;
      case config::TopicPart::Kind::kPod: field = &head.pod; break;
      case config::TopicPart::Kind::kContainer: field = &head.container; break;
    }
    if (!field->present || field->raw.empty()) return fallback_ ? std::string_view(*fallback_) : std::string_view{};
    topic_ += field->decode(scratch_);
  }
  // Kubernetes names are always legal topic characters, but paths outside
  // the kubelet's naming could yield anything: such a record is routed to
  // the fallback rather than to a name the broker would reject.
  const bool legal = !topic_.empty() && topic_.size() <= 249 && topic_ != "." && topic_ != ".." &&
                     std::all_of(topic_.begin(), topic_.end(), legal_topic_char);
  if (!legal) return fallback_ ? std::string_view(*fallback_) : std::string_view{};
  return topic_;
}

}  // namespace logship::sinks::kafka
