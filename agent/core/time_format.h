#pragma once
// RFC 3339 timestamps with nanoseconds in UTC ("2026-11-26T23:08:04.123456789Z"),
// the form container runtimes write. Used for raw-format records and own logs.

#include <chrono>
#include <string>

namespace logship {

/// Appends `t` as RFC 3339 UTC with 9 fractional digits.
void append_rfc3339_nano(std::string& out, std::chrono::system_clock::time_point t);

}  // namespace logship
