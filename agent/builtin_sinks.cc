#include "agent/builtin_sinks.h"

#include "sinks/file/file_sink.h"

namespace logship {

Result<SinkPtr> make_sink(const config::Config& config) {
  switch (config.sink) {
    case config::SinkKind::kFile: return sinks::FileSink::to_file(config.file_path);
    case config::SinkKind::kStdout: return sinks::FileSink::to_stdout();
  }
  return fail(Errc::kInvalid, "LOGSHIP_SINK: unsupported sink");
}

}  // namespace logship
