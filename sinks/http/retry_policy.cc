#include "sinks/http/retry_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "sinks/http/civil_text.h"

namespace logship::sinks::http {

Outcome classify(unsigned status) {
  if (status >= 200 && status < 300) return Outcome::kDelivered;
  if (status == 413) return Outcome::kSplit;
  if (status == 408 || status == 429) return Outcome::kRetry;
  if (status >= 400 && status < 500) return Outcome::kReject;
  return Outcome::kRetry;  // 5xx, and 1xx/3xx we do not handle
}

bool is_overload(unsigned status) { return status == 429 || status == 503; }

namespace {

bool parse_uint(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

/// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" -> seconds since the epoch.
std::optional<int64_t> parse_imf_fixdate(std::string_view s) {
  constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s[25] != ' ' || s.substr(26) != "GMT") {
    return std::nullopt;
  }
  int64_t day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  if (!parse_uint(s.substr(5, 2), day) || !parse_uint(s.substr(12, 4), year) || !parse_uint(s.substr(17, 2), hh) ||
      !parse_uint(s.substr(20, 2), mm) || !parse_uint(s.substr(23, 2), ss)) {
    return std::nullopt;
  }
  const auto month = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (month == kMonths.end() || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  const unsigned m = static_cast<unsigned>(month - kMonths.begin()) + 1;
  return days_from_civil(year, m, static_cast<unsigned>(day)) * 86400 + hh * 3600 + mm * 60 + ss;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  int64_t seconds = 0;
  if (parse_uint(value, seconds)) {
    return std::chrono::milliseconds(std::min<int64_t>(seconds, int64_t{1} << 40) * 1000);
  }
  const auto at = parse_imf_fixdate(value);
  if (!at) return std::nullopt;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return std::chrono::milliseconds(std::max<int64_t>(0, *at * 1000 - now_ms));
}

}  // namespace logship::sinks::http
