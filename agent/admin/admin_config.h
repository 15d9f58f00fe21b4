#pragma once
// The live tap's and oneshot progress's keys (LOGSHIP_TAP, LOGSHIP_TAP_LISTEN,
// LOGSHIP_PROGRESS), declared for the config engine (agent/config/README.md).

#include <span>
#include <string>

#include "agent/admin/progress.h"
#include "agent/admin/tap_server.h"
#include "agent/config/key_spec.h"

namespace logship::admin {

struct AdminConfig {
  bool tap = false;
  std::string tap_listen;  ///< as written; checked loopback by the row
  ProgressMode progress{};
  TapListen tap_address;   ///< derived by validate()
};

[[nodiscard]] std::span<const config::KeySpec> admin_keys();

/// Parses LOGSHIP_TAP_LISTEN into tap_address. Throws config::ConfigError.
void validate(AdminConfig& config);

}  // namespace logship::admin
