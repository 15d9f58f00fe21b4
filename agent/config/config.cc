// The table engine: collects raw strings from the environment and the command
// line, parses each row by its Kind, applies bounds, and renders the result.
// Nothing here knows a concrete setting except check_cross_keys() at the end.
//
// Errors are thrown as ConfigError (the one place exceptions are allowed) and
// stop at the first problem: a single, precise message is easier to act on
// from `kubectl logs` than a wall of follow-on errors.

#include "agent/config/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "agent/config/config_table.h"

namespace logship::config {
namespace {

using detail::Kind;
using detail::KeySpec;
using detail::Value;

constexpr std::string_view kEnvPrefix = "LOGSHIP_";

/// Flags that are not settings: no env var, no value.
constexpr std::string_view kCheckConfigFlag = "check-config";
constexpr std::string_view kHelpFlag = "help";
constexpr std::string_view kVersionFlag = "version";

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

[[noreturn]] void fail(std::string message) { throw ConfigError(std::move(message)); }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string join(std::span<const std::string_view> items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

/// The value as it may appear in a message: quoted, or hidden for secrets.
std::string quoted(const KeySpec& spec, std::string_view text) {
  if (spec.secret) return "<redacted>";
  return "\"" + std::string(text) + "\"";
}

/// "LOGSHIP_SINK" or "LOGSHIP_SINK (flag --sink)": users must be able to find
/// the offending setting whichever way they passed it.
std::string key_label(std::string_view env, std::string_view flag) {
  std::string out(env);
  if (!flag.empty()) out += " (flag " + std::string(flag) + ")";
  return out;
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

enum class NumberError { kSyntax, kNegative, kOverflow };

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

std::string render_listen(const ListenAddress& listen) {
  if (!listen.enabled) return "off";
  const std::string port = std::to_string(listen.port);
  if (listen.host.find(':') != std::string::npos) return "[" + listen.host + "]:" + port;
  return listen.host + ":" + port;
}

/// Parses one value of a (non-prefix) row; the error is the message after
/// "LOGSHIP_KEY: ".
std::expected<Value, std::string> parse_value(const KeySpec& spec, std::string_view text) {
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
        return bad("(" + std::to_string(*bytes) + " bytes) is out of bounds");
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

/// Levenshtein distance, for "did you mean" on typos like LOGSHIP_SINKK.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// " (did you mean X?)" when a candidate is close, else "".
std::string suggestion(std::string_view name, const std::vector<std::string>& candidates) {
  constexpr size_t kMaxDistance = 3;
  const std::string* best = nullptr;
  size_t best_distance = kMaxDistance + 1;
  for (const auto& candidate : candidates) {
    const size_t d = edit_distance(name, candidate);
    if (d < best_distance) {
      best = &candidate;
      best_distance = d;
    }
  }
  return best ? " (did you mean " + *best + "?)" : "";
}

}  // namespace

namespace detail {
namespace {

/// Raw strings gathered before parsing; the flag (if any) is kept so errors
/// can say where the value came from.
struct Raw {
  std::string text;
  std::string flag;  ///< "--sink" when given on the command line, else empty
};

struct Inputs {
  explicit Inputs(size_t rows) : values(rows), entries(rows) {}
  std::vector<std::optional<Raw>> values;  ///< per row; flags overwrite env
  std::vector<Entries> entries;            ///< per kPrefix row, by SUFFIX
  Action action = Action::kRun;
};

struct Match {
  size_t row;
  std::string suffix;  ///< kPrefix rows only
};

/// Exact names win over prefixes, so a future LOGSHIP_KAFKA_OPT_X row could
/// still claim one member of a family.
std::optional<Match> find_row(std::span<const KeySpec> table, std::string_view env) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].kind != Kind::kPrefix && table[i].env == env) return Match{i, {}};
  }
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].kind == Kind::kPrefix && env.starts_with(table[i].env)) {
      return Match{i, std::string(env.substr(table[i].env.size()))};
    }
  }
  return std::nullopt;
}

