#pragma once
// The configuration engine. Every setting is an environment variable
// LOGSHIP_<NAME> and the flag --<name> (the flag wins). Components declare
// their keys (key_spec.h) next to their code, bound to their own settings
// structs; the agent hands the union to load(), which drives parsing,
// bounds, error messages, --check-config output and --help from the rows.
// The engine knows no component and includes none.
//
// This is the only component allowed to throw: load() and the components'
// validate functions report every problem as a ConfigError, which main
// catches before any thread starts.

#include <cstdint>
#include <expected>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/key_spec.h"

namespace logship::config {

/// What main should do after loading.
enum class Action { kRun, kCheckConfig, kHelp, kVersion };

/// Any configuration problem. The message names the setting in its env
/// spelling (plus the flag when it came from one), the reason and what is
/// accepted, e.g. `LOGSHIP_SINK: "kafak" is not one of stdout, file`.
/// Values of secret settings never appear in messages.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws ConfigError(message): what validate functions call on a problem.
[[noreturn]] void fail(std::string message);

/// One component's rows with the settings object they are bound to. Built
/// from a component's key table and its settings struct; refuses (throws
/// std::logic_error) a row bound to another struct.
class Section {
 public:
  template <class S>
  Section(std::span<const KeySpec> keys, S& settings)
      : keys_(keys), object_(&settings), owner_(&kOwnerTag<S>) {
    check_owner();
  }

  [[nodiscard]] std::span<const KeySpec> keys() const { return keys_; }
  [[nodiscard]] void* object() const { return object_; }

 private:
  void check_owner() const;
  std::span<const KeySpec> keys_;
  void* object_;
  const void* owner_;
};

/// Sets every bound field from flags and environment, after checking every
/// row's syntax and bounds. Rows not given take their default (or unset).
/// @param args the command line without argv[0].
/// @param env  the whole environment (name -> value); only LOGSHIP_* names are
///             read, and an unknown LOGSHIP_* name is an error. Empty values
///             count as unset.
/// `--help` and `--version` anywhere in `args` short-circuit before anything
/// else is looked at (fields get the defaults), so they work with a broken
/// environment. Cross-key checks are the components' validate functions.
/// @throws ConfigError on the first problem found.
[[nodiscard]] Action load(std::span<const Section> sections, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env);

/// The `--check-config` output: one `LOGSHIP_KEY=value` line per setting in
/// `order` with canonical values (sizes in bytes, lists comma-joined, unset
/// optionals empty, listen as host:port / [v6]:port / off) and secret values
/// shown as `<redacted>`. Reads the sections' objects, never writes them.
[[nodiscard]] std::string render(std::span<const Section> sections);

/// Usage text for `--help`: the special flags, then one line per setting with
/// env name, flag, type, default, bounds and description.
[[nodiscard]] std::string help(std::span<const Section> sections);

/// Copies a POSIX `envp` (NAME=value, null-terminated; may be null) into a
/// map. Entries without '=' are skipped; for duplicate names the first one
/// wins, as with getenv().
[[nodiscard]] std::map<std::string, std::string> environment_map(char** envp);

/// "LOGSHIP_BATCH_MAX_BYTES" -> "batch-max-bytes" (no leading dashes).
[[nodiscard]] std::string flag_name(std::string_view env);

// ---- Value syntax helpers shared with components' validate functions --------

/// ASCII case-insensitive equality.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);

enum class NumberError { kSyntax, kNegative, kOverflow };

/// Plain decimal digits only ("12x", "+5", " 5" are errors).
[[nodiscard]] std::expected<uint64_t, NumberError> parse_decimal(std::string_view text);

/// host:port, [v6]:port or off (Kind::kListen); the error is the reason.
[[nodiscard]] std::expected<ListenAddress, std::string> parse_listen(std::string_view text);

/// Largest exact binary unit: 6291456 -> "6MiB", 1000 -> "1000".
[[nodiscard]] std::string format_size(uint64_t bytes);

}  // namespace logship::config
