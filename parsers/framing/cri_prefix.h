#pragma once
// The CRI log line grammar (kubelet/containerd/CRI-O):
//   <RFC3339Nano time> SP <stdout|stderr> SP <tag> SP <payload>
// where tag is "P" (partial, more follows) or "F" (full/final), optionally
// followed by ":"-separated extra tags. Kubelet before 1.10 wrote no tag
// ("legacy" lines: <time> SP <stream> SP <payload>, always full).

#include <string_view>

namespace logship::framing {

struct CriPrefix {
  std::string_view ts;
  std::string_view stream;
  std::string_view payload;
  bool partial = false;
  bool legacy = false;  ///< no P/F tag: a whole record
};

/// Splits a CRI line. False when the line does not follow the grammar.
/// The timestamp must start with "DDDD-" and be made of RFC 3339 characters
/// (digits, letters, '-', ':', '.', '+'); whether it is a valid RFC 3339
/// time is checked by the caller, so a bad time can be told from no prefix.
/// A line whose third field is not a P/F tag is a legacy line: its payload
/// is everything after the stream (so a legacy message that starts with
/// "F " or "P " is read as tagged: the grammar is ambiguous there).
[[nodiscard]] bool parse_cri_prefix(std::string_view line, CriPrefix& out);

}  // namespace logship::framing