/// "batch-max-bytes" -> "LOGSHIP_BATCH_MAX_BYTES"; nullopt for characters a
/// generated flag never has, so --Sink or --input_paths are unknown flags
/// instead of aliases.
std::optional<std::string> env_from_flag(std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::string env(kEnvPrefix);
  for (char c : name) {
    if (c == '-') env += '_';
    else if (is_digit(c) || (c >= 'a' && c <= 'z')) env += ascii_upper(c);
    else return std::nullopt;
  }
  return env;
}

void put(std::span<const KeySpec> table, Inputs& in, const Match& match, std::string_view env,
         Raw raw) {
  if (table[match.row].kind == Kind::kPrefix) {
    if (match.suffix.empty()) {
      fail(key_label(env, raw.flag) + ": missing option name after the prefix " +
           std::string(table[match.row].env));
    }
    in.entries[match.row][match.suffix] = std::move(raw.text);
    return;
  }
  in.values[match.row] = std::move(raw);
}

std::vector<std::string> env_names(std::span<const KeySpec> table) {
  std::vector<std::string> names;
  for (const auto& spec : table) {
    if (spec.kind != Kind::kPrefix) names.emplace_back(spec.env);
  }
  return names;
}

std::vector<std::string> flag_names(std::span<const KeySpec> table) {
  std::vector<std::string> names;
  for (const auto& spec : table) {
    if (spec.kind != Kind::kPrefix) names.push_back("--" + flag_name(spec.env));
  }
  for (auto special : {kCheckConfigFlag, kHelpFlag, kVersionFlag}) {
    names.push_back("--" + std::string(special));
  }
  return names;
}

void collect_env(std::span<const KeySpec> table, const std::map<std::string, std::string>& env,
                 Inputs& in) {
  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix) || value.empty()) continue;
    auto match = find_row(table, name);
    // Strict on purpose: a misspelt variable would otherwise be silently
    // ignored and the agent would run with the default.
    if (!match) {
      fail(name + ": unknown setting" + suggestion(name, env_names(table)) +
           "; run with --help for the list of settings");
    }
    put(table, in, *match, name, Raw{value, {}});
  }
}

void collect_flags(std::span<const KeySpec> table, const std::vector<std::string>& args,
                   Inputs& in) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (!arg.starts_with("--") || arg == "--") {
      if (arg.starts_with('-') && arg.size() > 1 && arg != "--") {
        fail(std::string(arg) + ": unknown flag; flags are written --name or --name=value");
      }
      fail("unexpected argument \"" + std::string(arg) +
           "\": settings are given as --name=value flags or LOGSHIP_NAME environment variables");
    }
    const std::string_view body = arg.substr(2);
    const size_t eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    std::optional<std::string> inline_value;
    if (eq != std::string_view::npos) inline_value.emplace(body.substr(eq + 1));
    const std::string flag = "--" + std::string(name);

    if (name == kCheckConfigFlag || name == kHelpFlag || name == kVersionFlag) {
      // Bare --help/--version were handled before any parsing; with a value
      // they are a mistake, not a request.
      if (inline_value) fail(flag + " does not take a value");
      if (name == kCheckConfigFlag) in.action = Action::kCheckConfig;
      continue;
    }

    const auto env = env_from_flag(name);
    const auto match = env ? find_row(table, *env) : std::nullopt;
    if (!match) {
      fail(flag + ": unknown flag" + suggestion(flag, flag_names(table)) +
           "; run with --help for the list of flags");
    }
    const KeySpec& spec = table[match->row];
    std::string value;
    if (inline_value) {
      value = std::move(*inline_value);
    } else if (spec.kind == Kind::kBool) {
      value = "true";  // a bare boolean flag never consumes the next argument
    } else if (i + 1 < args.size() && !args[i + 1].starts_with("--")) {
      value = args[++i];
    } else {
      fail(key_label(*env, flag) + ": missing value; expected " + expectation(spec));
    }
    // Unlike the environment, an empty flag value cannot mean "unset" (the
    // env value would then win silently), so it is an error.
    if (value.empty()) fail(key_label(*env, flag) + ": empty value; expected " + expectation(spec));
    put(table, in, *match, *env, Raw{std::move(value), flag});
  }
}

