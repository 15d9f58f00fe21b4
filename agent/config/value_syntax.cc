// Value syntax: one parser and one canonical rendering per Kind, and the
// wording of what each kind accepts. Nothing here knows a concrete setting.

#include "agent/config/value_syntax.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>
#include <vector>

#include "agent/config/config.h"

namespace logship::config {
namespace syntax {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string join(std::span<const std::string_view> items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string quoted(const KeySpec& spec, std::string_view text) {
  if (spec.secret) return "<redacted>";
  // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict for
  // "\"" + std::string(text) + "\"" once this is inlined.
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  out += text;
  out += '"';
  return out;
}

}  // namespace syntax

namespace {

using syntax::ascii_lower;
using syntax::is_digit;

constexpr std::string_view kBoolTrue[] = {"true", "1", "yes", "on"};
constexpr std::string_view kBoolFalse[] = {"false", "0", "no", "off"};

/// Size suffixes, matched case-insensitively. K/M/G are decimal because that
/// is what the SI letters mean and what Kubernetes quantities use; the
/// binary forms need the "i".
struct SizeSuffix {
  std::string_view name;
  uint64_t factor;
};
constexpr SizeSuffix kSizeSuffixes[] = {
    {"", 1},
    {"k", 1000},           {"kb", 1000},           {"ki", 1ULL << 10}, {"kib", 1ULL << 10},
    {"m", 1000 * 1000},    {"mb", 1000 * 1000},    {"mi", 1ULL << 20}, {"mib", 1ULL << 20},
    {"g", 1000000000ULL},  {"gb", 1000000000ULL},  {"gi", 1ULL << 30}, {"gib", 1ULL << 30},
};

std::expected<uint64_t, NumberError> parse_size(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  auto number = parse_decimal(text.substr(0, digits));
  if (!number) {
    // Report "-5MiB" as negative rather than as junk.
    return std::unexpected(text.starts_with('-') ? NumberError::kNegative : number.error());
  }
  const std::string_view suffix = text.substr(digits);
  for (const auto& s : kSizeSuffixes) {
    if (!iequals(suffix, s.name)) continue;
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(*number, s.factor, &bytes)) {
      return std::unexpected(NumberError::kOverflow);
    }
    return bytes;
  }
  return std::unexpected(NumberError::kSyntax);
}

/// RFC 1123 host name: dot-separated labels of letters, digits and '-'.
bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    const std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!(is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z') || c == '-')) {
        return false;
      }
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool valid_ip(int family, std::string_view host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(family, std::string(host).c_str(), buffer) == 1;
}

std::string render_listen(const ListenAddress& listen) {
  if (!listen.enabled) return "off";
  const std::string port = std::to_string(listen.port);
  if (listen.host.find(':') != std::string::npos) return "[" + listen.host + "]:" + port;
  return listen.host + ":" + port;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

/// Largest exact binary unit, so bounds read "64MiB" rather than 67108864.
std::string format_size(uint64_t bytes) {
  constexpr std::pair<uint64_t, std::string_view> kUnits[] = {
      {1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}};
  for (const auto& [factor, unit] : kUnits) {
    if (bytes != 0 && bytes % factor == 0) {
      return std::to_string(bytes / factor) + std::string(unit);
    }
  }
  return std::to_string(bytes);
}


/// Plain decimal digits only: from_chars would otherwise accept a prefix of
/// "12x" and we must reject the whole value.
std::expected<uint64_t, NumberError> parse_decimal(std::string_view text) {
  if (text.starts_with('-') && text.size() > 1) return std::unexpected(NumberError::kNegative);
  if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) {
    return std::unexpected(NumberError::kSyntax);
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return std::unexpected(NumberError::kOverflow);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::unexpected(NumberError::kSyntax);
  }
  return value;
}

/// Returns the reason (without the value) on failure.
std::expected<ListenAddress, std::string> parse_listen(std::string_view text) {
  if (iequals(text, "off")) return ListenAddress{.enabled = false, .host = "", .port = 0};
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::unexpected("missing ']'");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(':')) return std::unexpected("missing :port after ']'");
    port = rest.substr(1);
    if (!valid_ip(AF_INET6, host)) return std::unexpected("invalid IPv6 address");
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::unexpected("missing :port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return std::unexpected("IPv6 addresses must be written in brackets");
    }
    if (host.empty()) return std::unexpected("missing host");
    // Digits and dots only means the user meant an IPv4 address; without
    // this, "300.1.1.1" would pass as a (numeric) host name.
    const bool numeric = std::all_of(host.begin(), host.end(),
                                     [](char c) { return is_digit(c) || c == '.'; });
    if (numeric ? !valid_ip(AF_INET, host) : !valid_hostname(host)) {
      return std::unexpected(numeric ? "invalid IPv4 address" : "invalid hostname");
    }
  }
  if (port.empty()) return std::unexpected("missing port");
  auto number = parse_decimal(port);
  if (!number || *number > 65535) return std::unexpected("port must be 0-65535");
  return ListenAddress{.enabled = true, .host = std::string(host), .port = uint16_t(*number)};
}

