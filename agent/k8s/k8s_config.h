#pragma once
// Settings of the Kubernetes API metadata enrichment (LOGSHIP_K8S_*,
// LOGSHIP_NODE_NAME, LOGSHIP_RELEASE_FROM), and the in-cluster API address
// from KUBERNETES_SERVICE_HOST/PORT, checked with the rest of the
// configuration so --check-config catches a missing one.

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "agent/config/key_spec.h"

namespace logship::k8s {

/// Set from the keys below by the config engine (the initialisers only keep
/// a default-constructed struct determinate), then completed by validate().
struct K8sSettings {
  bool api = false;                         ///< LOGSHIP_K8S_API
  std::string node_name;                    ///< required when api
  std::vector<std::string> labels;          ///< names or prefixes ending in '*'
  std::vector<std::string> annotations;
  std::vector<std::string> release_from;    ///< label:<k>, annotation:<k>, image-tag
  std::chrono::milliseconds wait{};
  std::string token_file;
  std::string ca_file;
  // Not keys: the in-cluster API address, set by validate() when api.
  std::string api_host;    ///< KUBERNETES_SERVICE_HOST
  uint16_t api_port = 443;  ///< KUBERNETES_SERVICE_PORT, 443 when unset
};

/// LOGSHIP_K8S_API, LOGSHIP_NODE_NAME, LOGSHIP_K8S_LABELS,
/// LOGSHIP_K8S_ANNOTATIONS, LOGSHIP_RELEASE_FROM, LOGSHIP_K8S_WAIT_MS,
/// LOGSHIP_K8S_TOKEN_FILE, LOGSHIP_K8S_CA_FILE.
[[nodiscard]] std::span<const config::KeySpec> k8s_keys();

/// Cross-key checks, and with LOGSHIP_K8S_API=true the in-cluster address
/// from `env` (the process environment), stored into api_host/api_port.
/// Throws config::ConfigError.
void validate(K8sSettings& settings, const std::map<std::string, std::string>& env);

}  // namespace logship::k8s
