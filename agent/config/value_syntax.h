#pragma once
// Internal to logship_config: the parser and canonical rendering of each
// Kind, and the phrasing of what a row accepts. config.cc drives them.

#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "agent/config/key_spec.h"

namespace logship::config::syntax {

[[nodiscard]] char ascii_lower(char c);
[[nodiscard]] char ascii_upper(char c);
[[nodiscard]] bool is_digit(char c);
[[nodiscard]] std::string join(std::span<const std::string_view> items, std::string_view sep);

/// The value as it may appear in a message: quoted, or hidden for secrets.
[[nodiscard]] std::string quoted(const KeySpec& spec, std::string_view text);

/// What a row accepts, phrased to follow "expected ...".
[[nodiscard]] std::string expectation(const KeySpec& spec);

/// Parses one value of a (non-prefix) row, including the row's own check;
/// the error is the message after "LOGSHIP_KEY: ".
[[nodiscard]] std::expected<Value, std::string> parse_value(const KeySpec& spec, std::string_view text);

/// Canonical text of a value ("" when unset, <redacted> for secrets).
[[nodiscard]] std::string render_value(const KeySpec& spec, const Value& value);

}  // namespace logship::config::syntax
