// The engine: collects raw strings from the environment and the command line
// for the union of all sections' rows, parses each row by its Kind, applies
// bounds, stores into the bound fields, and renders the result. Nothing here
// knows a concrete setting or component.
//
// Errors are thrown as ConfigError (the one place exceptions are allowed) and
// stop at the first problem: a single, precise message is easier to act on
// from `kubectl logs` than a wall of follow-on errors.

#include "agent/config/config.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "agent/config/value_syntax.h"

namespace logship::config {
namespace {

using syntax::ascii_lower;
using syntax::ascii_upper;
using syntax::expectation;
using syntax::is_digit;
using syntax::join;

constexpr std::string_view kEnvPrefix = "LOGSHIP_";

/// Flags that are not settings: no env var, no value.
constexpr std::string_view kCheckConfigFlag = "check-config";
constexpr std::string_view kHelpFlag = "help";
constexpr std::string_view kVersionFlag = "version";

/// "LOGSHIP_SINK" or "LOGSHIP_SINK (flag --sink)": users must be able to find
/// the offending setting whichever way they passed it.
std::string key_label(std::string_view env, std::string_view flag) {
  std::string out(env);
  if (!flag.empty()) out += " (flag " + std::string(flag) + ")";
  return out;
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

/// One row of the union with the object its binding writes to.
struct Row {
  const KeySpec* spec;
  void* object;
};

/// The union of all sections' rows in listing order (KeySpec::order, ties in
/// section then declaration order). Two rows with one name are a programming
/// error in a component, caught by the first test that loads the union.
std::vector<Row> union_of(std::span<const Section> sections) {
  std::vector<Row> rows;
  for (const Section& section : sections) {
    for (const KeySpec& spec : section.keys()) rows.push_back(Row{&spec, section.object()});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.spec->order < b.spec->order; });
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = i + 1; j < rows.size(); ++j) {
      if (rows[i].spec->env == rows[j].spec->env) {
        throw std::logic_error("config: " + std::string(rows[i].spec->env) + " is declared twice");
      }
    }
  }
  return rows;
}

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

