// Tests for agent/core/batch: records with their structure, k8s shapes,
// finding a record by byte offset, and the memory the batch charges.

#include "agent/core/batch.h"

#include <catch2/catch.hpp>

using namespace logship;

TEST_CASE("batch: records keep their structure; unstructured records are marked", "[core]") {
  Batch b;
  b.data() += R"({"ts":"t","log":1})";
  RecordFields f;
  f.flags = RecordFields::kStructured;
  f.ts = {7, 1};
  f.log = {16, 1};
  b.end_record(f);
  b.data() += "raw";
  b.end_record();
  REQUIRE(b.record_count() == 2);
  CHECK(b.fields(0).structured());
  CHECK(b.fields(0).ts.in(b.record(0)) == "t");
  CHECK(b.fields(0).log.in(b.record(0)) == "1");
  CHECK_FALSE(b.fields(1).structured());
  CHECK(b.k8s_shape(b.fields(1)) == nullptr);
  // Every byte of a record (its newline included) maps back to it.
  for (size_t i = 0; i < b.data().size(); ++i) CHECK(b.record_at(i) == (i < b.record(0).size() + 1 ? 0u : 1u));
  b.reset();
  CHECK(b.empty());
  CHECK(b.record_count() == 0);
}

TEST_CASE("batch: consecutive equal k8s shapes share one entry", "[core]") {
  Batch b;
  K8sShape a;
  a.pod = {2, 3};
  K8sShape c;
  c.pod = {2, 4};
  const uint16_t i0 = b.add_k8s_shape(a);
  CHECK(b.add_k8s_shape(a) == i0);
  const uint16_t i1 = b.add_k8s_shape(c);
  CHECK(i1 != i0);
  RecordFields f;
  f.k8s_shape = i1;
  REQUIRE(b.k8s_shape(f) != nullptr);
  CHECK(*b.k8s_shape(f) == c);
}

TEST_CASE("batch: memory_bytes counts the bytes and the structure", "[core]") {
  Batch b;
  const size_t empty = b.memory_bytes();
  for (int i = 0; i < 100; ++i) {
    b.data() += "{}";
    b.end_record(RecordFields{});
  }
  CHECK(b.memory_bytes() >= empty + 100 * 3 + 100 * (sizeof(RecordFields) + sizeof(uint32_t)));
  CHECK(sizeof(RecordFields) <= 64);
}
