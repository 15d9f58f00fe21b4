#include "agent/processors/redact.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "agent/processors/json_scan.h"
#include "agent/core/json_string.h"


namespace logship::processors {
namespace {

using json_scan::ascii_lower;


/// JSON nesting deeper than this is skipped, not walked (simdjson's default
/// maximum depth is 1024, so every record the parser accepted is walked).
constexpr int kMaxDepth = 1024;

/// Keys whose values the encoder reads as trace context: random ids, never
/// secrets, and needed intact for correlation, so the pattern detectors
/// leave them alone (a decimal span id can look like a card number). Key
/// redaction still applies if the user names one.
bool is_trace_key(std::string_view key) {
  static constexpr std::string_view kKeys[] = {
      "trace_id", "traceid", "span_id", "spanid", "traceparent", "trace.id", "span.id",
      "logging.googleapis.com/trace", "logging.googleapis.com/spanid"};
  if (key.size() < 6) return false;
  for (const std::string_view k : kKeys) {
    if (json_scan::iequals_lower(key, k)) return true;
  }
  return false;
}

/// Re-serialises a JSON record while walking it; see redact.h.
class Walker {
 public:
  Walker(const RedactConfig& config, PatternSet patterns, bool keys, std::string& out,
         std::array<uint32_t, kRedactKindCount>& counts)
      : config_(config), patterns_(patterns), keys_(keys), out_(out), counts_(counts) {}

  bool run(std::string_view payload) {
    begin_ = copied_ = payload.data();
    end_ = payload.data() + payload.size();
    out_.clear();
    (void)value(json_scan::skip_ws(begin_, end_), 0);
    if (!changed_) return false;
    out_.append(copied_, static_cast<size_t>(end_ - copied_));
    return true;
  }

 private:
  void replace(const char* a, const char* b, std::string_view text) {
    out_.append(copied_, static_cast<size_t>(a - copied_));
    out_.append(text);
    copied_ = b;
    changed_ = true;
  }

  const char* value(const char* p, int depth) {
    if (p >= end_) return end_;
    if (depth < kMaxDepth && *p == '{') return object(p, depth + 1);
    if (depth < kMaxDepth && *p == '[') return array(p, depth + 1);
    if (*p == '"') return string_value(p);
    return json_scan::skip_value(p, end_);
  }

  const char* object(const char* p, int depth) {
    ++p;
    for (;;) {
      p = json_scan::skip_ws(p, end_);
      if (p >= end_ || *p != '"') return p < end_ && *p == '}' ? p + 1 : end_;
      bool escaped = false;
      const char* close = json_scan::skip_string(p + 1, end_, escaped);
      if (close >= end_) return end_;
      const std::string_view raw(p + 1, static_cast<size_t>(close - p - 1));
      p = json_scan::skip_ws(close + 1, end_);
      if (p >= end_ || *p != ':') return end_;
      p = json_scan::skip_ws(p + 1, end_);
      const std::string_view key = json_scan::key_text(raw, escaped, scratch_);
      if (keys_ && config_.keys.contains(key)) {
        const char* v_end = json_scan::skip_value(p, end_);
        if (holds_something(p, v_end)) {
          replace(p, v_end, "\"[REDACTED]\"");
          ++counts_[static_cast<size_t>(RedactKind::kKey)];
        }
        p = v_end;
      } else if (patterns_ != 0 && p < end_ && *p == '"' && is_trace_key(key)) {
        p = json_scan::skip_value(p, end_);
      } else {
        p = value(p, depth);
      }
      p = json_scan::skip_ws(p, end_);
      if (p < end_ && *p == ',') {
        ++p;
        continue;
      }
      return p < end_ && *p == '}' ? p + 1 : end_;
    }
  }

  const char* array(const char* p, int depth) {
    ++p;
    p = json_scan::skip_ws(p, end_);
    if (p < end_ && *p == ']') return p + 1;
    for (;;) {
      p = json_scan::skip_ws(value(json_scan::skip_ws(p, end_), depth), end_);
      if (p < end_ && *p == ',') {
        ++p;
        continue;
      }
      return p < end_ && *p == ']' ? p + 1 : end_;
    }
  }

  const char* string_value(const char* p) {
    bool escaped = false;
    const char* close = json_scan::skip_string(p + 1, end_, escaped);
    if (close >= end_) return end_;
    if (patterns_ == 0) return close + 1;
    const std::string_view raw(p + 1, static_cast<size_t>(close - p - 1));
    matches_.clear();
    if (!escaped) {
      find_patterns(raw, patterns_, matches_);
      if (matches_.empty()) return close + 1;
      out_.append(copied_, static_cast<size_t>(p + 1 - copied_));
      replace_matches(raw, matches_, out_);
      copied_ = close;
      changed_ = true;
    } else {
      // Detect on the decoded text, so an escape can neither hide a secret
      // nor be cut in half by a replacement; the string is re-escaped whole.
      decoded_.clear();
      json_scan::decode_string(raw, decoded_);
      find_patterns(decoded_, patterns_, matches_);
      if (matches_.empty()) return close + 1;
      replaced_.clear();
      replace_matches(decoded_, matches_, replaced_);
      out_.append(copied_, static_cast<size_t>(p - copied_));
      json::append_string(out_, replaced_);
      copied_ = close + 1;
      changed_ = true;
    }
    for (const PatternMatch& m : matches_) ++counts_[static_cast<size_t>(m.kind)];
    return close + 1;
  }

