#include "agent/k8s/k8s_config.h"

#include "agent/config/config.h"

namespace logship::k8s {
namespace {

using config::bind;
using config::Kind;
using config::KeySpec;

constexpr KeySpec kKeys[] = {
    {
        .env = "LOGSHIP_K8S_API",
        .kind = Kind::kBool,
        .default_text = "false",
        .help = "Enrich records with pod metadata from the Kubernetes API (in-cluster config; "
                "list and watch the pods of LOGSHIP_NODE_NAME).",
        .order = 700,
        .bind = bind<&K8sSettings::api>(),
    },
    {
        .env = "LOGSHIP_NODE_NAME",
        .kind = Kind::kString,
        .help = "This node's name (from the downward API: spec.nodeName); required with LOGSHIP_K8S_API.",
        .order = 710,
        .bind = bind<&K8sSettings::node_name>(),
    },
    {
        .env = "LOGSHIP_K8S_LABELS",
        .kind = Kind::kList,
        .help = "Pod labels added to records: names, or prefixes ending in '*'; none by default.",
        .order = 720,
        .bind = bind<&K8sSettings::labels>(),
    },
    {
        .env = "LOGSHIP_K8S_ANNOTATIONS",
        .kind = Kind::kList,
        .help = "Pod annotations added to records: names, or prefixes ending in '*'; none by default.",
        .order = 730,
        .bind = bind<&K8sSettings::annotations>(),
    },
    {
        .env = "LOGSHIP_RELEASE_FROM",
        .kind = Kind::kList,
        .default_text = "label:app.kubernetes.io/version,annotation:logship.io/release,image-tag",
        .help = "Where a record's release comes from with LOGSHIP_K8S_API, first present wins: "
                "label:<key>, annotation:<key>, image-tag. LOGSHIP_RELEASE overrides.",
        .order = 740,
        .bind = bind<&K8sSettings::release_from>(),
    },
    {
        .env = "LOGSHIP_K8S_WAIT_MS",
        .kind = Kind::kInteger,
        .default_text = "500",
        .min = 0,
        .max = 60000,
        .help = "How long a new file's records wait for its pod to reach the metadata cache "
                "before shipping with path metadata only.",
        .order = 750,
        .bind = bind<&K8sSettings::wait>(),
    },
    {
        .env = "LOGSHIP_K8S_TOKEN_FILE",
        .kind = Kind::kPath,
        .default_text = "/var/run/secrets/kubernetes.io/serviceaccount/token",
        .help = "Service-account token for the Kubernetes API (re-read when it rotates).",
        .order = 760,
        .bind = bind<&K8sSettings::token_file>(),
    },
    {
        .env = "LOGSHIP_K8S_CA_FILE",
        .kind = Kind::kPath,
        .default_text = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        .help = "CA bundle that signs the Kubernetes API server's certificate.",
        .order = 770,
        .bind = bind<&K8sSettings::ca_file>(),
    },
};

}  // namespace

std::span<const config::KeySpec> k8s_keys() { return kKeys; }

void validate(K8sSettings& s, const std::map<std::string, std::string>& env) {
  if (s.api && s.node_name.empty()) {
    config::fail("LOGSHIP_NODE_NAME (--node-name) is required when LOGSHIP_K8S_API=true "
                 "(set it from the downward API: fieldRef spec.nodeName)");
  }
  for (const std::string& source : s.release_from) {
    const bool ok = source == "image-tag" || (source.starts_with("label:") && source.size() > 6) ||
                    (source.starts_with("annotation:") && source.size() > 11);
    if (!ok) {
      config::fail("LOGSHIP_RELEASE_FROM (--release-from): \"" + source +
                   "\" is not one of label:<key>, annotation:<key>, image-tag");
    }
  }
  if (!s.api) return;
  const auto value_of = [&env](const char* name) -> std::string {
    const auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  s.api_host = value_of("KUBERNETES_SERVICE_HOST");
  if (s.api_host.empty()) {
    config::fail("LOGSHIP_K8S_API=true but KUBERNETES_SERVICE_HOST is not set (not running in a pod?)");
  }
  s.api_port = 443;
  if (const std::string port = value_of("KUBERNETES_SERVICE_PORT"); !port.empty()) {
    const auto n = config::parse_decimal(port);
    if (!n || *n == 0 || *n > 65535) {
      config::fail("KUBERNETES_SERVICE_PORT: \"" + port + "\" is not a port");
    }
    s.api_port = static_cast<uint16_t>(*n);
  }
}

}  // namespace logship::k8s
