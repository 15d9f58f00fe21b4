// The Kubernetes component's keys on their own: loaded through the engine
// with only this component's section, and its validate().

#include "agent/k8s/k8s_config.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "agent/config/config.h"

using logship::config::ConfigError;
using logship::k8s::K8sSettings;
using Catch::Matchers::Equals;
using Env = std::map<std::string, std::string>;

namespace {

K8sSettings load(const std::vector<std::string>& args, const Env& env = {}) {
  K8sSettings s;
  const logship::config::Section sections[] = {logship::config::Section(logship::k8s::k8s_keys(), s)};
  (void)logship::config::load(sections, args, env);
  logship::k8s::validate(s, env);
  return s;
}

std::string error_of(const std::vector<std::string>& args, const Env& env = {}) {
  try {
    (void)load(args, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("accepted");
  return {};
}

}  // namespace

TEST_CASE("k8s config: its keys load without any other component", "[k8s][config]") {
  const K8sSettings d = load({});
  CHECK_FALSE(d.api);
  CHECK(d.wait == std::chrono::milliseconds(500));
  CHECK(d.token_file == "/var/run/secrets/kubernetes.io/serviceaccount/token");
  CHECK(d.api_host.empty());
  const K8sSettings c = load({"--k8s-api", "--node-name=n", "--k8s-annotations=a/*"},
                             {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "8443"}});
  CHECK(c.api);
  CHECK(c.annotations == std::vector<std::string>{"a/*"});
  CHECK(c.api_host == "fd00::1");
  CHECK(c.api_port == 8443);
  // Another component's key is unknown to this section alone.
  CHECK_THAT(error_of({"--sink=file"}), Equals("--sink: unknown flag; run with --help for the list of flags"));
}

TEST_CASE("k8s config: validate", "[k8s][config]") {
  CHECK_THAT(error_of({"--k8s-api"}, {{"KUBERNETES_SERVICE_HOST", "h"}}),
             Equals("LOGSHIP_NODE_NAME (--node-name) is required when LOGSHIP_K8S_API=true (set it from the "
                    "downward API: fieldRef spec.nodeName)"));
  CHECK_THAT(error_of({"--k8s-api", "--node-name=n"}),
             Equals("LOGSHIP_K8S_API=true but KUBERNETES_SERVICE_HOST is not set (not running in a pod?)"));
  CHECK_THAT(error_of({"--k8s-api", "--node-name=n"}, {{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "x"}}),
             Equals("KUBERNETES_SERVICE_PORT: \"x\" is not a port"));
  CHECK_THAT(error_of({"--release-from=image-tag,label:"}),
             Equals("LOGSHIP_RELEASE_FROM (--release-from): \"label:\" is not one of label:<key>, annotation:<key>, "
                    "image-tag"));
}
