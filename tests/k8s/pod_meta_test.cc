#include "agent/k8s/pod_meta.h"

#include <catch2/catch.hpp>

namespace logship::k8s {
namespace {

PodObject sample_pod() {
  PodObject pod;
  pod.namespace_name = "shop";
  pod.name = "checkout-7d9f8b6c5-x2x9q";
  pod.uid = "5f0e4a7c";
  pod.node = "node-1";
  pod.labels = {{"team", "payments"},
                {"app.kubernetes.io/version", "1.4.2"},
                {"app.kubernetes.io/name", "checkout"},
                {"pod-template-hash", "7d9f8b6c5"}};
  pod.annotations = {{"logship.io/release", "checkout@1.4.2"}, {"prometheus.io/scrape", "true"}};
  pod.containers = {{"app", "registry.example.com:5000/shop/checkout:1.4.3"},
                    {"proxy", "envoyproxy/envoy@sha256:5d1f"},
                    {"sidecar", "busybox"}};
  pod.image_ids = {{"sidecar", "docker.io/library/busybox@sha256:c383"}};
  return pod;
}

}  // namespace

TEST_CASE("NameFilter matches exact names and prefixes ending in '*'", "[k8s]") {
  auto filter = NameFilter::create({"team", "app.kubernetes.io/*"});
  REQUIRE(filter);
  CHECK(filter->matches("team"));
  CHECK_FALSE(filter->matches("teams"));
  CHECK_FALSE(filter->matches("tea"));
  CHECK(filter->matches("app.kubernetes.io/name"));
  CHECK(filter->matches("app.kubernetes.io/"));
  CHECK_FALSE(filter->matches("app.kubernetes.io"));
  CHECK_FALSE(filter->matches("helm.sh/chart"));

  auto all = NameFilter::create({"*"});
  REQUIRE(all);
  CHECK(all->matches("anything"));
  CHECK(all->matches(""));

  CHECK(NameFilter().empty());
  CHECK_FALSE(NameFilter().matches("team"));
  auto none = NameFilter::create({});
  REQUIRE(none);
  CHECK(none->empty());

  auto bad = NameFilter::create({"team", ""});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::kInvalid);
}

TEST_CASE("release sources parse", "[k8s]") {
  CHECK(parse_release_source("image-tag").value() == ReleaseSource{ReleaseSource::Kind::kImageTag, ""});
  CHECK(parse_release_source("label:app.kubernetes.io/version").value() ==
        ReleaseSource{ReleaseSource::Kind::kLabel, "app.kubernetes.io/version"});
  CHECK(parse_release_source("annotation:logship.io/release").value() ==
        ReleaseSource{ReleaseSource::Kind::kAnnotation, "logship.io/release"});
  for (const char* bad : {"label:", "annotation:", "image", "tag", "", "Label:x", "env:RELEASE"}) {
    INFO(bad);
    auto r = parse_release_source(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalid);
  }
}

TEST_CASE("image_tag: tags, registry ports and digests", "[k8s]") {
  CHECK(image_tag("nginx") == "");
  CHECK(image_tag("nginx:1.25") == "1.25");
  CHECK(image_tag("docker.io/library/busybox:latest") == "latest");
  CHECK(image_tag("registry.example.com:5000/shop/checkout") == "");
  CHECK(image_tag("registry.example.com:5000/shop/checkout:1.4.2") == "1.4.2");
  CHECK(image_tag("localhost:5000/app:v2-rc.1") == "v2-rc.1");
  CHECK(image_tag("app@sha256:abcdef") == "sha256:abcdef");
  CHECK(image_tag("host:5000/team/app@sha256:abcdef") == "sha256:abcdef");
  CHECK(image_tag("host:5000/team/app:1.0@sha256:abcdef") == "1.0");
  CHECK(image_tag("[fd00::5]:5000/tools/wait-for:2.0") == "2.0");
  CHECK(image_tag("[fd00::5]:5000/tools/wait-for") == "");
  CHECK(image_tag("[fd00::5]:5000/tools/wait-for@sha256:aa00") == "sha256:aa00");
  CHECK(image_tag("app:") == "");
  CHECK(image_tag("") == "");
}

