// logship: ships container log files. Config comes from the environment
// (and the same --flags); own logs go to stderr as JSON lines; stdout is left
// to the stdout sink.

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/config/config.h"
#include "agent/core/log.h"
#include "agent/pipeline/pipeline.h"
#include "sinks/file/file_sink.h"

extern char** environ;

namespace {

constexpr int kExitDeliveryFailed = 1;
constexpr int kExitBadConfig = 2;

logship::framing::Format to_format(logship::config::InputFormat f) {
  using logship::config::InputFormat;
  switch (f) {
    case InputFormat::kCri: return logship::framing::Format::kCri;
    case InputFormat::kDocker: return logship::framing::Format::kDocker;
    case InputFormat::kRaw: return logship::framing::Format::kRaw;
    case InputFormat::kAuto: break;
  }
  return logship::framing::Format::kAuto;
}

logship::log::Level to_level(logship::config::LogLevel l) {
  using logship::config::LogLevel;
  switch (l) {
    case LogLevel::kDebug: return logship::log::Level::kDebug;
    case LogLevel::kWarn: return logship::log::Level::kWarn;
    case LogLevel::kError: return logship::log::Level::kError;
    case LogLevel::kInfo: break;
  }
  return logship::log::Level::kInfo;
}

int run(const logship::config::Config& cfg) {
  using namespace logship;
  if (!cfg.oneshot) {
    log::error("main", "follow mode is not available in this build; run with --oneshot (LOGSHIP_ONESHOT=true)");
    return kExitBadConfig;
  }
  auto store = checkpoint::CheckpointStore::open(cfg.state_dir);
  if (!store) {
    log::error("main", "cannot use the state directory",
               {{"key", "LOGSHIP_STATE_DIR"}, {"error", store.error().message}});
    return kExitDeliveryFailed;
  }
  SinkPtr sink = cfg.sink == config::SinkKind::kFile ? sinks::FileSink::to_file(cfg.file_path)
                                                     : sinks::FileSink::to_stdout();
  pipeline::Options opt;
  opt.input_paths = cfg.input_paths;
  opt.format = to_format(cfg.input_format);
  opt.release = cfg.release;
  opt.max_record_bytes = cfg.max_record_bytes;
  opt.memory_limit = cfg.memory_limit;
  opt.batch_max_bytes = cfg.batch_max_bytes;
  opt.batch_timeout = cfg.batch_timeout;

  const auto started = std::chrono::steady_clock::now();
  pipeline::Pipeline pipe(std::move(opt), std::move(sink), std::move(*store));
  const auto result = pipe.run_oneshot();
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  const auto& s = pipe.stats();
  log::info("main", result ? "oneshot done" : "oneshot finished with errors",
            {{"files", s.files_read.load()},
             {"bytes_read", s.bytes_read.load()},
             {"records", s.records_sent.load()},
             {"records_truncated", s.records_truncated.load()},
             {"batches", s.batches_sent.load()},
             {"sink_retries", s.sink_retries.load()},
             {"peak_in_flight_bytes", s.peak_in_flight_bytes.load()},
             {"elapsed_ms", static_cast<int64_t>(elapsed_ms)}});
  if (!result) {
    log::error("main", "not everything was delivered; checkpoints stay before it",
               {{"error", result.error().message}});
    return kExitDeliveryFailed;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout must surface as EPIPE on write, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  logship::config::Loaded loaded;
  try {
    loaded = logship::config::load(args, logship::config::environment_map(environ));
  } catch (const logship::config::ConfigError& e) {
    logship::log::error("config", "invalid configuration", {{"error", e.what()}});
    std::fprintf(stderr, "logship: %s\n", e.what());
    return kExitBadConfig;
  } catch (const std::exception& e) {
    logship::log::error("config", "invalid configuration", {{"error", e.what()}});
    return kExitBadConfig;
  }
  switch (loaded.action) {
    case logship::config::Action::kHelp:
      std::cout << logship::config::help_text();
      return 0;
    case logship::config::Action::kVersion:
      std::cout << "logship " << LOGSHIP_VERSION << "\n";
      return 0;
    case logship::config::Action::kCheckConfig:
      std::cout << logship::config::render_effective(loaded.config);
      return 0;
    case logship::config::Action::kRun:
      break;
  }
  logship::log::set_level(to_level(loaded.config.log_level));
  return run(loaded.config);
}
