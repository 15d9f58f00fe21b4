#include "agent/processors/level.h"

#include <array>
#include <charconv>
#include <string>
#include <utility>

#include "agent/processors/json_scan.h"

namespace logship::processors {
namespace {

using json_scan::ascii_lower;
using json_scan::iequals_lower;

struct Word {
  std::string_view text;  // lower case
  Level level;
  bool in_text = true;    // also a leading token of a text record
};

// The spellings of level.h's table, lower case.
constexpr std::array kWords = {
    Word{"trace", Level::kTrace},   Word{"trc", Level::kTrace},
    Word{"finest", Level::kTrace, false},  Word{"finer", Level::kTrace, false},
    Word{"verbose", Level::kTrace, false}, Word{"vrb", Level::kTrace},
    Word{"t", Level::kTrace},       Word{"debug", Level::kDebug},
    Word{"dbg", Level::kDebug},     Word{"fine", Level::kDebug, false},
    Word{"config", Level::kDebug, false},  Word{"d", Level::kDebug},
    Word{"info", Level::kInfo},     Word{"inf", Level::kInfo},
    Word{"information", Level::kInfo, false}, Word{"informational", Level::kInfo, false},
    Word{"notice", Level::kInfo},   Word{"i", Level::kInfo},
    Word{"warn", Level::kWarn},     Word{"warning", Level::kWarn},
    Word{"wrn", Level::kWarn},      Word{"w", Level::kWarn},
    Word{"error", Level::kError},   Word{"err", Level::kError},
    Word{"eror", Level::kError, false},    Word{"dpanic", Level::kError, false},
    Word{"severe", Level::kError, false},  Word{"e", Level::kError},
    Word{"fatal", Level::kFatal},   Word{"ftl", Level::kFatal},
    Word{"critical", Level::kFatal}, Word{"crit", Level::kFatal},
    Word{"alert", Level::kFatal},   Word{"emerg", Level::kFatal},
    Word{"emergency", Level::kFatal}, Word{"panic", Level::kFatal},
    Word{"f", Level::kFatal},       Word{"c", Level::kFatal},
};

constexpr std::array<std::string_view, 6> kNames = {"trace", "debug", "info",
                                                    "warn",  "error", "fatal"};

// Top-level keys that carry the level; compared case-insensitively.
constexpr std::array<std::string_view, 7> kLevelKeys = {"level",    "lvl", "severity",
                                                        "levelname", "@l", "loglevel",
                                                        "log.level"};

bool is_level_key(std::string_view key) {
  // Every level key is 2..9 bytes and starts with l, s or @: most keys are
  // rejected by these two tests alone.
  if (key.size() < 2 || key.size() > 9) return false;
  const char c = ascii_lower(key[0]);
  if (c != 'l' && c != 's' && c != '@') return false;
  for (const std::string_view k : kLevelKeys) {
    if (iequals_lower(key, k)) return true;
  }
  return false;
}

/// The level of the value at `p` (a string or a number), if it names one.
std::optional<Level> value_level(const char* p, const char* end, std::string& scratch) {
  if (p >= end) return std::nullopt;
  if (*p == '"') {
    bool escaped = false;
    const char* close = json_scan::skip_string(p + 1, end, escaped);
    if (close >= end) return std::nullopt;
    const std::string_view raw(p + 1, static_cast<size_t>(close - p - 1));
    return level_from_word(json_scan::key_text(raw, escaped, scratch));
  }
  if ((*p >= '0' && *p <= '9') || *p == '-') {
    const char* q = json_scan::skip_value(p, end);
    return level_from_number(std::string_view(p, static_cast<size_t>(q - p)));
  }
  return std::nullopt;
}

/// Scans the members of the object whose '{' is at `p`. With `nested` only
/// `level` counts (the ECS {"log":{"level":..}} form) and objects are not
/// descended into again.
std::optional<Level> scan_object(const char* p, const char* end, bool nested,
                                 std::string& scratch) {
  ++p;  // '{'
  for (;;) {
    p = json_scan::skip_ws(p, end);
    if (p >= end || *p != '"') return std::nullopt;  // '}' or malformed
    bool escaped = false;
    const char* close = json_scan::skip_string(p + 1, end, escaped);
    if (close >= end) return std::nullopt;
    const std::string_view key =
        json_scan::key_text(std::string_view(p + 1, static_cast<size_t>(close - p - 1)),
                            escaped, scratch);
    p = json_scan::skip_ws(close + 1, end);
    if (p >= end || *p != ':') return std::nullopt;
    p = json_scan::skip_ws(p + 1, end);
    if (nested ? iequals_lower(key, "level") : is_level_key(key)) {
      if (auto level = value_level(p, end, scratch)) return level;
    } else if (!nested && p < end && *p == '{' && iequals_lower(key, "log")) {
      if (auto level = scan_object(p, end, true, scratch)) return level;
    }
    p = json_scan::skip_ws(json_scan::skip_value(p, end), end);
    if (p >= end || *p != ',') return std::nullopt;
    ++p;
  }
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Skips leading blanks and ANSI SGR sequences (ESC [ ... m).
size_t skip_text_prefix(std::string_view s) {
  size_t i = 0;
  for (;;) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i + 1 < s.size() && s[i] == '\x1b' && s[i + 1] == '[') {
      size_t j = i + 2;
      while (j < s.size() && j < i + 24 && (is_digit(s[j]) || s[j] == ';')) ++j;
      if (j < s.size() && s[j] == 'm') {
        i = j + 1;
        continue;
      }
    }
    return i;
  }
}

}  // namespace

std::string_view level_name(Level level) { return kNames[static_cast<size_t>(level)]; }

namespace {

/// A word of up to 16 bytes, lower-cased, in two integers: a table entry
/// is then matched with two compares instead of a byte loop.
struct Packed {
  uint64_t a = 0;
  uint64_t b = 0;
  friend bool operator==(const Packed&, const Packed&) = default;
};

constexpr Packed pack(std::string_view w) {
  Packed p;
  for (size_t i = 0; i < w.size() && i < 16; ++i) {
    const auto c = static_cast<uint64_t>(static_cast<unsigned char>(ascii_lower(w[i])));
    if (i < 8) {
      p.a |= c << (8 * i);
    } else {
      p.b |= c << (8 * (i - 8));
    }
  }
  return p;
}

constexpr size_t kMaxWord = 13;

/// kWords grouped by length: the lookup runs over the few words of the
/// input's length (every record with a level goes through here).
struct ByLength {
  std::array<std::array<Packed, 16>, kMaxWord + 1> packed{};
  std::array<std::array<uint8_t, 16>, kMaxWord + 1> index{};
  std::array<uint8_t, kMaxWord + 1> count{};
};

constexpr ByLength kByLength = [] {
  ByLength t;
  for (size_t i = 0; i < kWords.size(); ++i) {
    const size_t len = kWords[i].text.size();
    t.packed[len][t.count[len]] = pack(kWords[i].text);
    t.index[len][t.count[len]] = static_cast<uint8_t>(i);
    ++t.count[len];
  }
  return t;
}();

std::optional<Level> lookup_word(std::string_view word, bool text) {
  if (word.empty() || word.size() > kMaxWord) return std::nullopt;
  const Packed p = pack(word);
  const size_t len = word.size();
  for (size_t k = 0; k < kByLength.count[len]; ++k) {
    if (kByLength.packed[len][k] == p) {
      const Word& w = kWords[kByLength.index[len][k]];
      return (w.in_text || !text) ? std::optional<Level>(w.level) : std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Level> level_from_word(std::string_view word) { return lookup_word(word, false); }

std::optional<Level> min_level_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (iequals_lower(name, kNames[i])) return static_cast<Level>(i);
  }
  if (iequals_lower(name, "warning")) return Level::kWarn;
  return std::nullopt;
}

std::optional<Level> level_from_number(std::string_view number) {
  long v = 0;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
  if (ec != std::errc{} || ptr != number.data() + number.size()) return std::nullopt;
  if (v >= 0 && v <= 7) {
    // syslog: 0 emerg, 1 alert, 2 crit, 3 err, 4 warning, 5 notice, 6 info, 7 debug
    constexpr std::array<Level, 8> kSyslog = {Level::kFatal, Level::kFatal, Level::kFatal,
                                              Level::kError, Level::kWarn,  Level::kInfo,
                                              Level::kInfo,  Level::kDebug};
    return kSyslog[static_cast<size_t>(v)];
  }
  if (v >= 10 && v <= 69) return static_cast<Level>(v / 10 - 1);  // pino/bunyan
  return std::nullopt;
}

std::optional<Level> json_level(std::string_view object) {
  const char* end = object.data() + object.size();
  const char* p = json_scan::skip_ws(object.data(), end);
  if (p >= end || *p != '{') return std::nullopt;
  std::string scratch;  // only used for keys or values with escapes
  return scan_object(p, end, false, scratch);
}

std::optional<Level> text_level(std::string_view text) {
  size_t i = skip_text_prefix(text);
  const std::string_view s = text.substr(i);
  if (s.empty()) return std::nullopt;

  // klog: Lmmdd hh:mm:ss.uuuuuu ...
  if (s.size() >= 6 && (s[0] == 'I' || s[0] == 'W' || s[0] == 'E' || s[0] == 'F') &&
      is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && is_digit(s[4]) && s[5] == ' ') {
    return level_from_word(s.substr(0, 1));
  }

  // logfmt: level=info, lvl="warn"
  for (const std::string_view prefix : {std::string_view("level="), std::string_view("lvl=")}) {
    if (s.size() > prefix.size() && iequals_lower(s.substr(0, prefix.size()), prefix)) {
      size_t j = prefix.size();
      if (s[j] == '"') ++j;
      size_t k = j;
      while (k < s.size() && is_alpha(s[k])) ++k;
      return level_from_word(s.substr(j, k - j));
    }
  }

  // A level word, optionally in [..] or <..>.
  size_t j = 0;
  char close = 0;
  if (s[0] == '[') close = ']';
  if (s[0] == '<') close = '>';
  if (close != 0) j = 1;
  size_t k = j;
  while (k < s.size() && is_alpha(s[k])) ++k;
  if (k - j < 2) return std::nullopt;  // single letters are words too often ("I think")
  if (close != 0) {
    if (k >= s.size() || s[k] != close) return std::nullopt;
  } else if (k < s.size() && s[k] != ' ' && s[k] != ':' && s[k] != '\t' && s[k] != '\x1b') {
    return std::nullopt;
  }
  return lookup_word(s.substr(j, k - j), true);
}

}  // namespace logship::processors
