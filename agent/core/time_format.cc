#include "agent/core/time_format.h"

#include <cstdio>
#include <ctime>

namespace logship {

void append_rfc3339_nano(std::string& out, std::chrono::system_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ns / 1000000000);
  const long frac = static_cast<long>(ns % 1000000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  char fbuf[16];
  const int fn = std::snprintf(fbuf, sizeof fbuf, ".%09ldZ", frac);
  out.append(fbuf, static_cast<size_t>(fn));
}

}  // namespace logship
