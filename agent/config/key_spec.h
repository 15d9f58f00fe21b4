#pragma once
// The vocabulary a component uses to declare its settings: one constant
// KeySpec row per LOGSHIP_* key, bound to a member of the component's own
// typed settings struct with bind<&Settings::member>(). The engine
// (config.h) parses, bounds, renders and documents rows without knowing any
// component; a component knows nothing of the engine's parsing.
//
// Standard library only, so every component can include it.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace logship::config {

inline constexpr uint64_t kKiB = uint64_t{1} << 10;
inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;

/// The value syntax of a row. Each kind has exactly one parser and one
/// canonical rendering in the engine.
enum class Kind : uint8_t {
  kList,     ///< comma-separated, items trimmed, no empty items
  kEnum,     ///< one of `choices` (case-insensitive); Value holds the index
  kPath,     ///< any non-empty string, shown as <path>
  kString,   ///< any non-empty string; optional when the row has no default
  kSize,     ///< byte count with optional K/KB/Ki/KiB/M/... suffix, bounded
  kInteger,  ///< plain decimal, bounded; the unit is stated in `help`
  kListen,   ///< host:port, [v6]:port or off
  kBool,     ///< true/false/1/0/yes/no/on/off; a bare flag means true
  /// A pass-through family such as LOGSHIP_KAFKA_OPT_*: `env` is the prefix
  /// (ending in '_'), every LOGSHIP_<prefix><SUFFIX> variable and matching
  /// --<prefix>-<suffix> flag is collected unparsed into Entries keyed by
  /// SUFFIX (the consumer maps e.g. SASL_MECHANISM to the library's name).
  kPrefix,
};

