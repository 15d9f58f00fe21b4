#pragma once
// logship's own logs: one JSON object per line on stderr
// ({"time":…,"level":…,"component":…,"msg":…, fields…}). stdout is left to the
// stdout sink. Never log the content of shipped records at info or above.
//
// Threading: every call is safe from any thread; one write(2) per line so
// lines from different threads never interleave.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace logship::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
[[nodiscard]] bool enabled(Level level);

/// One extra field; numbers are written bare, strings quoted.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), number(true) {}
  Field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), number(true) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), number(true) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), number(true) {}
  std::string_view key;
  std::string value;
  bool number = false;
};

void write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields = {});

inline void debug(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kInfo)) write(Level::kInfo, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kWarn)) write(Level::kWarn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kError, c, m, f);
}

}  // namespace logship::log
