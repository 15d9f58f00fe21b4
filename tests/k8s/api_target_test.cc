#include "agent/k8s/api_target.h"

#include <catch2/catch.hpp>

namespace logship::k8s {

TEST_CASE("url_encode keeps unreserved characters only", "[k8s]") {
  CHECK(url_encode("spec.nodeName=node-1") == "spec.nodeName%3Dnode-1");
  CHECK(url_encode("a b/c~d_e") == "a%20b%2Fc~d_e");
  CHECK(url_encode("eyJ2Ijo+/=") == "eyJ2Ijo%2B%2F%3D");
  CHECK(url_encode("") == "");
}

TEST_CASE("list and watch targets", "[k8s]") {
  CHECK(list_target("node-1", 500) == "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=500");
  CHECK(list_target("node-1", 500, "abc=") ==
        "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&limit=500&continue=abc%3D");
  CHECK(watch_target("ip-10-0-0-11.ec2.internal", "48213", std::chrono::seconds(300)) ==
        "/api/v1/pods?fieldSelector=spec.nodeName%3Dip-10-0-0-11.ec2.internal&watch=1&resourceVersion=48213"
        "&allowWatchBookmarks=true&timeoutSeconds=300");
}

TEST_CASE("hosts: IPv6 literals get brackets in the Host header", "[k8s]") {
  CHECK(bare_host("[fd00::1]") == "fd00::1");
  CHECK(bare_host("fd00::1") == "fd00::1");
  CHECK(bare_host("10.96.0.1") == "10.96.0.1");
  CHECK(host_header("10.96.0.1", 443) == "10.96.0.1:443");
  CHECK(host_header("fd00::1", 443) == "[fd00::1]:443");
  CHECK(host_header("[fd00::1]", 6443) == "[fd00::1]:6443");
  CHECK(host_header("kubernetes.default.svc", 443) == "kubernetes.default.svc:443");
}

}  // namespace logship::k8s
