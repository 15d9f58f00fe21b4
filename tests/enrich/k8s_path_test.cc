#include "agent/enrich/k8s_path.h"

#include <catch2/catch.hpp>

using logship::enrich::encode_k8s_member;
using logship::enrich::parse_k8s_path;

namespace {
const std::string kId(64, 'a');
}

TEST_CASE("k8s: containers/ symlink names", "[enrich]") {
  auto m = parse_k8s_path("/var/log/containers/checkout-7d9f8b6c5-x2x9q_shop_app-" + kId + ".log");
  REQUIRE(m);
  CHECK(m->pod == "checkout-7d9f8b6c5-x2x9q");
  CHECK(m->namespace_name == "shop");
  CHECK(m->container == "app");
  CHECK(m->container_id == kId);
  CHECK(m->pod_uid.empty());
  CHECK(encode_k8s_member(*m) ==
        "\"k8s\":{\"namespace\":\"shop\",\"pod\":\"checkout-7d9f8b6c5-x2x9q\",\"container\":\"app\","
        "\"container_id\":\"" + kId + "\"}");
  // Any root works: a test tree or a hostPath mount.
  CHECK(parse_k8s_path("/tmp/x/containers/p_ns_c-" + kId + ".log"));
  // Container names may contain dashes; the id is the last 64 hex.
  auto d = parse_k8s_path("/var/log/containers/p_ns_istio-proxy-" + kId + ".log");
  REQUIRE(d);
  CHECK(d->container == "istio-proxy");
}

TEST_CASE("k8s: pods/ layout", "[enrich]") {
  auto m = parse_k8s_path("/var/log/pods/shop_checkout-1_0f8e6a2c-1b2c-4d5e-8f90-123456789abc/app/0.log");
  REQUIRE(m);
  CHECK(m->namespace_name == "shop");
  CHECK(m->pod == "checkout-1");
  CHECK(m->pod_uid == "0f8e6a2c-1b2c-4d5e-8f90-123456789abc");
  CHECK(m->container == "app");
  CHECK(m->container_id.empty());
  CHECK(encode_k8s_member(*m) ==
        "\"k8s\":{\"namespace\":\"shop\",\"pod\":\"checkout-1\",\"pod_uid\":"
        "\"0f8e6a2c-1b2c-4d5e-8f90-123456789abc\",\"container\":\"app\"}");
  CHECK(parse_k8s_path("/var/log/pods/ns_pod_uid/c/3.log.20261126-230804") == std::nullopt);
}

TEST_CASE("k8s: other paths give nothing", "[enrich]") {
  CHECK_FALSE(parse_k8s_path("/var/log/syslog"));
  CHECK_FALSE(parse_k8s_path("/var/log/containers/no-id.log"));
  CHECK_FALSE(parse_k8s_path("/var/log/containers/p_ns_c-" + std::string(64, 'g') + ".log"));
  CHECK_FALSE(parse_k8s_path("/var/log/containers/p_c-" + kId + ".log"));
  CHECK_FALSE(parse_k8s_path("/var/log/containers/a_b_c_d-" + kId + ".log"));
  CHECK_FALSE(parse_k8s_path("/var/log/other/p_ns_c-" + kId + ".log"));
  CHECK_FALSE(parse_k8s_path("/var/log/pods/nouid/c/0.log"));
  CHECK_FALSE(parse_k8s_path("pods/a_b_c/d/0.txt"));
  CHECK_FALSE(parse_k8s_path(""));
}

TEST_CASE("k8s: API details extend the path metadata", "[enrich]") {
  auto m = parse_k8s_path("/var/log/containers/web-1_shop_app-" + kId + ".log");
  REQUIRE(m);
  logship::enrich::PodDetails d;
  d.node = "node-a";
  d.pod_uid = "uid-1";
  d.image = "registry:5000/shop/web:1.4.2";
  d.labels = {{"app.kubernetes.io/version", "1.4.2"}, {"team", "a\"b"}};
  CHECK(encode_k8s_member(*m, &d) ==
        "\"k8s\":{\"namespace\":\"shop\",\"pod\":\"web-1\",\"pod_uid\":\"uid-1\",\"container\":\"app\","
        "\"container_id\":\"" + kId + "\",\"node\":\"node-a\",\"image\":\"registry:5000/shop/web:1.4.2\","
        "\"labels\":{\"app.kubernetes.io/version\":\"1.4.2\",\"team\":\"a\\\"b\"}}");
}
