#include "agent/pipeline/pipeline_config.h"

#include "agent/core/cpu_count.h"

#include <charconv>
#include <optional>
#include <string>

#include "agent/config/config.h"

namespace logship::pipeline {
namespace {

using config::bind;
using config::Kind;
using config::KeySpec;

constexpr std::string_view kLogLevelNames[] = {"debug", "info", "warn", "error"};


/// LOGSHIP_WORKERS: "auto" (0) or 1..kMaxWorkers; nullopt when neither.
std::optional<uint32_t> parse_workers(std::string_view text) {
  if (text.size() == 4 && (text[0] | 0x20) == 'a' && (text[1] | 0x20) == 'u' && (text[2] | 0x20) == 't' &&
      (text[3] | 0x20) == 'o') {
    return 0;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > kMaxWorkers) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::string check_workers(std::string_view text) {
  if (parse_workers(text)) return {};
  std::string why = "\"";
  why.append(text);
  why.append("\" is neither auto nor a worker count from 1 to ");
  why.append(std::to_string(kMaxWorkers));
  return why;
}

void store_workers(PipelineSettings& s, config::Value&& v) {
  const auto* text = std::get_if<std::string>(&v);
  s.workers = text ? parse_workers(*text).value_or(0) : 0;
}

config::Value fetch_workers(const PipelineSettings& s) {
  return s.workers == 0 ? std::string("auto") : std::to_string(s.workers);
}

constexpr KeySpec kKeys[] = {
    {
        .env = "LOGSHIP_STATE_DIR",
        .kind = Kind::kPath,
        .default_text = "/var/lib/logship",
        .help = "Directory for checkpoints; must survive pod restarts (hostPath).",
        .order = 120,
        .bind = bind<&PipelineSettings::state_dir>(),
    },
    {
        .env = "LOGSHIP_RELEASE",
        .kind = Kind::kString,
        .help = "Release label added to every record; omitted when unset.",
        .order = 130,
        .bind = bind<&PipelineSettings::release>(),
    },
    {
        .env = "LOGSHIP_MEMORY_LIMIT",
        .kind = Kind::kSize,
        .default_text = "64MiB",
        .min = 4 * config::kMiB,
        .max = 64 * config::kGiB,
        .help = "Budget for buffered records; reading pauses when it is reached.",
        .order = 510,
        .bind = bind<&PipelineSettings::memory_limit>(),
    },
    {
        .env = "LOGSHIP_BATCH_MAX_BYTES",
        .kind = Kind::kSize,
        .default_text = "1MiB",
        .min = config::kKiB,
        .max = 256 * config::kMiB,
        .help = "A batch is sent once it holds this many bytes.",
        .order = 520,
        .bind = bind<&PipelineSettings::batch_max_bytes>(),
    },
    {
        .env = "LOGSHIP_BATCH_TIMEOUT_MS",
        .kind = Kind::kInteger,
        .default_text = "250",
        .min = 1,
        .max = 60000,
        .help = "A non-empty batch is sent after this many milliseconds.",
        .order = 530,
        .bind = bind<&PipelineSettings::batch_timeout>(),
    },
    {
        .env = "LOGSHIP_LISTEN",
        .kind = Kind::kListen,
        .default_text = "0.0.0.0:2020",
        .help = "Address of the health and metrics endpoint, or off.",
        .order = 540,
        .bind = bind<&PipelineSettings::listen>(),
    },
    {
        .env = "LOGSHIP_ONESHOT",
        .kind = Kind::kBool,
        .default_text = "false",
        .help = "Ship what the inputs hold now, then exit (no following).",
        .order = 550,
        .bind = bind<&PipelineSettings::oneshot>(),
    },
    {
        .env = "LOGSHIP_LOG_LEVEL",
        .kind = Kind::kEnum,
        .default_text = "info",
        .choices = kLogLevelNames,
        .help = "Verbosity of the agent's own logs (stderr).",
        .order = 560,
        .bind = bind<&PipelineSettings::log_level>(),
    },
    {
        .env = "LOGSHIP_SHUTDOWN_TIMEOUT_MS",
        .kind = Kind::kInteger,
        .default_text = "25000",
        .min = 0,
        .max = 3600000,
        .help = "On SIGTERM/SIGINT: milliseconds to deliver what is in flight before exiting.",
        .order = 630,
        .bind = bind<&PipelineSettings::shutdown_timeout>(),
    },
    {
        .env = "LOGSHIP_WORKERS",
        .kind = Kind::kString,
        .default_text = "auto",
        .help = "Threads that parse and encode: auto (the CPUs the process may use, from its affinity and "
                "cgroup CPU quota) or 1..64.",
        .order = 535,
        .check = check_workers,
        .bind = config::bind_custom<PipelineSettings, store_workers, fetch_workers>(),
    },
};

}  // namespace

std::span<const config::KeySpec> pipeline_keys() { return kKeys; }

void validate(const PipelineSettings& s, const tail::TailSettings& tail) {
  // Two full batches (one filling, one in flight) plus a record being
  // assembled and one being copied must fit, or the pipeline could stall
  // with nothing sendable. The bounds keep this sum far from overflow.
  const uint64_t minimum = 2 * uint64_t{s.batch_max_bytes} + 2 * uint64_t{tail.max_record_bytes};
  if (s.memory_limit < minimum) {
    config::fail("LOGSHIP_MEMORY_LIMIT (--memory-limit): " + std::to_string(s.memory_limit) +
                 " bytes is below the minimum of " + std::to_string(minimum) + " bytes (" +
                 config::format_size(minimum) +
                 ") = 2*LOGSHIP_BATCH_MAX_BYTES + 2*LOGSHIP_MAX_RECORD_BYTES; raise it or lower those two");
  }
}

std::string_view to_string(LogLevel level) { return kLogLevelNames[static_cast<size_t>(level)]; }

}  // namespace logship::pipeline