Config resolve(std::span<const KeySpec> table, Inputs&& in) {
  Config config;
  for (size_t i = 0; i < table.size(); ++i) {
    const KeySpec& spec = table[i];
    if (spec.kind == Kind::kPrefix) {
      if (spec.store_entries) spec.store_entries(config, std::move(in.entries[i]));
      continue;
    }
    Value value;
    if (const auto& raw = in.values[i]) {
      auto parsed = parse_value(spec, raw->text);
      if (!parsed) fail(key_label(spec.env, raw->flag) + ": " + parsed.error());
      value = *std::move(parsed);
    } else if (!spec.default_text.empty()) {
      auto parsed = parse_value(spec, spec.default_text);
      if (!parsed) fail(std::string(spec.env) + " (built-in default): " + parsed.error());
      value = *std::move(parsed);
    }
    spec.store(config, std::move(value));
  }
  return config;
}

}  // namespace

std::string flag_name(std::string_view env) {
  if (env.starts_with(kEnvPrefix)) env.remove_prefix(kEnvPrefix.size());
  std::string flag;
  for (char c : env) flag += c == '_' ? '-' : ascii_lower(c);
  // A prefix row "LOGSHIP_KAFKA_OPT_" yields "kafka-opt-", which is exactly
  // how its members are spelt: --kafka-opt-batch-size.
  return flag;
}

Loaded load_with_table(std::span<const KeySpec> table, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
  // --help/--version first and regardless of everything else, so an operator
  // can always read the usage even from a pod with a broken environment.
  for (const auto& arg : args) {
    const bool help = arg == "--" + std::string(kHelpFlag);
    if (help || arg == "--" + std::string(kVersionFlag)) {
      return Loaded{.config = resolve(table, Inputs(table.size())),
                    .action = help ? Action::kHelp : Action::kVersion};
    }
  }
  Inputs in(table.size());
  collect_env(table, env, in);
  collect_flags(table, args, in);  // after env: the flag wins
  const Action action = in.action;
  return Loaded{.config = resolve(table, std::move(in)), .action = action};
}

std::string render_with_table(std::span<const KeySpec> table, const Config& config) {
  std::string out;
  for (const auto& spec : table) {
    if (spec.kind == Kind::kPrefix) {
      if (!spec.fetch_entries) continue;
      for (const auto& [suffix, value] : spec.fetch_entries(config)) {
        const bool secret = spec.secret || (spec.entry_secret && spec.entry_secret(suffix));
        out += std::string(spec.env) + suffix + "=" + (secret ? "<redacted>" : value) + "\n";
      }
      continue;
    }
    out += std::string(spec.env) + "=" + render_value(spec, spec.fetch(config)) + "\n";
  }
  return out;
}

