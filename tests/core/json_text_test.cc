// Tests for agent/core/json_text: scanning logship's own JSON (the k8s
// object, the members of a record) never reads past its input.

#include "agent/core/json_text.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace logship;

namespace {

/// Members found, name -> value text; `ok` is scan_members' result.
std::map<std::string, std::string> members(std::string_view object, bool& ok) {
  std::map<std::string, std::string> out;
  ok = scan_members(object, [&](std::string_view name, FieldSpan v) { out[std::string(name)] = v.in(object); });
  return out;
}

}  // namespace

TEST_CASE("json_text: odd input never reads past the object", "[core]") {
  bool ok = true;
  members("", ok);
  CHECK_FALSE(ok);
  members("[1,2]", ok);
  CHECK_FALSE(ok);
  members("{", ok);
  CHECK_FALSE(ok);
  members(R"({"ts":"unterminated)", ok);
  CHECK_FALSE(ok);
  members(R"({"ts":"a\)", ok);  // escape at the very end
  CHECK_FALSE(ok);
  auto m = members(R"({"k8s":{"pod":"p"},"x")", ok);
  CHECK_FALSE(ok);
  CHECK(m["k8s"] == R"({"pod":"p"})");  // what was found before the surprise is kept
  // Members of other kinds are skipped, strings in them too.
  m = members(R"({"n":5,"a":[1,{"x":"}"}],"b":true,"trace_id":"t","log":1})", ok);
  CHECK(ok);
  CHECK(m["a"] == R"([1,{"x":"}"}])");
  CHECK(m["trace_id"] == R"("t")");
  members(R"({"a":[1,2)", ok);
  CHECK_FALSE(ok);
  members(R"({"a":)", ok);
  CHECK_FALSE(ok);
  m = members(R"({ "release" : "r" , "log" : 1 })", ok);  // whitespace is tolerated
  CHECK(ok);
  CHECK(m["release"] == R"("r")");
  members("{}", ok);
  CHECK(ok);
}

TEST_CASE("json_text: k8s shape", "[core]") {
  const std::string k8s =
      R"({"namespace":"shop","pod":"p\"1","labels":{"x":"} \" {"},"container":"app","container_id":"c"})";
  K8sShape shape;
  REQUIRE(scan_k8s_shape(k8s, shape));
  CHECK(shape.namespace_name.in(k8s) == "shop");
  CHECK(shape.pod.in(k8s) == R"(p\"1)");
  CHECK(shape.container.in(k8s) == "app");
  CHECK(shape.container_id.in(k8s) == "c");
  CHECK_FALSE(shape.pod_uid.present());
  std::string scratch;
  CHECK(decoded_text(shape.pod.in(k8s), scratch) == "p\"1");
  CHECK_FALSE(scan_k8s_shape(R"({"pod":"p")", shape));
  CHECK(shape.pod.present());
}
