#include "agent/builtin_sinks.h"

#include "sinks/file/file_sink.h"
#include "sinks/http/http_sink.h"
#include "sinks/kafka/kafka_sink.h"

namespace logship {

Result<SinkPtr> make_sink(const config::Config& config) {
  switch (config.sink) {
    case config::SinkKind::kFile: return sinks::FileSink::to_file(config.file_path, sinks::FileSink::io_for_run(config.oneshot));
    case config::SinkKind::kStdout: return sinks::FileSink::to_stdout(sinks::FileSink::io_for_run(config.oneshot));
    case config::SinkKind::kKafka: {
      auto options = sinks::kafka::options_from_config(config);
      if (!options) return std::unexpected(options.error());
      auto sink = sinks::kafka::KafkaSink::create(std::move(*options));
      if (!sink) return std::unexpected(sink.error());
      return SinkPtr(std::move(*sink));
    }
    case config::SinkKind::kHttp: {
      auto options = sinks::http::options_from_config(config);
      if (!options) return std::unexpected(options.error());
      auto sink = sinks::http::HttpSink::create(std::move(*options));
      if (!sink) return std::unexpected(sink.error());
      return SinkPtr(std::move(*sink));
    }
  }
  return fail(Errc::kInvalid, "LOGSHIP_SINK: unsupported sink");
}

}  // namespace logship
