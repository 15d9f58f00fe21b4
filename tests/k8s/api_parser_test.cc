#include "agent/k8s/api_parser.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"

namespace logship::k8s {
namespace {

std::string fixture(const std::string& name) {
  return testing::read_file(std::string(LOGSHIP_K8S_FIXTURES) + "/" + name);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

const std::string kSidecarDigest = "sha256:c3839dd800b9eb7603340509769c43e146a74c63dca3045a8e7dc8ee07e53966";

}  // namespace

TEST_CASE("a Pod object from the API", "[k8s]") {
  ApiParser parser;
  auto pod = parser.parse_pod(fixture("pod.json"));
  REQUIRE(pod);
  CHECK(pod->namespace_name == "shop");
  CHECK(pod->name == "checkout-7d9f8b6c5-x2x9q");
  CHECK(pod->uid == "5f0e4a7c-2b1d-4c8e-9a3f-7d6b5c4e3a21");
  CHECK(pod->node == "node-1");
  CHECK(pod->resource_version == "48213");
  CHECK(pod->labels.size() == 5);
  CHECK(pod->annotations.size() == 4);
  // containers, then initContainers, then ephemeralContainers.
  REQUIRE(pod->containers == StringPairs{
                                 {"app", "registry.example.com:5000/shop/checkout:1.4.2"},
                                 {"proxy", "envoyproxy/envoy@sha256:5d1f2c4a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060504"},
                                 {"sidecar", "busybox"},
                                 {"wait-db", "[fd00::5]:5000/tools/wait-for:2.0"},
                                 {"debugger-8x7p2", "nicolaka/netshoot:v0.13"},
                             });
  CHECK(pod->image_ids.size() == 4);
  CHECK(pod->image_ids.at("sidecar") == "docker.io/library/busybox@" + kSidecarDigest);

  SECTION("to PodMeta with the default release_from") {
    auto policy = MetaPolicy::create({"app.kubernetes.io/*"}, {"logship.io/*"},
                                     {"label:app.kubernetes.io/version", "annotation:logship.io/release", "image-tag"});
    REQUIRE(policy);
    const PodMeta meta = policy->build(*pod);
    CHECK(meta.labels == StringPairs{{"app.kubernetes.io/name", "checkout"},
                                     {"app.kubernetes.io/part-of", "shop"},
                                     {"app.kubernetes.io/version", "1.4.2"}});
    CHECK(meta.annotations == StringPairs{{"logship.io/release", "checkout@1.4.2"}});
    CHECK(meta.images.size() == 5);
    for (const auto& [container, image] : meta.images) CHECK(meta.release_for(container) == "1.4.2");
  }
  SECTION("to PodMeta with image-tag only") {
    const PodMeta meta = MetaPolicy::create({}, {}, {"image-tag"})->build(*pod);
    CHECK(meta.release_for("app") == "1.4.2");
    CHECK(meta.release_for("proxy") == "sha256:5d1f2c4a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060504");
    CHECK(meta.release_for("sidecar") == kSidecarDigest);
    CHECK(meta.release_for("wait-db") == "2.0");
    CHECK(meta.release_for("debugger-8x7p2") == "v0.13");
  }
}

TEST_CASE("a PodList page", "[k8s]") {
  ApiParser parser;
  auto page = parser.parse_pod_list(fixture("pod_list.json"));
  REQUIRE(page);
  CHECK(page->resource_version == "48250");
  CHECK(page->continue_token.starts_with("eyJ2Ijoi"));
  REQUIRE(page->items.size() == 2);
  CHECK(page->items[0].name == "coredns-5d78c9869d-7xkzp");
  CHECK(page->items[0].namespace_name == "kube-system");
  CHECK(page->items[0].annotations.empty());
  CHECK(page->items[0].containers == StringPairs{{"coredns", "registry.k8s.io/coredns/coredns:v1.10.1"}});
  CHECK(page->items[1].name == "checkout-7d9f8b6c5-x2x9q");

  auto last = parser.parse_pod_list(R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]})");
  REQUIRE(last);
  CHECK(last->continue_token.empty());
  CHECK(last->items.empty());
  auto null_items = parser.parse_pod_list(R"({"kind":"PodList","metadata":{"resourceVersion":"7"},"items":null})");
  REQUIRE(null_items);
  CHECK(null_items->items.empty());

