#include "parsers/framing/cri_prefix.h"

#include <array>
#include <cstring>

namespace logship::framing {
namespace {

// RFC 3339 characters: digits, letters, '-', ':', '.', '+'. A table: this
// runs for every byte of every timestamp.
constexpr std::array<bool, 256> make_ts_chars() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
  for (char c : {'-', ':', '.', '+'}) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTsChars = make_ts_chars();

bool is_ts_char(unsigned char c) { return kTsChars[c]; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool parse_cri_prefix(std::string_view line, CriPrefix& out) {
  // Shortest valid prefix: "DDDD- stdout " (13 bytes). Real timestamps are 20-35.
  const char* p = line.data();
  const size_t n = line.size();
  // A year first: cheap, and keeps text lines such as "ERROR stdout closed"
  // from looking like (legacy) CRI lines with a bad timestamp.
  if (n < 13 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) || !is_digit(p[3]) || p[4] != '-') {
    return false;
  }
  const void* sp = std::memchr(p, ' ', n < 64 ? n : 64);
  if (sp == nullptr) return false;
  const size_t ts_len = static_cast<size_t>(static_cast<const char*>(sp) - p);
  for (size_t i = 5; i < ts_len; ++i) {
    if (!is_ts_char(static_cast<unsigned char>(p[i]))) return false;
  }
  // "stdout " / "stderr " are both 7 bytes; then the tag.
  size_t i = ts_len + 1;
  if (n < i + 7) return false;
  std::string_view stream(p + i, 6);
  if (stream != "stdout" && stream != "stderr") return false;
  if (p[i + 6] != ' ') return false;
  i += 7;
  const bool tagged = i < n && (p[i] == 'P' || p[i] == 'F') && (i + 1 == n || p[i + 1] == ' ' || p[i + 1] == ':');
  out.ts = std::string_view(p, ts_len);
  out.stream = stream;
  out.legacy = !tagged;
  out.partial = false;
  if (tagged) {
    out.partial = p[i] == 'P';
    ++i;
    // Optional extra tags ":x:y" up to the next space.
    while (i < n && p[i] != ' ') ++i;
    if (i < n) ++i;
  }
  out.payload = std::string_view(p + i, n - i);
  return true;
}

}  // namespace logship::framing
