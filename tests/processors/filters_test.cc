#include "agent/processors/filters.h"

#include <catch2/catch.hpp>

#include "tests/processors/test_support.h"

using namespace logship;
using namespace logship::processors;
using logship::processors::testing::Collect;
using logship::processors::testing::make_record;
using logship::processors::testing::Padded;

TEST_CASE("path filter: include and exclude globs", "[processors][exclude]") {
  const PathFilter none;
  CHECK_FALSE(none.active());
  CHECK_FALSE(none.excluded("shop", "app"));

  const PathFilter f(PathFilterSettings{.include_namespaces = {"shop", "team-*"},
                                        .exclude_namespaces = {"team-sandbox"},
                                        .exclude_containers = {"istio-*", "linkerd-prox?"}});
  CHECK(f.active());
  CHECK_FALSE(f.excluded("shop", "app"));
  CHECK_FALSE(f.excluded("team-a", "app"));
  CHECK(f.excluded("kube-system", "coredns"));  // not included
  CHECK(f.excluded("team-sandbox", "app"));     // included, then excluded
  CHECK(f.excluded("shop", "istio-proxy"));
  CHECK(f.excluded("shop", "linkerd-proxy"));
  CHECK_FALSE(f.excluded("shop", "linkerd-proxies"));
  // No namespace (not a kubelet path, stdin): no rule applies.
  CHECK_FALSE(f.excluded("", "istio-proxy"));
  SourceInfo s;
  s.namespace_name = "kube-system";
  s.container = "app";
  CHECK(f.excluded(s));

  const PathFilter exclude_only(PathFilterSettings{.exclude_namespaces = {"kube-*"}});
  CHECK(exclude_only.excluded("kube-system", "x"));
  CHECK_FALSE(exclude_only.excluded("default", "x"));
  const PathFilter brackets(PathFilterSettings{.exclude_containers = {"[ab]pp"}});
  CHECK(brackets.excluded("ns", "app"));
  CHECK_FALSE(brackets.excluded("ns", "cpp"));
}

TEST_CASE("exclude annotations: the pod or one container", "[processors][exclude]") {
  ProcessorStats stats;
  const AnnotationMap pod{{"logship.io/exclude", "true"}};
  const AnnotationMap one{{"logship.io/exclude-sidecar", "TRUE"}};
  const AnnotationMap no{{"logship.io/exclude", "false"}};
  const AnnotationMap bad{{"logship.io/exclude", "yes please"}};
  CHECK(annotation_excludes(&pod, "app", stats));
  CHECK(annotation_excludes(&one, "sidecar", stats));
  CHECK_FALSE(annotation_excludes(&one, "app", stats));
  CHECK_FALSE(annotation_excludes(&no, "app", stats));
  CHECK_FALSE(annotation_excludes(nullptr, "app", stats));
  CHECK(stats.annotation_errors.load() == 0);
  CHECK_FALSE(annotation_excludes(&bad, "app", stats));
  CHECK(stats.annotation_errors.load() == 1);
}

TEST_CASE("exclude processor drops the pod's records, follows annotation changes",
          "[processors][exclude]") {
  ProcessorStats stats;
  AnnotationExcludeFactory factory(true, stats);
  SourceInfo source;
  source.container = "app";
  auto p = factory.create(source);
  REQUIRE(p);
  Collect out;
  const Padded line("hello");
  p->process(make_record(line, PayloadKind::kText, &source), out);  // no annotations yet
  CHECK(out.out.size() == 1);
  source.annotations = std::make_shared<AnnotationMap>(AnnotationMap{{"logship.io/exclude-app", "true"}});
  p->process(make_record(line, PayloadKind::kText, &source), out);
  p->process(make_record(line, PayloadKind::kText, &source), out);
  CHECK(out.out.size() == 1);
  CHECK(stats.dropped_excluded.load() == 2);
  source.annotations = std::make_shared<AnnotationMap>();
  p->process(make_record(line, PayloadKind::kText, &source), out);
  CHECK(out.out.size() == 2);
  CHECK_FALSE(AnnotationExcludeFactory(false, stats).create(source));
}
