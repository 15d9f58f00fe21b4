// Kubernetes API parser: pods, pod lists, watch events and Status bodies
// from a (possibly hostile or broken) API server never crash the parser;
// byte 0 picks the entry point, and the parser object is reused across
// inputs as the watcher does.
#include <cstdint>
#include <string_view>

#include "agent/k8s/api_parser.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static logship::k8s::ApiParser parser;
  const std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] & 3) {
    case 0: (void)parser.parse_pod(json); break;
    case 1: (void)parser.parse_pod_list(json); break;
    case 2: (void)parser.parse_watch_event(json); break;
    default: (void)parser.parse_status(json); break;
  }
  return 0;
}