std::string help_with_table(std::span<const KeySpec> table) {
  // Columns: env, flag with its type, default and bounds, description.
  struct Line {
    std::string env, flag, limits;
    std::string_view help;
  };
  std::vector<Line> lines;
  for (const auto& spec : table) {
    Line line{.env = std::string(spec.env),
              .flag = "--" + flag_name(spec.env),
              .limits = {},
              .help = spec.help};
    switch (spec.kind) {
      case Kind::kList: line.flag += "=<list>"; break;
      case Kind::kEnum: line.flag += "=<" + join(spec.choices, "|") + ">"; break;
      case Kind::kPath: line.flag += "=<path>"; break;
      case Kind::kString: line.flag += "=<string>"; break;
      case Kind::kSize: line.flag += "=<size>"; break;
      case Kind::kInteger: line.flag += "=<integer>"; break;
      case Kind::kListen: line.flag += "=<host:port|off>"; break;
      case Kind::kBool: line.flag += "[=<bool>]"; break;
      case Kind::kPrefix:
        line.env += "*";
        line.flag += "*=<value>";
        break;
    }
    line.limits = spec.default_text.empty() ? "unset" : "default " + std::string(spec.default_text);
    if (spec.kind == Kind::kSize) {
      line.limits += ", " + format_size(spec.min) + ".." + format_size(spec.max);
    } else if (spec.kind == Kind::kInteger) {
      line.limits += ", " + std::to_string(spec.min) + ".." + std::to_string(spec.max);
    }
    if (spec.secret) line.limits += ", secret";
    lines.push_back(std::move(line));
  }
  size_t env_width = 0, flag_width = 0, limits_width = 0;
  for (const auto& l : lines) {
    env_width = std::max(env_width, l.env.size());
    flag_width = std::max(flag_width, l.flag.size());
    limits_width = std::max(limits_width, l.limits.size());
  }
  const auto pad = [](const std::string& s, size_t width) {
    return s + std::string(width - s.size() + 2, ' ');
  };

  std::string out =
      "Usage: logship [--check-config | --help | --version] [--<setting>=<value> ...]\n"
      "\n"
      "Every setting is read from the environment variable LOGSHIP_<NAME> or the flag\n"
      "--<name> (the flag wins). Flags take --name=value or --name value; boolean flags\n"
      "may be given bare. Empty environment variables count as unset; unknown LOGSHIP_*\n"
      "variables and unknown flags are errors.\n"
      "\n"
      "  --check-config  validate the configuration, print the effective settings, exit\n"
      "  --help          print this help and exit\n"
      "  --version       print the version and exit\n"
      "\n"
      "Settings:\n";
  for (const auto& l : lines) {
    out += "  " + pad(l.env, env_width) + pad(l.flag, flag_width) + pad(l.limits, limits_width) +
           std::string(l.help) + "\n";
  }
  out +=
      "\n"
      "Sizes: a byte count or a number with suffix K, KB, M, MB, G, GB (x1000) or Ki, KiB,\n"
      "Mi, MiB, Gi, GiB (x1024), case-insensitive: 1048576, 1MiB, 512k.\n"
      "Booleans: true/false, 1/0, yes/no, on/off. Listen: host:port, [IPv6]:port or off.\n";
  return out;
}

}  // namespace detail