/// Exact names win over prefixes, so a LOGSHIP_KAFKA_OPT_X row could still
/// claim one member of a family.
std::optional<Match> find_row(const std::vector<Row>& table, std::string_view env) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].spec->kind != Kind::kPrefix && table[i].spec->env == env) return Match{i, {}};
  }
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].spec->kind == Kind::kPrefix && env.starts_with(table[i].spec->env)) {
      return Match{i, std::string(env.substr(table[i].spec->env.size()))};
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

void put(const std::vector<Row>& table, Inputs& in, const Match& match, std::string_view env, Raw raw) {
  const KeySpec& spec = *table[match.row].spec;
  if (spec.kind == Kind::kPrefix) {
    if (match.suffix.empty()) {
      fail(key_label(env, raw.flag) + ": missing option name after the prefix " + std::string(spec.env));
    }
    in.entries[match.row][match.suffix] = std::move(raw.text);
    return;
  }
  in.values[match.row] = std::move(raw);
}

std::vector<std::string> env_names(const std::vector<Row>& table) {
  std::vector<std::string> names;
  for (const auto& row : table) {
    if (row.spec->kind != Kind::kPrefix) names.emplace_back(row.spec->env);
  }
  return names;
}

std::vector<std::string> flag_names(const std::vector<Row>& table) {
  std::vector<std::string> names;
  for (const auto& row : table) {
    if (row.spec->kind != Kind::kPrefix) names.push_back("--" + flag_name(row.spec->env));
  }
  for (auto special : {kCheckConfigFlag, kHelpFlag, kVersionFlag}) {
    names.push_back("--" + std::string(special));
  }
  return names;
}

void collect_env(const std::vector<Row>& table, const std::map<std::string, std::string>& env, Inputs& in) {
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

void collect_flags(const std::vector<Row>& table, const std::vector<std::string>& args, Inputs& in) {
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
    const KeySpec& spec = *table[match->row].spec;
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

void resolve(const std::vector<Row>& table, Inputs&& in) {
  for (size_t i = 0; i < table.size(); ++i) {
    const KeySpec& spec = *table[i].spec;
    if (spec.kind == Kind::kPrefix) {
      spec.bind.store_entries(table[i].object, std::move(in.entries[i]));
      continue;
    }
    Value value;
    if (const auto& raw = in.values[i]) {
      auto parsed = syntax::parse_value(spec, raw->text);
      if (!parsed) fail(key_label(spec.env, raw->flag) + ": " + parsed.error());
      value = *std::move(parsed);
    } else if (!spec.default_text.empty()) {
      auto parsed = syntax::parse_value(spec, spec.default_text);
      if (!parsed) fail(std::string(spec.env) + " (built-in default): " + parsed.error());
      value = *std::move(parsed);
    }
    spec.bind.store(table[i].object, std::move(value));
  }
}

}  // namespace

void fail(std::string message) { throw ConfigError(std::move(message)); }

void Section::check_owner() const {
  for (const KeySpec& spec : keys_) {
    const bool bound = spec.kind == Kind::kPrefix
                           ? spec.bind.store_entries != nullptr && spec.bind.fetch_entries != nullptr
                           : spec.bind.store != nullptr && spec.bind.fetch != nullptr;
    if (!bound || spec.bind.owner != owner_) {
      throw std::logic_error("config: " + std::string(spec.env) + " is not bound to this section's settings");
    }
  }
}

std::string flag_name(std::string_view env) {
  if (env.starts_with(kEnvPrefix)) env.remove_prefix(kEnvPrefix.size());
  std::string flag;
  for (char c : env) flag += c == '_' ? '-' : ascii_lower(c);
  // A prefix row "LOGSHIP_KAFKA_OPT_" yields "kafka-opt-", which is exactly
  // how its members are spelt: --kafka-opt-batch-size.
  return flag;
}

Action load(std::span<const Section> sections, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env) {
  const std::vector<Row> table = union_of(sections);
  // --help/--version first and regardless of everything else, so an operator
  // can always read the usage even from a pod with a broken environment.
  for (const auto& arg : args) {
    const bool help = arg == "--" + std::string(kHelpFlag);
    if (help || arg == "--" + std::string(kVersionFlag)) {
      resolve(table, Inputs(table.size()));
      return help ? Action::kHelp : Action::kVersion;
    }
  }
  Inputs in(table.size());
  collect_env(table, env, in);
  collect_flags(table, args, in);  // after env: the flag wins
  const Action action = in.action;
  resolve(table, std::move(in));
  return action;
}

std::string render(std::span<const Section> sections) {
  std::string out;
  for (const Row& row : union_of(sections)) {
    const KeySpec& spec = *row.spec;
    if (spec.kind == Kind::kPrefix) {
      for (const auto& [suffix, value] : spec.bind.fetch_entries(row.object)) {
        const bool secret = spec.secret || (spec.entry_secret && spec.entry_secret(suffix));
        out += std::string(spec.env) + suffix + "=" + (secret ? "<redacted>" : value) + "\n";
      }
      continue;
    }
    out += std::string(spec.env) + "=" + syntax::render_value(spec, spec.bind.fetch(row.object)) + "\n";
  }
  return out;
}

std::string help(std::span<const Section> sections) {
  // Columns: env, flag with its type, default and bounds, description.
  struct Line {
    std::string env, flag, limits;
    std::string_view help;
  };
  std::vector<Line> lines;
  for (const Row& row : union_of(sections)) {
    const KeySpec& spec = *row.spec;
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

std::map<std::string, std::string> environment_map(char** envp) {
  std::map<std::string, std::string> env;
  for (char** p = envp; p != nullptr && *p != nullptr; ++p) {
    const char* eq = std::strchr(*p, '=');
    if (eq == nullptr) continue;
    env.emplace(std::string(*p, size_t(eq - *p)), std::string(eq + 1));  // emplace keeps the first
  }
  return env;
}

}  // namespace logship::config
