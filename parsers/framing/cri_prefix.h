#pragma once
// The CRI log line grammar (kubelet/containerd/CRI-O):
//   <RFC3339Nano time> SP <stdout|stderr> SP <tag> SP <payload>
// where tag is "P" (partial, more follows) or "F" (full/final), optionally
// followed by ":"-separated extra tags.

#include <string_view>

namespace logship::framing {

struct CriPrefix {
  std::string_view ts;
  std::string_view stream;
  std::string_view payload;
  bool partial = false;
};

/// Splits a CRI line. False when the line does not follow the grammar.
/// The timestamp must be non-empty and made of RFC 3339 characters
/// (digits, letters, '-', ':', '.', '+'), so it can be written verbatim.
[[nodiscard]] bool parse_cri_prefix(std::string_view line, CriPrefix& out);

}  // namespace logship::framing