namespace {

/// Why one LOGSHIP_KAFKA_BROKERS item is not a broker address, or "".
/// Accepted: host:port, [IPv6]:port, host (librdkafka's default port 9092),
/// each optionally after a security protocol ("SASL_SSL://host:port"), as
/// librdkafka's bootstrap.servers takes them.
std::string broker_problem(std::string_view item) {
  if (const size_t scheme = item.find("://"); scheme != std::string_view::npos) {
    const std::string_view proto = item.substr(0, scheme);
    constexpr std::string_view kProtocols[] = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"};
    if (std::none_of(std::begin(kProtocols), std::end(kProtocols),
                     [&](std::string_view p) { return iequals(p, proto); })) {
      return "unknown protocol \"" + std::string(proto) + "\" (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)";
    }
    item.remove_prefix(scheme + 3);
  }
  // Without a port librdkafka uses 9092; parse_listen wants one, so add it.
  const bool bracketed = item.starts_with('[');
  const bool has_port = bracketed ? item.find("]:") != std::string_view::npos
                                  : item.find(':') != std::string_view::npos;
  auto parsed = parse_listen(has_port ? std::string(item) : std::string(item) + ":9092");
  if (!parsed || !parsed->enabled) return parsed ? "missing host" : parsed.error();
  if (parsed->port == 0) return "port must be 1-65535";
  return "";
}

void check_kafka(const Config& c) {
  const bool kafka = c.sink == SinkKind::kKafka;
  if (kafka && c.kafka_brokers.empty()) {
    fail("LOGSHIP_KAFKA_BROKERS (--kafka-brokers) is required when LOGSHIP_SINK=kafka: "
         "a comma-separated list of host:port");
  }
  for (const auto& broker : c.kafka_brokers) {
    if (auto why = broker_problem(broker); !why.empty()) {
      fail("LOGSHIP_KAFKA_BROKERS: \"" + broker + "\" is not a broker address (" + why +
           "); expected host:port, [IPv6]:port or host (port 9092), optionally after PROTOCOL://");
    }
  }
  const auto parts = parse_topic_template(c.kafka_topic, /*allow_placeholders=*/true);
  if (!parts) fail("LOGSHIP_KAFKA_TOPIC: \"" + c.kafka_topic + "\" " + parts.error());
  const bool templated = std::any_of(parts->begin(), parts->end(), [](const TopicPart& p) {
    return p.kind != TopicPart::Kind::kText;
  });
  if (c.kafka_topic_fallback) {
    if (auto fb = parse_topic_template(*c.kafka_topic_fallback, false); !fb) {
      fail("LOGSHIP_KAFKA_TOPIC_FALLBACK: \"" + *c.kafka_topic_fallback + "\" " + fb.error());
    }
  } else if (kafka && templated) {
    // Explicit rather than a silent "logs": with placeholders, a record from
    // a non-Kubernetes path would otherwise land in a topic nobody chose.
    fail("LOGSHIP_KAFKA_TOPIC_FALLBACK (--kafka-topic-fallback) is required when LOGSHIP_KAFKA_TOPIC has "
         "placeholders (\"" + c.kafka_topic + "\"): it names the topic for records without that "
         "Kubernetes metadata");
  }
  std::map<std::string, std::string> seen;  // librdkafka name -> the setting that set it
  for (const auto& [suffix, value] : c.kafka_options) {
    const std::string key = "LOGSHIP_KAFKA_OPT_" + suffix;
    const bool shape_ok = !suffix.empty() && suffix.front() != '_' && suffix.back() != '_' &&
                          suffix.find("__") == std::string::npos &&
                          std::all_of(suffix.begin(), suffix.end(), [](char ch) {
                            return is_digit(ch) || ch == '_' || (ascii_lower(ch) >= 'a' && ascii_lower(ch) <= 'z');
                          });
    if (!shape_ok) {
      fail(key + ": not a librdkafka property name; expected LOGSHIP_KAFKA_OPT_<NAME> with NAME the "
                 "property in upper case and '_' for '.', e.g. LOGSHIP_KAFKA_OPT_SASL_MECHANISM");
    }
    std::string name;
    const bool from_file = suffix.size() > 5 && iequals(std::string_view(suffix).substr(suffix.size() - 5), "_FILE");
    for (char ch : std::string_view(suffix).substr(0, suffix.size() - (from_file ? 5 : 0))) {
      name += ch == '_' ? '.' : ascii_lower(ch);
    }
    // Settings with a key of their own: two spellings of one setting would
    // leave the reader guessing which one wins.
    if (name == "bootstrap.servers" || name == "metadata.broker.list") {
      fail(key + ": set the brokers with LOGSHIP_KAFKA_BROKERS");
    }
    if (name == "compression.codec" || name == "compression.type") {
      fail(key + ": set the codec with LOGSHIP_COMPRESSION");
    }
    // The sink needs a delivery report for every message to commit checkpoints.
    if (name == "delivery.report.only.error") {
      fail(key + ": not supported: logship commits checkpoints from successful delivery reports");
    }
    // X and X_FILE (or two spellings of one name) would silently shadow
    // each other.
    if (auto [it, added] = seen.emplace(name, key); !added) {
      fail(key + ": sets the librdkafka property " + name + ", which " + it->second +
           " already sets; keep one of them");
    }
  }
}

/// Why LOGSHIP_HTTP_URL is not an http(s) URL, or "". A light check of the
/// shape only (scheme, host, port); the HTTP sink parses it for real.
std::string http_url_problem(std::string_view url) {
  std::string_view rest;
  if (url.size() >= 7 && iequals(url.substr(0, 7), "http://")) {
    rest = url.substr(7);
  } else if (url.size() >= 8 && iequals(url.substr(0, 8), "https://")) {
    rest = url.substr(8);
  } else {
    return "the scheme must be http:// or https://";
  }
  if (std::any_of(url.begin(), url.end(), [](char ch) { return ch <= ' ' || ch == 0x7f; })) {
    return "it contains spaces or control characters";
  }
  std::string_view authority = rest.substr(0, std::min(rest.find('/'), rest.find('?')));
  if (authority.find('@') != std::string_view::npos) {
    return "credentials in the URL are not supported (use LOGSHIP_HTTP_USER and LOGSHIP_HTTP_PASSWORD_FILE)";
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return "bad [IPv6] host";
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "bad [IPv6] host";
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon == 0 || authority.empty()) return "missing host";
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (authority.find(':') != std::string_view::npos || !port.empty()) {
    if (authority.back() == ':' && port.empty()) return "empty port";
  }
  if (!port.empty()) {
    auto n = parse_decimal(port);
    if (!n || *n == 0 || *n > 65535) return "the port must be 1-65535";
  }
  return "";
}

void check_http(const Config& c) {
  if (c.sink != SinkKind::kHttp) return;
  if (c.http_url.empty()) {
    fail("LOGSHIP_HTTP_URL (--http-url) is required when LOGSHIP_SINK=http: e.g. "
         "https://loki.example:3100");
  }
  if (auto why = http_url_problem(c.http_url); !why.empty()) {
    fail("LOGSHIP_HTTP_URL: \"" + c.http_url + "\" is not a usable URL: " + why);
  }
  const Compression comp = effective_compression(c);
  if (comp != Compression::kGzip && comp != Compression::kZstd && comp != Compression::kNone) {
    fail("LOGSHIP_COMPRESSION: \"" + std::string(to_string(comp)) +
         "\" is not supported by the http sink; expected one of gzip, zstd, none");
  }
  if (c.http_concurrency == kHttpConcurrencyInvalid || c.http_concurrency > 256) {
    fail("LOGSHIP_HTTP_CONCURRENCY: expected adaptive or a decimal number between 1 and 256");
  }
  if (c.http_user.has_value() != c.http_password_file.has_value()) {
    fail("LOGSHIP_HTTP_USER and LOGSHIP_HTTP_PASSWORD_FILE go together: basic auth needs both");
  }
  if (c.http_user && c.http_token_file) {
    fail("LOGSHIP_HTTP_TOKEN_FILE and LOGSHIP_HTTP_USER both set: choose bearer token or basic auth");
  }
  if (c.http_cert_file.has_value() != c.http_key_file.has_value()) {
    fail("LOGSHIP_HTTP_CERT_FILE and LOGSHIP_HTTP_KEY_FILE go together: mutual TLS needs both");
  }
  const bool https = c.http_url.size() >= 8 && iequals(std::string_view(c.http_url).substr(0, 8), "https://");
  if (!https && (c.http_ca_file || c.http_cert_file || c.http_tls_insecure)) {
    fail("LOGSHIP_HTTP_CA_FILE, LOGSHIP_HTTP_CERT_FILE and LOGSHIP_HTTP_TLS_INSECURE need an https:// "
         "LOGSHIP_HTTP_URL");
  }
  if (c.http_tls_insecure && c.http_ca_file) {
    fail("LOGSHIP_HTTP_TLS_INSECURE=true and LOGSHIP_HTTP_CA_FILE both set: the CA file would be ignored");
  }
  for (const auto& h : c.http_headers) {
    const size_t eq = h.find('=');
    const std::string_view name = std::string_view(h).substr(0, eq);
    // RFC 9110 token characters; names only, as values are secret.
    const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
      return is_digit(ch) || (ascii_lower(ch) >= 'a' && ascii_lower(ch) <= 'z') ||
             std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
    });
    if (eq == std::string::npos || !name_ok) {
      fail("LOGSHIP_HTTP_HEADERS: an item is not Name=value with a valid header name (values are "
           "not shown: they may be secret)");
    }
  }
  if (c.http_format == HttpFormat::kElasticsearch) {
    // Index names: lower case, no spaces or \ / * ? " < > | , #; the
    // letter after a '%' is a date directive (%Y), not part of the name.
    for (size_t i = 0; i < c.http_index.size(); ++i) {
      const char ch = c.http_index[i];
      if (ch == '%') {
        ++i;
        continue;
      }
      if ((ch >= 'A' && ch <= 'Z') || std::string_view(" \\/*?\"<>|,#").find(ch) != std::string_view::npos) {
        fail("LOGSHIP_HTTP_INDEX: \"" + c.http_index + "\" has '" + std::string(1, ch) +
             "', which Elasticsearch does not allow in index names");
      }
    }
  }
}