  // A list is taken whole or not at all.
  auto bad_item = parser.parse_pod_list(
      R"({"metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"a","namespace":"b"}},{"metadata":{"name":"c"}}]})");
  REQUIRE_FALSE(bad_item);
  CHECK(bad_item.error().message.find("item 1") != std::string::npos);
  CHECK_FALSE(parser.parse_pod_list(R"({"items":[]})"));  // no resourceVersion to watch from
  CHECK_FALSE(parser.parse_pod_list("[]"));
}

TEST_CASE("watch events", "[k8s]") {
  ApiParser parser;
  const auto events = lines(fixture("watch_events.ndjson"));
  REQUIRE(events.size() == 5);

  auto added = parser.parse_watch_event(events[0]);
  REQUIRE(added);
  CHECK(added->type == WatchEvent::Type::kAdded);
  CHECK(added->resource_version == "48213");
  CHECK(added->pod.name == "checkout-7d9f8b6c5-x2x9q");
  CHECK(added->pod.containers.size() == 5);

  auto modified = parser.parse_watch_event(events[1]);
  REQUIRE(modified);
  CHECK(modified->type == WatchEvent::Type::kModified);
  CHECK(modified->resource_version == "48260");
  CHECK(modified->pod.containers[0].second == "registry.example.com:5000/shop/checkout:1.4.3");

  auto bookmark = parser.parse_watch_event(events[2]);
  REQUIRE(bookmark);
  CHECK(bookmark->type == WatchEvent::Type::kBookmark);
  CHECK(bookmark->resource_version == "48265");
  CHECK(bookmark->pod.name.empty());

  auto deleted = parser.parse_watch_event(events[3]);
  REQUIRE(deleted);
  CHECK(deleted->type == WatchEvent::Type::kDeleted);
  CHECK(deleted->resource_version == "48270");
  CHECK(deleted->pod.uid == "5f0e4a7c-2b1d-4c8e-9a3f-7d6b5c4e3a21");

  auto error = parser.parse_watch_event(events[4]);
  REQUIRE(error);
  CHECK(error->type == WatchEvent::Type::kError);
  CHECK(error->code == 410);
  CHECK(error->message == "too old resource version: 48213 (48998)");

  // Surrounding whitespace (a trailing "\r") is fine.
  CHECK(parser.parse_watch_event("  " + events[2] + "\r"));
}

TEST_CASE("bad watch events are errors", "[k8s]") {
  ApiParser parser;
  for (const char* bad : {
           "",
           "{not json",
           "[]",
           R"({"object":{}})",
           R"({"type":"ADDED"})",
           R"({"type":"SYNC","object":{"metadata":{"name":"a","namespace":"b"}}})",
           R"({"type":"ADDED","object":{"metadata":{"namespace":"b"}}})",
           R"({"type":"ADDED","object":{"kind":"Pod"}})",
           R"({"type":"BOOKMARK","object":{"metadata":{}}})",
       }) {
    INFO(bad);
    auto r = parser.parse_watch_event(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalid);
  }
}

TEST_CASE("Status bodies", "[k8s]") {
  ApiParser parser;
  auto forbidden = parser.parse_status(
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"system:serviceaccount:logging:logship\" cannot list resource \"pods\" in API group \"\" at the cluster scope","reason":"Forbidden","details":{"kind":"pods"},"code":403})");
  REQUIRE(forbidden);
  CHECK(forbidden->code == 403);
  CHECK(forbidden->reason == "Forbidden");
  CHECK(forbidden->message.starts_with("pods is forbidden"));
  CHECK_FALSE(parser.parse_status("<html>502 Bad Gateway</html>"));
}

TEST_CASE("the parser can be reused and its memory released", "[k8s]") {
  ApiParser parser;
  const std::string pod = fixture("pod.json");
  for (int i = 0; i < 3; ++i) REQUIRE(parser.parse_pod(pod));
  parser.release_memory();
  REQUIRE(parser.parse_pod(pod));
}

}  // namespace logship::k8s
