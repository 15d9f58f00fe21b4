#include "sinks/file/file_config.h"

#include "agent/config/config.h"
#include "sinks/file/file_sink.h"

namespace logship::sinks {
namespace {

constexpr config::KeySpec kFileKeys[] = {
    {
        .env = "LOGSHIP_FILE_PATH",
        .kind = config::Kind::kPath,
        .help = "Output file of the file sink; required when LOGSHIP_SINK=file.",
        .order = 150,
        .bind = config::bind<&FileSettings::path>(),
    },
};

}  // namespace

std::span<const config::KeySpec> stdout_keys() { return {}; }

void validate(const StdoutSettings&, const config::SinkContext&, bool) {}

Result<SinkPtr> create(const StdoutSettings&, const config::SinkContext& context) {
  return FileSink::to_stdout(FileSink::io_for_run(context.oneshot));
}

std::span<const config::KeySpec> file_keys() { return kFileKeys; }

void validate(const FileSettings& settings, const config::SinkContext&, bool selected) {
  if (selected && settings.path.empty()) {
    config::fail("LOGSHIP_FILE_PATH (--file-path) is required when LOGSHIP_SINK=file");
  }
}

Result<SinkPtr> create(const FileSettings& settings, const config::SinkContext& context) {
  return FileSink::to_file(settings.path, FileSink::io_for_run(context.oneshot));
}

}  // namespace logship::sinks