  /// A value worth redacting: not null/true/false, "", {} or [].
  bool holds_something(const char* p, const char* v_end) const {
    if (p >= v_end) return false;
    switch (*p) {
      case '"': return v_end - p > 2;
      case '{':
      case '[': {
        const char* q = json_scan::skip_ws(p + 1, v_end);
        return q < v_end && *q != '}' && *q != ']';
      }
      case 't':
      case 'f':
      case 'n': return false;
      default: return true;
    }
  }

  const RedactConfig& config_;
  const PatternSet patterns_;
  const bool keys_;
  std::string& out_;
  std::array<uint32_t, kRedactKindCount>& counts_;
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  const char* copied_ = nullptr;  // input before this is in out_ already
  bool changed_ = false;
  std::vector<PatternMatch> matches_;
  std::string scratch_;
  std::string decoded_;
  std::string replaced_;
};

}  // namespace

namespace {

/// Bucket of a name's (lower-cased) last two bytes.
size_t pair_bucket(char a, char b) {
  return (static_cast<size_t>(static_cast<unsigned char>(ascii_lower(a))) * 31 +
          static_cast<unsigned char>(ascii_lower(b))) & 63;
}

}  // namespace

KeySet::KeySet(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (name.empty()) continue;
    std::string lower(name);
    for (char& c : lower) c = ascii_lower(c);
    if (std::find(names_.begin(), names_.end(), lower) != names_.end()) continue;
    const char a = lower.size() >= 2 ? lower[lower.size() - 2] : '"';
    const char b = lower.back();
    const auto upper = [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; };
    for (const char x : {a, upper(a)}) {
      for (const char y : {b, upper(b)}) {
        const unsigned i = static_cast<unsigned>(static_cast<unsigned char>(x)) |
                           (static_cast<unsigned>(static_cast<unsigned char>(y)) << 8);
        pairs_[i >> 6] |= uint64_t{1} << (i & 63);
      }
    }
    for (const char x : {a, upper(a)}) {
      nibbles_[0][static_cast<unsigned char>(x) & 15] |= 0x20;
      nibbles_[1][static_cast<unsigned char>(x) >> 4] |= 0x20;
    }
    for (const char y : {b, upper(b)}) {
      nibbles_[2][static_cast<unsigned char>(y) & 15] |= 0x20;
      nibbles_[3][static_cast<unsigned char>(y) >> 4] |= 0x20;
    }
    buckets_[pair_bucket(a, b)].push_back(static_cast<uint16_t>(names_.size()));
    max_length_ = std::max(max_length_, lower.size());
    has_escapable_ |= lower.find('/') != std::string::npos;
    names_.push_back(std::move(lower));
  }
}

bool KeySet::ends_at(std::string_view s, size_t q) const {
  if (q < 2) return false;
  for (const uint16_t index : buckets_[pair_bucket(s[q - 2], s[q - 1])]) {
    const std::string& name = names_[index];
    const size_t n = name.size();
    if (q > n && s[q - n - 1] == '"' && json_scan::iequals_lower(s.substr(q - n, n), name)) return true;
  }
  return false;
}

bool KeySet::contains(std::string_view key) const {
  if (key.size() > max_length_) return false;
  for (const std::string& name : names_) {
    if (json_scan::iequals_lower(key, name)) return true;
  }
  return false;
}

namespace {

bool redact_with(std::string_view payload, bool json, const RedactConfig& config,
                 const RedactCandidates& c, std::string& out,
                 std::array<uint32_t, kRedactKindCount>& counts) {
  if (!json) {
    std::vector<PatternMatch> matches;
    find_patterns(payload, c.patterns, matches);
    if (matches.empty()) return false;
    out.clear();
    replace_matches(payload, matches, out);
    for (const PatternMatch& m : matches) ++counts[static_cast<size_t>(m.kind)];
    return true;
  }
  Walker walker(config, c.escapes ? config.patterns : c.patterns, c.key || c.escapes, out, counts);
  return walker.run(payload);
}

}  // namespace

bool redact_payload(std::string_view payload, PayloadKind kind, const RedactConfig& config,
                    std::string& out, std::array<uint32_t, kRedactKindCount>& counts) {
  if (!config.enabled()) return false;
  const bool json = kind == PayloadKind::kJsonObject;
  const RedactCandidates c = redact_prefilter(payload, json, config);
  if (!c.any()) return false;
  return redact_with(payload, json, config, c, out, counts);
}

bool redact_payload_unfiltered(std::string_view payload, PayloadKind kind,
                               const RedactConfig& config, std::string& out,
                               std::array<uint32_t, kRedactKindCount>& counts) {
  if (!config.enabled()) return false;
  RedactCandidates all;
  all.patterns = config.patterns;
  all.key = true;
  all.escapes = true;
  return redact_with(payload, kind == PayloadKind::kJsonObject, config, all, out, counts);
}

void RedactProcessor::process(const Record& record, RecordEmitter& next) {
  std::array<uint32_t, kRedactKindCount> counts{};
  if (!redact_payload(record.payload, record.kind, *config_, buffer_, counts)) {
    next.emit(record);
    return;
  }
  const size_t size = buffer_.size();
  buffer_.resize(size + json_scan::kPadding, ' ');  // record.h: 64 readable bytes after the payload
  for (size_t k = 0; k < kRedactKindCount; ++k) {
    if (counts[k] != 0) stats_.add_redaction(static_cast<RedactKind>(k), counts[k]);
  }
  Record changed = record;
  changed.payload = std::string_view(buffer_.data(), size);
  next.emit(changed);
}

ProcessorPtr RedactFactory::create(const SourceInfo& /*source*/) const {
  if (!config_->enabled()) return nullptr;
  return std::make_unique<RedactProcessor>(config_, stats_);
}

}  // namespace logship::processors