/// Rules that involve more than one setting; they run on the typed Config
/// after every row parsed, so each value is already known to be in bounds.
void check_cross_keys(const Config& c) {
  if (c.sink == SinkKind::kFile && c.file_path.empty()) {
    fail("LOGSHIP_FILE_PATH (--file-path) is required when LOGSHIP_SINK=file");
  }
  check_kafka(c);
  check_http(c);
  if (c.k8s_api && c.node_name.empty()) {
    fail("LOGSHIP_NODE_NAME (--node-name) is required when LOGSHIP_K8S_API=true "
         "(set it from the downward API: fieldRef spec.nodeName)");
  }
  for (const std::string& source : c.release_from) {
    const bool ok = source == "image-tag" ||
                    (source.starts_with("label:") && source.size() > 6) ||
                    (source.starts_with("annotation:") && source.size() > 11);
    if (!ok) {
      fail("LOGSHIP_RELEASE_FROM (--release-from): \"" + source +
           "\" is not one of label:<key>, annotation:<key>, image-tag");
    }
  }
  // Two full batches (one filling, one in flight) plus a record being
  // assembled and one being copied must fit, or the pipeline could stall
  // with nothing sendable. The bounds keep this sum far from overflow.
  const uint64_t minimum = 2 * uint64_t{c.batch_max_bytes} + 2 * uint64_t{c.max_record_bytes};
  if (c.memory_limit < minimum) {
    fail("LOGSHIP_MEMORY_LIMIT (--memory-limit): " + std::to_string(c.memory_limit) +
         " bytes is below the minimum of " + std::to_string(minimum) + " bytes (" +
         format_size(minimum) +
         ") = 2*LOGSHIP_BATCH_MAX_BYTES + 2*LOGSHIP_MAX_RECORD_BYTES; raise it or lower those two");
  }
}

}  // namespace

