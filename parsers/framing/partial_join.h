#pragma once
// Internal to parsers/framing: one stream's record being rebuilt from
// partial lines, capped at the record limit, and the text helpers the
// framers share.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/framing/framer.h"
#include "agent/core/json_string.h"
#include "parsers/json/payload_parser.h"

namespace logship::framing {

// Join buffer capacity kept per stream between records.
inline constexpr size_t kKeepJoinCapacity = 64 << 10;

inline std::string_view strip_cr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

/// Cuts `s` to at most `max` bytes on a UTF-8 boundary; sets `cut` if it did.
inline std::string_view cap(std::string_view s, size_t max, bool& cut) {
  if (s.size() <= max) return s;
  cut = true;
  return s.substr(0, json::utf8_cut(s, max));
}

struct PartialJoin {
  bool active = false;
  bool truncated = false;
  bool full = false;      // reached the cap: further chunks are discarded
  uint64_t begin = 0;     // file offset of the record's first line
  SteadyTime last{};      // when the last chunk arrived
  std::string ts;         // timestamp of the first chunk, as shipped
  std::string attrs;      // docker attrs of the first chunk
  std::string text;

  void start(uint64_t offset, std::string_view first_ts, std::string_view first_attrs) {
    active = true;
    truncated = false;
    full = false;
    begin = offset;
    ts.assign(first_ts);
    attrs.assign(first_attrs);
    text.clear();
  }

  void append(std::string_view chunk, bool chunk_cut, size_t max) {
    truncated |= chunk_cut;
    if (full) return;
    const size_t room = max - text.size();
    if (chunk.size() <= room) {
      text.append(chunk);
      return;
    }
    // Cut where the record would exceed the cap, on a character boundary
    // of the joined text (a chunk boundary may split a character).
    text.append(chunk.substr(0, room));
    text.resize(json::utf8_cut(text, max));
    truncated = true;
    full = true;
  }

  /// The joined record, padded for in-place JSON parsing.
  std::string_view finish() {
    active = false;
    text.reserve(text.size() + json::kPadding);
    return strip_cr(text);
  }
};

}  // namespace logship::framing
