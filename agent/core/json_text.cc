#include "agent/core/json_text.h"

#include <cstdint>
#include <cstring>

namespace logship {
namespace {

/// A cursor over logship's own JSON. Every step checks bounds: input that is
/// not shaped as expected ends the scan, it never reads past it.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  [[nodiscard]] size_t pos() const { return pos_; }
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
  /// Reads a JSON string; sets `begin`/`end` to its content (between the
  /// quotes). memchr finds the closing quote.
  bool string(size_t& begin, size_t& end) {
    if (!eat('"')) return false;
    begin = pos_;
    size_t from = pos_;
    for (;;) {
      const void* q = std::memchr(s_.data() + from, '"', s_.size() - from);
      if (q == nullptr) return false;
      const size_t quote = static_cast<size_t>(static_cast<const char*>(q) - s_.data());
      // The quote is escaped if an odd number of backslashes precede it.
      size_t backslashes = 0;
      while (quote - backslashes > begin && s_[quote - backslashes - 1] == '\\') ++backslashes;
      if (backslashes % 2 == 0) {
        end = quote;
        pos_ = quote + 1;
        return true;
      }
      from = quote + 1;
    }
  }
  /// Skips one JSON value of any kind, string-aware so braces in strings do
  /// not count.
  bool skip_value() {
    skip_space();
    if (pos_ >= s_.size()) return false;
    size_t b = 0, e = 0;
    const char c = s_[pos_];
    if (c == '"') return string(b, e);
    if (c == '{' || c == '[') {
      int depth = 0;
      while (pos_ < s_.size()) {
        const char d = s_[pos_];
        if (d == '"') {
          if (!string(b, e)) return false;
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

}  // namespace

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

std::string_view decoded_text(std::string_view raw, std::string& scratch) {
  // memchr must not see a null pointer, even for zero bytes (an empty view).
  if (raw.empty() || std::memchr(raw.data(), '\\', raw.size()) == nullptr) return raw;
  scratch.clear();
  decode_json_string(raw, scratch);
  return scratch;
}

bool scan_members(std::string_view object,
                  const std::function<void(std::string_view name, FieldSpan value)>& member) {
  Cursor cur(object);
  if (!cur.eat('{')) return false;
  if (cur.eat('}')) return true;
  for (;;) {
    size_t kb = 0, ke = 0;
    if (!cur.string(kb, ke) || !cur.eat(':')) return false;
    cur.skip_space();
    const size_t vb = cur.pos();
    if (!cur.skip_value()) return false;
    member(object.substr(kb, ke - kb), FieldSpan{static_cast<uint32_t>(vb), static_cast<uint32_t>(cur.pos() - vb)});
    if (!cur.eat(',')) break;
  }
  return cur.eat('}');
}

bool scan_k8s_shape(std::string_view object, K8sShape& shape) {
  shape = K8sShape{};
  return scan_members(object, [&](std::string_view name, FieldSpan value) {
    const std::string_view v = value.in(object);
    if (v.size() < 2 || v.front() != '"') return;  // labels, annotations: objects
    const FieldSpan content{value.offset + 1, value.length - 2};
    if (name == "namespace") shape.namespace_name = content;
    else if (name == "pod") shape.pod = content;
    else if (name == "pod_uid") shape.pod_uid = content;
    else if (name == "container") shape.container = content;
    else if (name == "container_id") shape.container_id = content;
  });
}

}  // namespace logship