Loaded load(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  Loaded loaded = detail::load_with_table(detail::key_table(), args, env);
  if (loaded.action == Action::kRun || loaded.action == Action::kCheckConfig) {
    check_cross_keys(loaded.config);
  }
  return loaded;
}

std::map<std::string, std::string> environment_map(char** envp) {
  std::map<std::string, std::string> env;
  for (char** p = envp; p != nullptr && *p != nullptr; ++p) {
    const char* eq = std::strchr(*p, '=');
    if (eq == nullptr) continue;
    env.emplace(std::string(*p, size_t(eq - *p)), std::string(eq + 1));  // emplace keeps the first
  }
  return env;
}

std::string render_effective(const Config& config) {
  return detail::render_with_table(detail::key_table(), config);
}

std::string help_text() { return detail::help_with_table(detail::key_table()); }

std::string_view to_string(InputFormat format) {
  return detail::kInputFormatNames[static_cast<size_t>(format)];
}
std::string_view to_string(SinkKind sink) { return detail::kSinkNames[static_cast<size_t>(sink)]; }
std::string_view to_string(LogLevel level) {
  return detail::kLogLevelNames[static_cast<size_t>(level)];
}
std::string_view to_string(Compression compression) {
  return detail::kCompressionNames[static_cast<size_t>(compression)];
}
std::string_view to_string(KafkaKey key) { return detail::kKafkaKeyNames[static_cast<size_t>(key)]; }
std::string_view to_string(HttpFormat format) {
  return detail::kHttpFormatNames[static_cast<size_t>(format)];
}

