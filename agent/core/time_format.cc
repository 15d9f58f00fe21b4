#include "agent/core/time_format.h"

#include <bit>
#include <cstdio>
#include <cstring>
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

namespace logship {
namespace {

bool two_digits(std::string_view s, size_t at, int& out) {
  if (at + 2 > s.size()) return false;
  const char a = s[at], b = s[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return false;
  out = (a - '0') * 10 + (b - '0');
  return true;
}

/// Eight ASCII digits as a number, or nullopt if any is not a digit (SWAR:
/// one 64-bit load instead of a loop; the timestamp parse runs per line).
std::optional<uint32_t> eight_digits(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap64(v);
  if ((v & 0xF0F0F0F0F0F0F0F0ull) != 0x3030303030303030ull ||
      ((v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) != 0x3030303030303030ull) {
    return std::nullopt;
  }
  v -= 0x3030303030303030ull;
  v = v * 10 + (v >> 8);
  v = ((v & 0x000000FF000000FFull) * (100 + (1000000ull << 32)) +
       ((v >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32))) >> 32;
  return static_cast<uint32_t>(v);
}

}  // namespace

std::optional<Rfc3339Time> parse_rfc3339(std::string_view ts) {
  // Lines of a file share their date: remember the last valid date's text
  // and first second (the date's checks and timegm cost more than the rest).
  struct DateCache {
    bool valid = false;
    char text[10] = {};
    int64_t midnight = 0;
  };
  thread_local DateCache cache;
  int y1 = 0, y2 = 0, mo = 0, d = 0, h, mi, s;
  if (ts.size() < 20 || (ts[10] != 'T' && ts[10] != 't' && ts[10] != ' ') || !two_digits(ts, 11, h) ||
      ts[13] != ':' || !two_digits(ts, 14, mi) || ts[16] != ':' || !two_digits(ts, 17, s) || h > 23 || mi > 59 ||
      s > 60) {
    return std::nullopt;
  }
  const bool same_date = cache.valid && std::memcmp(ts.data(), cache.text, 10) == 0;
  if (!same_date && (!two_digits(ts, 0, y1) || !two_digits(ts, 2, y2) || ts[4] != '-' || !two_digits(ts, 5, mo) ||
                     ts[7] != '-' || !two_digits(ts, 8, d))) {
    return std::nullopt;
  }
  size_t pos = 19;
  uint32_t frac = 0;
  if (ts[pos] == '.') {
    ++pos;
    const size_t first = pos;
    size_t done = 0;  // digits already in frac
    // Runtimes write 9 digits: take 8 at once when they are there.
    if (pos + 8 <= ts.size()) {
      if (const auto eight = eight_digits(ts.data() + pos)) {
        frac = *eight;
        done = 8;
        pos += 8;
      }
    }
    while (pos < ts.size() && ts[pos] >= '0' && ts[pos] <= '9') ++pos;
    const size_t n = pos - first;
    if (n == 0) return std::nullopt;
    // Digits past the ninth (below a nanosecond) are dropped.
    const size_t used = n < 9 ? n : 9;
    for (size_t i = done; i < used; ++i) frac = frac * 10 + static_cast<uint32_t>(ts[first + i] - '0');
    static constexpr uint32_t kScale[10] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                            10000,      1000,      100,      10,      1};
    frac *= kScale[used];
  }
  if (pos >= ts.size()) return std::nullopt;
  int64_t offset_s = 0;
  if (ts[pos] == 'Z' || ts[pos] == 'z') {
    ++pos;
  } else if (ts[pos] == '+' || ts[pos] == '-') {
    int oh, om;
    if (!two_digits(ts, pos + 1, oh) || pos + 3 >= ts.size() || ts[pos + 3] != ':' || !two_digits(ts, pos + 4, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (ts[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != ts.size()) return std::nullopt;
  if (!same_date) {
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
    struct tm tm{};
    tm.tm_year = y1 * 100 + y2 - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    const time_t midnight = timegm(&tm);
    // Day 31 of a 30-day month (or Feb 30) is invalid, not "the next day".
    if (tm.tm_mday != d) return std::nullopt;
    std::memcpy(cache.text, ts.data(), 10);
    cache.valid = true;
    cache.midnight = static_cast<int64_t>(midnight);
  }
  // POSIX time has no leap second: 23:59:60 counts as 23:59:59.
  const int64_t secs = cache.midnight + h * 3600 + mi * 60 + (s > 59 ? 59 : s);
  return Rfc3339Time{secs - offset_s, frac};
}

void append_rfc3339_utc(std::string& out, Rfc3339Time t) {
  const time_t secs = static_cast<time_t>(t.unix_seconds);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t.nanos % 1000000000u);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace logship
