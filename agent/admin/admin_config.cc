#include "agent/admin/admin_config.h"

#include <string_view>

#include "agent/config/config.h"

namespace logship::admin {
namespace {

using config::bind;
using config::Kind;
using config::KeySpec;

constexpr std::string_view kKeyPrefix = "LOGSHIP_TAP_LISTEN: ";

// parse_tap_listen names the key itself; the engine adds it again.
std::string check_tap_listen(std::string_view text) {
  const auto r = parse_tap_listen(text);
  if (r) return {};
  std::string_view reason = r.error().message;
  if (reason.starts_with(kKeyPrefix)) reason.remove_prefix(kKeyPrefix.size());
  return std::string(reason);
}

// In ProgressMode order.
constexpr std::string_view kProgressNames[] = {"auto", "off", "json"};

constexpr KeySpec kKeys[] = {
    {
        .env = "LOGSHIP_TAP",
        .kind = Kind::kBool,
        .default_text = "false",
        .help = "Serve the live tap (`logship tap`) on LOGSHIP_TAP_LISTEN.",
        .order = 545,
        .bind = bind<&AdminConfig::tap>(),
    },
    {
        .env = "LOGSHIP_TAP_LISTEN",
        .kind = Kind::kString,
        .default_text = kDefaultTapListen,
        .help = "Loopback address of the live tap (host:port or [v6]:port).",
        .order = 546,
        .check = check_tap_listen,
        .bind = bind<&AdminConfig::tap_listen>(),
    },
    {
        .env = "LOGSHIP_PROGRESS",
        .kind = Kind::kEnum,
        .default_text = "auto",
        .choices = kProgressNames,
        .help = "Oneshot progress: auto (a line on a terminal, else JSON log lines), off, json.",
        .order = 555,
        .bind = bind<&AdminConfig::progress>(),
    },
};

}  // namespace

std::span<const config::KeySpec> admin_keys() { return kKeys; }

void validate(AdminConfig& c) {
  auto r = parse_tap_listen(c.tap_listen);
  if (!r) config::fail(r.error().message);
  c.tap_address = std::move(*r);
}

}  // namespace logship::admin