uint32_t parse_http_concurrency(std::string_view text) {
  if (iequals(text, "adaptive")) return 0;
  auto n = parse_decimal(text);
  if (!n || *n == 0) return kHttpConcurrencyInvalid;
  return static_cast<uint32_t>(std::min<uint64_t>(*n, kHttpConcurrencyInvalid - 1));
}

Compression effective_compression(const Config& config) {
  if (config.compression) return *config.compression;
  if (config.sink == SinkKind::kKafka) return Compression::kZstd;
  // HTTP: gzip is what every aggregator accepts as Content-Encoding.
  if (config.sink == SinkKind::kHttp) return Compression::kGzip;
  return Compression::kNone;
}

bool is_secret_kafka_option(std::string_view suffix) {
  // A _FILE entry's value is the path; the sink hides what it reads.
  if (suffix.size() > 5 && iequals(suffix.substr(suffix.size() - 5), "_FILE")) return false;
  std::string name;
  for (char c : suffix) name += c == '_' ? '.' : ascii_lower(c);
  // Substrings, not exact names: librdkafka grows new credentials
  // (ssl.keystore.password, sasl.oauthbearer.client.secret, ...) and hiding
  // a harmless value such as ssl.key.location costs nothing.
  constexpr std::string_view kMarkers[] = {"password", "secret", "key", "token", "sasl.oauthbearer.config"};
  return std::any_of(std::begin(kMarkers), std::end(kMarkers),
                     [&](std::string_view m) { return name.find(m) != std::string::npos; });
}

bool valid_topic_name(std::string_view topic) {
  // Kafka's own rule (org.apache.kafka.common.internals.Topic): 1..249 of
  // [a-zA-Z0-9._-], and not "." or "..".
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  return std::all_of(topic.begin(), topic.end(), [](char c) {
    return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z') || c == '.' || c == '_' || c == '-';
  });
}

std::expected<std::vector<TopicPart>, std::string> parse_topic_template(std::string_view topic,
                                                                        bool allow_placeholders) {
  constexpr std::pair<std::string_view, TopicPart::Kind> kPlaceholders[] = {
      {"{namespace}", TopicPart::Kind::kNamespace},
      {"{pod}", TopicPart::Kind::kPod},
      {"{container}", TopicPart::Kind::kContainer},
  };
  std::vector<TopicPart> parts;
  size_t pos = 0;
  while (pos < topic.size()) {
    if (topic[pos] == '{') {
      bool known = false;
      for (const auto& [word, kind] : kPlaceholders) {
        if (topic.substr(pos).starts_with(word)) {
          if (!allow_placeholders) return std::unexpected("must not contain placeholders such as " + std::string(word));
          parts.push_back(TopicPart{.kind = kind, .text = {}});
          pos += word.size();
          known = true;
          break;
        }
      }
      if (!known) {
        const size_t close = topic.find('}', pos);
        const std::string what(topic.substr(pos, close == std::string_view::npos ? 1 : close - pos + 1));
        return std::unexpected("has an unknown placeholder \"" + what +
                               "\"; the placeholders are {namespace}, {pod} and {container}");
      }
      continue;
    }
    const size_t next = std::min(topic.find('{', pos), topic.size());
    const std::string_view text = topic.substr(pos, next - pos);
    for (char c : text) {
      if (!(is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z') || c == '.' || c == '_' || c == '-')) {
        return std::unexpected("has the character '" + std::string(1, c) +
                               "', which Kafka does not allow in topic names (A-Z a-z 0-9 . _ -)");
      }
    }
    parts.push_back(TopicPart{.kind = TopicPart::Kind::kText, .text = std::string(text)});
    pos = next;
  }
  const bool templated = std::any_of(parts.begin(), parts.end(),
                                     [](const TopicPart& p) { return p.kind != TopicPart::Kind::kText; });
  if (!templated && !valid_topic_name(topic)) {
    return std::unexpected("is not a valid topic name (1 to 249 of A-Z a-z 0-9 . _ -, not \".\" or \"..\")");
  }
  return parts;
}

}  // namespace logship::config
