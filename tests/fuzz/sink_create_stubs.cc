// The fuzz build links agent/settings.cc and every sink's key table and
// validation (sinks/*/*_config.cc) for fuzz_config, but not the sinks
// themselves (librdkafka, Boost.Beast, OpenSSL: a large build, and nothing
// a config fuzzer reaches). The sinks' *_config.cc create() functions refer
// to these; no target calls them, and a call aborts loudly.
#include <cstdio>
#include <cstdlib>

#include "sinks/file/file_sink.h"
#include "sinks/http/http_sink.h"
#include "sinks/kafka/kafka_sink.h"

namespace {
[[noreturn]] void not_in_fuzz_build(const char* what) {
  std::fprintf(stderr, "fuzz build: %s is not linked (tests/fuzz/sink_create_stubs.cc)\n", what);
  std::abort();
}
}  // namespace

namespace logship::sinks {
FileSink::Io FileSink::io_for_run(bool) { not_in_fuzz_build("FileSink::io_for_run"); }
SinkPtr FileSink::to_file(std::string, Io) { not_in_fuzz_build("FileSink::to_file"); }
SinkPtr FileSink::to_stdout(Io) { not_in_fuzz_build("FileSink::to_stdout"); }
}  // namespace logship::sinks

// The sinks' out-of-line members (their vtables are needed where create()
// converts to a SinkPtr). Impl is the real sinks' private state: empty here.
namespace logship::sinks::http {
class HttpSink::Impl {};
Result<std::unique_ptr<HttpSink>> HttpSink::create(HttpSinkOptions) { not_in_fuzz_build("HttpSink::create"); }
HttpSink::~HttpSink() = default;
Result<void> HttpSink::start(DeliveryListener&) { not_in_fuzz_build("HttpSink::start"); }
void HttpSink::send(BatchPtr) { not_in_fuzz_build("HttpSink::send"); }
void HttpSink::stop() { not_in_fuzz_build("HttpSink::stop"); }
std::optional<std::string> HttpSink::unavailable_reason() const { not_in_fuzz_build("HttpSink::unavailable_reason"); }
size_t HttpSink::reserved_memory() const { not_in_fuzz_build("HttpSink::reserved_memory"); }
void HttpSink::collect_metrics(const std::function<void(const MetricSample&)>&) const {
  not_in_fuzz_build("HttpSink::collect_metrics");
}
}  // namespace logship::sinks::http

namespace logship::sinks::kafka {
class KafkaSink::Impl {};
Result<std::unique_ptr<KafkaSink>> KafkaSink::create(KafkaSinkOptions) { not_in_fuzz_build("KafkaSink::create"); }
KafkaSink::~KafkaSink() = default;
Result<void> KafkaSink::start(DeliveryListener&) { not_in_fuzz_build("KafkaSink::start"); }
void KafkaSink::send(BatchPtr) { not_in_fuzz_build("KafkaSink::send"); }
void KafkaSink::stop() { not_in_fuzz_build("KafkaSink::stop"); }
std::optional<std::string> KafkaSink::unavailable_reason() const { not_in_fuzz_build("KafkaSink::unavailable_reason"); }
bool KafkaSink::redelivers_internally() const { not_in_fuzz_build("KafkaSink::redelivers_internally"); }
size_t KafkaSink::reserved_memory() const { not_in_fuzz_build("KafkaSink::reserved_memory"); }
void KafkaSink::collect_metrics(const std::function<void(const MetricSample&)>&) const {
  not_in_fuzz_build("KafkaSink::collect_metrics");
}
}  // namespace logship::sinks::kafka
