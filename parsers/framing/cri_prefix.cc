#include "parsers/framing/cri_prefix.h"

#include <cstring>

namespace logship::framing {
namespace {

bool is_ts_char(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
         c == ':' || c == '.' || c == '+';
}

}  // namespace

bool parse_cri_prefix(std::string_view line, CriPrefix& out) {
  // Shortest valid prefix: "0 stdout F" (10 bytes). Real timestamps are 20-35.
  const char* p = line.data();
  const size_t n = line.size();
  const void* sp = n > 0 ? std::memchr(p, ' ', n < 64 ? n : 64) : nullptr;
  if (sp == nullptr) return false;
  const size_t ts_len = static_cast<size_t>(static_cast<const char*>(sp) - p);
  if (ts_len == 0) return false;
  for (size_t i = 0; i < ts_len; ++i) {
    if (!is_ts_char(static_cast<unsigned char>(p[i]))) return false;
  }
  // "stdout " / "stderr " are both 7 bytes; then the tag.
  size_t i = ts_len + 1;
  if (n < i + 8) return false;
  std::string_view stream(p + i, 6);
  if (stream != "stdout" && stream != "stderr") return false;
  if (p[i + 6] != ' ') return false;
  i += 7;
  const char tag = p[i];
  if (tag != 'P' && tag != 'F') return false;
  ++i;
  // Optional extra tags ":x:y" up to the next space.
  if (i < n && p[i] == ':') {
    while (i < n && p[i] != ' ') ++i;
  }
  if (i < n) {
    if (p[i] != ' ') return false;
    ++i;
  }
  out.ts = std::string_view(p, ts_len);
  out.stream = stream;
  out.partial = tag == 'P';
  out.payload = std::string_view(p + i, n - i);
  return true;
}

}  // namespace logship::framing