namespace syntax {

/// What a row accepts, phrased to follow "expected ...".
std::string expectation(const KeySpec& spec) {
  switch (spec.kind) {
    case Kind::kList:
      return "a comma-separated list without empty items";
    case Kind::kEnum:
      return "one of " + join(spec.choices, ", ");
    case Kind::kPath:
      return "a path";
    case Kind::kString:
    case Kind::kPrefix:
      return "a non-empty string";
    case Kind::kSize:
      return "a size between " + format_size(spec.min) + " and " + format_size(spec.max) + " (" +
             std::to_string(spec.min) + ".." + std::to_string(spec.max) +
             " bytes): a byte count, optionally with suffix K, KB, M, MB, G, GB (powers of 1000) "
             "or Ki, KiB, Mi, MiB, Gi, GiB (powers of 1024)";
    case Kind::kInteger:
      return "a decimal integer between " + std::to_string(spec.min) + " and " +
             std::to_string(spec.max);
    case Kind::kListen:
      return "host:port (IPv4 address, hostname or [IPv6 address]; port 0-65535) or off";
    case Kind::kBool:
      return "one of true, false, 1, 0, yes, no, on, off";
  }
  return {};
}

namespace {

/// The kind's own parser; parse_value adds the row's check.
std::expected<Value, std::string> parse_kind(const KeySpec& spec, std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return std::unexpected(quoted(spec, text) + " " + std::string(why) + "; expected " +
                           expectation(spec));
  };
  const auto number_error = [&](NumberError e, std::string_view syntax_reason) {
    switch (e) {
      case NumberError::kNegative: return bad("is negative");
      case NumberError::kOverflow: return bad("is too large");
      case NumberError::kSyntax: break;
    }
    return bad(syntax_reason);
  };
  switch (spec.kind) {
    case Kind::kList: {
      std::vector<std::string> items;
      size_t start = 0;
      while (true) {
        const size_t comma = text.find(',', start);
        std::string_view item = text.substr(start, comma == std::string_view::npos
                                                       ? std::string_view::npos
                                                       : comma - start);
        const size_t first = item.find_first_not_of(" \t");
        item = first == std::string_view::npos
                   ? std::string_view{}
                   : item.substr(first, item.find_last_not_of(" \t") - first + 1);
        // "a,,b" or a trailing comma is almost always an editing mistake, and
        // an empty glob would silently match nothing.
        if (item.empty()) return bad("has an empty item");
        items.emplace_back(item);
        if (comma == std::string_view::npos) return items;
        start = comma + 1;
      }
    }
    case Kind::kEnum:
      for (size_t i = 0; i < spec.choices.size(); ++i) {
        if (iequals(text, spec.choices[i])) return uint64_t{i};
      }
      // Matches the documented form: LOGSHIP_SINK: "kafak" is not one of stdout, file
      return std::unexpected(quoted(spec, text) + " is not one of " + join(spec.choices, ", "));
    case Kind::kPath:
    case Kind::kString:
    case Kind::kPrefix:
      return std::string(text);
    case Kind::kSize: {
      auto bytes = parse_size(text);
      if (!bytes) return number_error(bytes.error(), "is not a size");
      if (*bytes < spec.min || *bytes > spec.max) {
        std::string why = "(";  // piecewise: see quoted()
        why += std::to_string(*bytes);
        why += " bytes) is out of bounds";
        return bad(why);
      }
      return *bytes;
    }
    case Kind::kInteger: {
      auto number = parse_decimal(text);
      if (!number) return number_error(number.error(), "is not a decimal integer");
      if (*number < spec.min || *number > spec.max) return bad("is out of bounds");
      return *number;
    }
    case Kind::kListen: {
      auto listen = parse_listen(text);
      if (!listen) return bad("is not a valid listen address (" + listen.error() + ")");
      return *std::move(listen);
    }
    case Kind::kBool:
      for (auto word : kBoolTrue) {
        if (iequals(text, word)) return true;
      }
      for (auto word : kBoolFalse) {
        if (iequals(text, word)) return false;
      }
      return bad("is not a boolean");
  }
  return bad("has an unsupported kind");
}

}  // namespace

std::expected<Value, std::string> parse_value(const KeySpec& spec, std::string_view text) {
  auto value = parse_kind(spec, text);
  if (value && spec.check != nullptr) {
    if (std::string why = spec.check(text); !why.empty()) return std::unexpected(std::move(why));
  }
  return value;
}

std::string render_value(const KeySpec& spec, const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return {};
  if (spec.secret) return "<redacted>";
  if (auto* s = std::get_if<std::string>(&value)) return *s;
  if (auto* list = std::get_if<std::vector<std::string>>(&value)) {
    std::string out;
    for (size_t i = 0; i < list->size(); ++i) out += (i ? "," : "") + (*list)[i];
    return out;
  }
  if (auto* n = std::get_if<uint64_t>(&value)) {
    if (spec.kind == Kind::kEnum) {
      return *n < spec.choices.size() ? std::string(spec.choices[*n]) : "?";
    }
    return std::to_string(*n);
  }
  if (auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  return render_listen(std::get<ListenAddress>(value));
}

}  // namespace syntax
}  // namespace logship::config
