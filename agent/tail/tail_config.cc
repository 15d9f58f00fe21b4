#include "agent/tail/tail_config.h"

#include <algorithm>

#include "agent/config/config.h"

namespace logship::tail {
namespace {

using config::bind;
using config::Kind;
using config::KeySpec;

constexpr std::string_view kInputFormatNames[] = {"auto", "cri", "docker", "raw"};
constexpr std::string_view kReadFromNames[] = {"head", "tail"};

constexpr KeySpec kKeys[] = {
    {
        .env = "LOGSHIP_INPUT_PATHS",
        .kind = Kind::kList,
        .default_text = "/var/log/containers/*.log",
        .help = "Comma-separated globs of files to tail.",
        .order = 100,
        .bind = bind<&TailSettings::input_paths>(),
    },
    {
        .env = "LOGSHIP_INPUT_FORMAT",
        .kind = Kind::kEnum,
        .default_text = "auto",
        .choices = kInputFormatNames,
        .help = "Line framing of the input files; auto detects CRI or Docker per file.",
        .order = 110,
        .bind = bind<&TailSettings::input_format>(),
    },
    {
        .env = "LOGSHIP_MAX_RECORD_BYTES",
        .kind = Kind::kSize,
        .default_text = "1MiB",
        .min = config::kKiB,
        .max = 64 * config::kMiB,
        .help = "Longer lines are truncated to this size.",
        .order = 500,
        .bind = bind<&TailSettings::max_record_bytes>(),
    },
    {
        .env = "LOGSHIP_RESCAN_MS",
        .kind = Kind::kInteger,
        .default_text = "1000",
        .min = 10,
        .max = 3600000,
        .help = "Follow mode: milliseconds between rescans of the input globs and files "
                "(the fallback where inotify misses events).",
        .order = 600,
        .bind = bind<&TailSettings::rescan_interval>(),
    },
    {
        .env = "LOGSHIP_READ_FROM",
        .kind = Kind::kEnum,
        .default_text = "head",
        .choices = kReadFromNames,
        .help = "Follow mode: where a file first seen without a checkpoint is read from.",
        .order = 610,
        .bind = bind<&TailSettings::read_from>(),
    },
    {
        .env = "LOGSHIP_MAX_OPEN_FILES",
        .kind = Kind::kInteger,
        .default_text = "1024",
        .min = 1,
        .max = 1000000,
        .help = "Follow mode: files held open at once; files beyond it wait their turn.",
        .order = 620,
        .bind = bind<&TailSettings::max_open_files>(),
    },
    {
        .env = "LOGSHIP_ROTATE_WAIT_MS",
        .kind = Kind::kInteger,
        .default_text = "5000",
        .min = 0,
        .max = 3600000,
        .help = "Follow mode: milliseconds a renamed or deleted file stays open after its end, "
                "for lines its writer adds just after the rotation.",
        .order = 640,
        .bind = bind<&TailSettings::rotate_wait>(),
    },
};

}  // namespace

bool TailSettings::reads_stdin() const {
  return std::find(input_paths.begin(), input_paths.end(), "-") != input_paths.end();
}

std::span<const config::KeySpec> tail_keys() { return kKeys; }

void validate(const TailSettings& s) {
  if (s.reads_stdin() && s.input_paths.size() > 1) {
    config::fail("LOGSHIP_INPUT_PATHS: - (standard input) cannot be combined with file globs");
  }
}

std::string_view to_string(InputFormat format) { return kInputFormatNames[static_cast<size_t>(format)]; }
std::string_view to_string(ReadFrom from) { return kReadFromNames[static_cast<size_t>(from)]; }

}  // namespace logship::tail