TEST_CASE("MetaPolicy keeps only allowed labels and annotations, sorted", "[k8s]") {
  auto policy = MetaPolicy::create({"app.kubernetes.io/*", "team"}, {"logship.io/release"}, {});
  REQUIRE(policy);
  const PodMeta meta = policy->build(sample_pod());
  CHECK(meta.namespace_name == "shop");
  CHECK(meta.name == "checkout-7d9f8b6c5-x2x9q");
  CHECK(meta.uid == "5f0e4a7c");
  CHECK(meta.node == "node-1");
  CHECK(meta.labels == StringPairs{{"app.kubernetes.io/name", "checkout"},
                                   {"app.kubernetes.io/version", "1.4.2"},
                                   {"team", "payments"}});
  CHECK(meta.annotations == StringPairs{{"logship.io/release", "checkout@1.4.2"}});
  CHECK(meta.images.size() == 3);
  CHECK(meta.images.at("proxy") == "envoyproxy/envoy@sha256:5d1f");
  CHECK(meta.releases.empty());  // no release_from
  CHECK(meta.release_for("app") == "");

  // Default filters keep nothing, so records stay small.
  const PodMeta bare = MetaPolicy::create({}, {}, {})->build(sample_pod());
  CHECK(bare.labels.empty());
  CHECK(bare.annotations.empty());
}

TEST_CASE("release_from: the first present source wins, per container", "[k8s]") {
  const PodObject pod = sample_pod();
  SECTION("label first, even when the filter drops the label") {
    const PodMeta meta =
        MetaPolicy::create({}, {}, {"label:app.kubernetes.io/version", "annotation:logship.io/release", "image-tag"})
            ->build(pod);
    CHECK(meta.labels.empty());
    CHECK(meta.release_for("app") == "1.4.2");
    CHECK(meta.release_for("proxy") == "1.4.2");
    CHECK(meta.release_for("sidecar") == "1.4.2");
  }
  SECTION("a missing label falls through to the annotation") {
    const PodMeta meta =
        MetaPolicy::create({}, {}, {"label:release", "annotation:logship.io/release", "image-tag"})->build(pod);
    CHECK(meta.release_for("app") == "checkout@1.4.2");
  }
  SECTION("an empty value counts as absent") {
    PodObject p = pod;
    p.labels.emplace_back("release", "");
    const PodMeta meta = MetaPolicy::create({}, {}, {"label:release", "image-tag"})->build(p);
    CHECK(meta.release_for("app") == "1.4.3");
  }
  SECTION("image-tag: the tag, else the spec digest, else the pulled digest") {
    const PodMeta meta = MetaPolicy::create({}, {}, {"label:nope", "image-tag"})->build(pod);
    CHECK(meta.release_for("app") == "1.4.3");
    CHECK(meta.release_for("proxy") == "sha256:5d1f");
    CHECK(meta.release_for("sidecar") == "sha256:c383");
    CHECK(meta.releases.size() == 3);
  }
  SECTION("no source present: the container has no release") {
    PodObject p = pod;
    p.image_ids.clear();
    const PodMeta meta = MetaPolicy::create({}, {}, {"label:nope", "image-tag"})->build(p);
    CHECK(meta.releases.count("sidecar") == 0);
    CHECK(meta.release_for("sidecar") == "");
    CHECK(meta.release_for("not-a-container") == "");
  }
  SECTION("bare sha256 image IDs (images never pulled from a registry)") {
    PodObject p = pod;
    p.image_ids["sidecar"] = "sha256:77aa";
    CHECK(MetaPolicy::create({}, {}, {"image-tag"})->build(p).release_for("sidecar") == "sha256:77aa");
  }
}

TEST_CASE("MetaPolicy::create rejects bad entries", "[k8s]") {
  CHECK_FALSE(MetaPolicy::create({""}, {}, {}));
  CHECK_FALSE(MetaPolicy::create({}, {""}, {}));
  auto bad = MetaPolicy::create({}, {}, {"label:x", "git-sha"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("git-sha") != std::string::npos);
}

}  // namespace logship::k8s
