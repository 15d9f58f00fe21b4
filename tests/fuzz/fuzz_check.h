#pragma once
// Shared by the fuzz targets: a property violation must stop libFuzzer with
// a crash (so the input is saved), with a message saying which property.

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace logship::fuzz {

[[noreturn]] inline void violated(const char* what, std::string_view detail = {}) {
  // Printable: the detail may hold any bytes (NULs included).
  std::string shown;
  for (char c : detail.substr(0, 4000)) {
    const auto u = static_cast<unsigned char>(c);
    if (u == '\n' || (u >= 0x20 && u < 0x7f)) {
      shown += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      shown += buf;
    }
  }
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n%s\n", what, shown.c_str());
  std::abort();
}

#define LOGSHIP_FUZZ_CHECK(cond, detail) \
  do {                                   \
    if (!(cond)) ::logship::fuzz::violated(#cond, (detail)); \
  } while (0)

/// Whether `text` is valid UTF-8 (simdjson's validator: rejects overlongs,
/// surrogates and code points past U+10FFFF).
inline bool valid_utf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

/// Whether `text` is exactly one valid JSON document.
inline bool valid_json(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element e;
  return parser.parse(simdjson::padded_string(text)).get(e) == simdjson::SUCCESS;
}

}  // namespace logship::fuzz