/// The health/metrics endpoint syntax (Kind::kListen). `host` is stored
/// without brackets, so an IPv6 host is e.g. "::1"; `enabled` is false for "off".
struct ListenAddress {
  bool enabled = true;
  std::string host = "0.0.0.0";
  uint16_t port = 2020;

  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

/// A parsed value. Which alternative a row gets is fixed by its Kind:
/// list -> vector, enum/size/integer -> uint64_t, path/string -> string,
/// bool -> bool, listen -> ListenAddress; monostate means unset (only for
/// rows without a default).
using Value = std::variant<std::monostate, std::string, std::vector<std::string>, uint64_t,
                           bool, ListenAddress>;

/// Pass-through entries of a kPrefix row: SUFFIX (env spelling) -> raw value.
using Entries = std::map<std::string, std::string>;

/// How a row reaches its field: type-erased accessors over the component's
/// settings struct, plus the struct's identity so the engine can refuse a row
/// paired with the wrong struct. Built by bind<>() / bind_custom<>() below,
/// never by hand.
struct Binding {
  const void* owner = nullptr;  ///< &kOwnerTag<Settings>
  void (*store)(void* settings, Value&& value) = nullptr;
  Value (*fetch)(const void* settings) = nullptr;
  void (*store_entries)(void* settings, Entries&& entries) = nullptr;  ///< kPrefix only
  Entries (*fetch_entries)(const void* settings) = nullptr;             ///< kPrefix only
};

/// One setting. Rows are constant data owned by the component that reads them.
struct KeySpec {
  std::string_view env = {};      ///< "LOGSHIP_SINK"; the flag is derived from it
  Kind kind = Kind::kString;
  std::string_view default_text = {};  ///< in the user's syntax ("1MiB"); empty = none
  uint64_t min = 0;               ///< kSize / kInteger bounds, inclusive
  uint64_t max = std::numeric_limits<uint64_t>::max();
  std::span<const std::string_view> choices = {};  ///< kEnum, in enum order
  bool secret = false;            ///< value shown as <redacted> everywhere
  std::string_view help = {};     ///< one line for --help
  /// Position in --help and --check-config (ascending; ties keep declaration
  /// order). The numbers keep the listing of the single pre-split table, so
  /// the output did not change when the keys moved into their components.
  uint16_t order = 0;
  /// Optional extra syntax check of a value (after the kind's own parsing):
  /// returns the reason without the key, or "" when fine. It sees the raw
  /// text; for secret rows it must not quote it.
  std::string (*check)(std::string_view text) = nullptr;
  /// kPrefix only: whether one entry (by SUFFIX) is secret, for families
  /// where only some members are (a password among tuning knobs). `secret`
  /// still hides every entry when set.
  bool (*entry_secret)(std::string_view suffix) = nullptr;
  Binding bind = {};
};

// ---- Binders -----------------------------------------------------------------

template <class S>
inline constexpr char kOwnerTag = 0;

namespace bind_detail {

template <class M>
struct Member;
template <class S, class T>
struct Member<T S::*> {
  using Owner = S;
  using Type = T;
};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

/// Field <-> Value conversion per field type. Unset (monostate) clears the
/// field; an empty string, list or optional renders as unset, which is how
/// --check-config shows "not configured".
template <class T>
void store(T& field, Value&& v) {
  if constexpr (std::same_as<T, std::string>) {
    if (auto* s = std::get_if<std::string>(&v)) field = std::move(*s);
    else field.clear();
  } else if constexpr (std::same_as<T, std::vector<std::string>>) {
    if (auto* l = std::get_if<std::vector<std::string>>(&v)) field = std::move(*l);
    else field.clear();
  } else if constexpr (IsOptional<T>::value) {
    if (std::holds_alternative<std::monostate>(v)) {
      field.reset();
    } else {
      typename T::value_type inner{};
      store(inner, std::move(v));
      field = std::move(inner);
    }
  } else if constexpr (std::same_as<T, bool>) {
    field = std::get<bool>(v);
  } else if constexpr (std::same_as<T, ListenAddress>) {
    field = std::get<ListenAddress>(std::move(v));
  } else if constexpr (std::same_as<T, std::chrono::milliseconds>) {
    field = std::chrono::milliseconds(std::get<uint64_t>(v));
  } else if constexpr (std::is_enum_v<T> || std::is_integral_v<T>) {
    field = static_cast<T>(std::get<uint64_t>(v));
  } else {
    static_assert(!sizeof(T), "no binder for this field type");
  }
}

template <class T>
Value fetch(const T& field) {
  if constexpr (std::same_as<T, std::string> || std::same_as<T, std::vector<std::string>>) {
    if (field.empty()) return std::monostate{};
    return field;
  } else if constexpr (IsOptional<T>::value) {
    if (!field) return std::monostate{};
    return fetch(*field);
  } else if constexpr (std::same_as<T, bool> || std::same_as<T, ListenAddress>) {
    return field;
  } else if constexpr (std::same_as<T, std::chrono::milliseconds>) {
    return static_cast<uint64_t>(field.count());
  } else {
    return static_cast<uint64_t>(field);
  }
}

}  // namespace bind_detail

/// Binds a row to `&Settings::member`. Supported member types: std::string,
/// std::vector<std::string>, std::optional<...> of those or of an enum,
/// bool, ListenAddress, std::chrono::milliseconds, integers and enums (the
/// enum's values must be the row's choice indices), and
/// std::map<std::string, std::string> for kPrefix rows.
template <auto MemberPtr>
constexpr Binding bind() {
  using M = bind_detail::Member<decltype(MemberPtr)>;
  using S = typename M::Owner;
  using T = typename M::Type;
  if constexpr (std::same_as<T, Entries>) {
    return Binding{
        .owner = &kOwnerTag<S>,
        .store = nullptr,
        .fetch = nullptr,
        .store_entries = [](void* s, Entries&& e) { static_cast<S*>(s)->*MemberPtr = std::move(e); },
        .fetch_entries = [](const void* s) -> Entries { return static_cast<const S*>(s)->*MemberPtr; },
    };
  } else {
    return Binding{
        .owner = &kOwnerTag<S>,
        .store = [](void* s, Value&& v) { bind_detail::store(static_cast<S*>(s)->*MemberPtr, std::move(v)); },
        .fetch = [](const void* s) -> Value { return bind_detail::fetch(static_cast<const S*>(s)->*MemberPtr); },
        .store_entries = nullptr,
        .fetch_entries = nullptr,
    };
  }
}

/// For the rare row whose field is not a plain copy of the value (a parsed
/// special syntax, a value rendered from several fields).
template <class S, void (*Store)(S&, Value&&), Value (*Fetch)(const S&)>
constexpr Binding bind_custom() {
  return Binding{
      .owner = &kOwnerTag<S>,
      .store = [](void* s, Value&& v) { Store(*static_cast<S*>(s), std::move(v)); },
      .fetch = [](const void* s) -> Value { return Fetch(*static_cast<const S*>(s)); },
      .store_entries = nullptr,
      .fetch_entries = nullptr,
  };
}

}  // namespace logship::config
