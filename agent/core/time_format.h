#pragma once
// RFC 3339 timestamps with nanoseconds in UTC ("2026-11-26T23:08:04.123456789Z"),
// the form container runtimes write. Used for raw-format records and own logs.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace logship {

/// Appends `t` as RFC 3339 UTC with 9 fractional digits.
void append_rfc3339_nano(std::string& out, std::chrono::system_clock::time_point t);

}  // namespace logship

namespace logship {

/// An RFC 3339 instant split into whole seconds since the Unix epoch and
/// nanoseconds, so every year 0000-9999 fits (a single int64 of nanoseconds
/// only spans 1678-2262).
struct Rfc3339Time {
  int64_t unix_seconds = 0;
  uint32_t nanos = 0;
};

/// Parses a strict RFC 3339 date-time: YYYY-MM-DD('T'|'t'|' ')HH:MM:SS,
/// an optional fraction (digits past the ninth are dropped), then 'Z'/'z' or
/// +HH:MM/-HH:MM. nullopt for anything else (month 13, missing zone, ...).
[[nodiscard]] std::optional<Rfc3339Time> parse_rfc3339(std::string_view ts);

/// Appends `t` as RFC 3339 UTC with 9 fractional digits and 'Z'.
void append_rfc3339_utc(std::string& out, Rfc3339Time t);

}  // namespace logship
