#include "agent/core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "agent/core/time_format.h"
#include "agent/core/json_string.h"

namespace logship::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128 + message.size());
  line += "{\"time\":\"";
  append_rfc3339_nano(line, std::chrono::system_clock::now());
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"component\":";
  json::append_string(line, component);
  line += ",\"msg\":";
  json::append_string(line, message);
  for (const Field& f : fields) {
    line += ',';
    json::append_string(line, f.key);
    line += ':';
    if (f.number) {
      line += f.value;
    } else {
      json::append_string(line, f.value);
    }
  }
  line += "}\n";
  // One write per line keeps concurrent lines whole; a failed write to stderr
  // has nowhere to be reported, so it is ignored.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace logship::log
