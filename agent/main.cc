// logship: ships container log files. Config comes from the environment
// (and the same --flags); own logs go to stderr as JSON lines; stdout is left
// to the stdout sink.

#include <pthread.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string_view>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <thread>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "agent/checkpoint/checkpoint_store.h"
#include "agent/core/log.h"
#include "agent/k8s/pod_cache.h"
#include "agent/k8s/pod_watcher.h"
#include "agent/admin/admin_server.h"
#include "agent/admin/metrics.h"
#include "agent/admin/tap.h"
#include "agent/admin/tap_client.h"
#include "agent/admin/tap_server.h"
#include "agent/agent_wiring.h"
#include "agent/core/cpu_count.h"
#include "agent/pipeline/pipeline.h"
#include "agent/settings.h"

extern char** environ;

namespace {

constexpr int kExitDeliveryFailed = 1;
constexpr int kExitBadConfig = 2;

logship::framing::Format to_format(logship::tail::InputFormat f) {
  using logship::tail::InputFormat;
  switch (f) {
    case InputFormat::kCri: return logship::framing::Format::kCri;
    case InputFormat::kDocker: return logship::framing::Format::kDocker;
    case InputFormat::kRaw: return logship::framing::Format::kRaw;
    case InputFormat::kAuto: break;
  }
  return logship::framing::Format::kAuto;
}

logship::log::Level to_level(logship::pipeline::LogLevel l) {
  using logship::pipeline::LogLevel;
  switch (l) {
    case LogLevel::kDebug: return logship::log::Level::kDebug;
    case LogLevel::kWarn: return logship::log::Level::kWarn;
    case LogLevel::kError: return logship::log::Level::kError;
    case LogLevel::kInfo: break;
  }
  return logship::log::Level::kInfo;
}

/// Blocks SIGTERM/SIGINT in every thread (call before starting any) so one
/// thread can take them with sigwait and ask the pipeline to drain.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

/// Declares logship's metrics and a collector that reads them fresh from the
/// pipeline at each scrape.
logship::admin::Metrics::CollectorId register_metrics(logship::admin::Metrics& m, logship::pipeline::Pipeline& pipe, size_t memory_limit) {
  using logship::admin::Type;
  struct Counter {
    const char* name;
    const char* help;
    const std::atomic<uint64_t> logship::pipeline::Stats::*field;
    Type type;
  };
  using S = logship::pipeline::Stats;
  static const Counter kCounters[] = {
      {"logship_read_bytes_total", "Bytes read from all input files.", &S::bytes_read, Type::kCounter},
      {"logship_records_read_total", "Records framed from all input files.", &S::records_read, Type::kCounter},
      {"logship_records_sent_total", "Records acknowledged by the sink.", &S::records_sent, Type::kCounter},
      {"logship_batches_sent_total", "Batches handed to the sink.", &S::batches_sent, Type::kCounter},
      {"logship_bytes_sent_total", "Encoded bytes acknowledged by the sink.", &S::bytes_sent, Type::kCounter},
      {"logship_sink_errors_total", "Failed batch deliveries.", &S::sink_errors, Type::kCounter},
      {"logship_sink_retries_total", "Batch deliveries retried.", &S::sink_retries, Type::kCounter},
      {"logship_records_truncated_total", "Records cut to LOGSHIP_MAX_RECORD_BYTES.", &S::records_truncated,
       Type::kCounter},
      {"logship_rotations_total", "Files renamed or deleted while being read.", &S::rotations, Type::kCounter},
      {"logship_truncations_total", "Files truncated below the read offset (copytruncate).", &S::truncations,
       Type::kCounter},
      {"logship_file_errors_total", "Files that could not be opened or read.", &S::file_errors, Type::kCounter},
      {"logship_checkpoint_errors_total", "Failed checkpoint writes.", &S::checkpoint_errors, Type::kCounter},
      {"logship_checkpoints_pruned_total", "Checkpoints removed for deleted, fully read files.",
       &S::checkpoints_pruned, Type::kCounter},
      {"logship_files_lost_total", "Checkpointed files gone before they were read to their end.", &S::files_lost,
       Type::kCounter},
      {"logship_files_open", "Input files open now.", &S::files_open, Type::kGauge},
      {"logship_in_flight_bytes", "Bytes read but not yet acknowledged by the sink.", &S::in_flight_bytes,
       Type::kGauge},
  };
  for (const Counter& c : kCounters) m.describe(c.name, c.help, c.type);
  m.describe("logship_memory_limit_bytes", "LOGSHIP_MEMORY_LIMIT.", Type::kGauge);
  m.describe("logship_last_commit_timestamp_seconds", "Unix time of the last checkpoint commit (0: none yet).",
             Type::kGauge);
  m.describe("logship_file_read_bytes_total", "Bytes read per open input file.", Type::kCounter);
  m.describe("logship_file_read_records_total", "Records framed per open input file.", Type::kCounter);
  m.describe("logship_file_lag_bytes", "Bytes behind the end of each open input file.", Type::kGauge);
  return m.add_collector([&pipe, memory_limit](logship::admin::Metrics& mm) {
    const auto& stats = pipe.stats();
    for (const Counter& c : kCounters) {
      mm.set(c.name, static_cast<double>((stats.*(c.field)).load(std::memory_order_relaxed)));
    }
    mm.set("logship_memory_limit_bytes", static_cast<double>(memory_limit));
    mm.set("logship_last_commit_timestamp_seconds",
           static_cast<double>(stats.last_commit_unix_ms.load(std::memory_order_relaxed)) / 1000.0);
    // The sink's own metrics (Kafka, HTTP, ...): described on first sight.
    pipe.sink().collect_metrics([&mm](const logship::Sink::MetricSample& s) {
      mm.describe(std::string(s.name), std::string(s.help), s.counter ? Type::kCounter : Type::kGauge);
      if (s.label_name.empty()) {
        mm.set(s.name, s.value);
      } else {
        mm.set(s.name, s.label_name, s.label_value, s.value);
      }
    });
    // Per-file series exist only for open files, so labels stay bounded by
    // LOGSHIP_MAX_OPEN_FILES.
    mm.clear("logship_file_read_bytes_total");
    mm.clear("logship_file_read_records_total");
    mm.clear("logship_file_lag_bytes");
    pipe.for_each_file([&mm](const logship::pipeline::FileMetrics& f) {
      // fstat at scrape time: the worker may be paused mid-file by backpressure.
      struct stat st;
      const uint64_t size = ::fstat(f.fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      const uint64_t offset = f.read_offset.load(std::memory_order_relaxed);
      mm.set("logship_file_read_bytes_total", "path", f.path,
             static_cast<double>(f.bytes_read.load(std::memory_order_relaxed)));
      mm.set("logship_file_read_records_total", "path", f.path,
             static_cast<double>(f.records_read.load(std::memory_order_relaxed)));
      mm.set("logship_file_lag_bytes", "path", f.path, static_cast<double>(size > offset ? size - offset : 0));
    });
  });
}

int run(const logship::AgentSettings& settings, bool reset_checkpoints) {
  using namespace logship;
  // Everything here was validated by load_settings() before this point.
  const tail::TailSettings& tail = settings.tail;
  const pipeline::PipelineSettings& cfg = settings.pipeline;
  const k8s::K8sSettings& kube = settings.k8s;
  const bool stdin_mode = tail.reads_stdin();
  const sigset_t stop_signals = block_stop_signals();
  auto store = checkpoint::CheckpointStore::open(cfg.state_dir, reset_checkpoints);
  if (!store) {
    log::error("main", "cannot use the state directory",
               {{"key", "LOGSHIP_STATE_DIR"}, {"path", cfg.state_dir}, {"error", store.error().message}});
    return kExitDeliveryFailed;
  }
  if (!(*store)->reset_to().empty()) {
    log::warn("main", "checkpoints reset: the old file was moved aside; every file is read from the start",
              {{"key", "LOGSHIP_STATE_DIR"}, {"moved_to", (*store)->reset_to()}});
    std::fprintf(stderr, "logship: checkpoints reset: moved %s to %s\n", (*store)->file_path().c_str(),
                 (*store)->reset_to().c_str());
  }
  auto sink = settings.sinks.create(settings.sink_context());
  if (!sink) {
    log::error("main", "cannot create the sink", {{"error", sink.error().message}});
    return kExitBadConfig;
  }
  admin::Metrics metrics;
  admin::AdminServer server(metrics);

  // Pod metadata from the Kubernetes API (in-cluster config). The cache
  // outlives the watcher, which outlives the pipeline that reads it.
  k8s::PodCache pods;
  std::unique_ptr<k8s::PodWatcher> watcher;
  if (kube.api) {
    k8s::WatcherOptions w;
    w.host = kube.api_host;
    w.port = kube.api_port;
    w.token_file = kube.token_file;
    w.ca_file = kube.ca_file;
    w.node_name = kube.node_name;
    w.label_filter = kube.labels;
    w.annotation_filter = kube.annotations;
    w.release_from = kube.release_from;
    watcher = std::make_unique<k8s::PodWatcher>(std::move(w), pods);
    if (auto r = watcher->start(); !r) {
      log::error("config", "invalid configuration", {{"key", "LOGSHIP_K8S_API"}, {"error", r.error().message}});
      return kExitBadConfig;
    }
  }

  pipeline::Options opt;
  opt.input_paths = tail.input_paths;
  opt.format = to_format(tail.input_format);
  opt.release = cfg.release;
  opt.max_record_bytes = tail.max_record_bytes;
  opt.memory_limit = cfg.memory_limit;
  opt.batch_max_bytes = cfg.batch_max_bytes;
  opt.batch_timeout = cfg.batch_timeout;
  opt.workers = resolve_workers(cfg.workers);
  opt.rescan_interval = tail.rescan_interval;
  opt.read_from_tail = tail.read_from == tail::ReadFrom::kTail;
  opt.max_open_files = tail.max_open_files;
  opt.rotate_wait = tail.rotate_wait;
  opt.shutdown_timeout = cfg.shutdown_timeout;
  // Follow mode waits out a slow or absent sink (the files are the buffer);
  // oneshot gives up after a few attempts and exits non-zero.
  if (!cfg.oneshot) opt.max_attempts = 0;
  if (watcher) {
    opt.pods = &pods;
    opt.pods_synced = [w = watcher.get()] { return w->synced(); };
    opt.pod_wait = kube.wait;
  }
  Processing processing;
  wire_processing(settings, processing, opt);
  // The live tap: records leave only through its loopback listener.
  admin::Tap tap;
  admin::TapServer tap_server(tap);
  if (settings.admin.tap) {
    if (auto r = tap_server.start(settings.admin.tap_address.host, settings.admin.tap_address.port); !r) {
      log::error("main", "cannot listen", {{"key", "LOGSHIP_TAP_LISTEN"}, {"error", r.error().message}});
      return kExitDeliveryFailed;
    }
    log::info("main", "tap listening",
              {{"address", settings.admin.tap_address.host}, {"port", static_cast<unsigned>(tap_server.port())}});
    opt.tap_active = [&tap] { return tap.active(); };
    opt.tap_offer = [&tap](const SourceInfo& source, std::string_view record) {
      tap.offer(source.namespace_name, source.pod, source.container, record);
    };
  }
  opt.heartbeat = [&server] { server.heartbeat(); };
  opt.on_ready = [&server](bool ready, const std::string& reason) { server.set_ready(ready, reason); };

  const auto started = std::chrono::steady_clock::now();
  pipeline::Pipeline pipe(std::move(opt), std::move(*sink), std::move(*store));
  const auto collector = register_metrics(metrics, pipe, cfg.memory_limit);
  const auto processing_collector = register_processing_metrics(metrics, processing);
  std::optional<admin::Metrics::CollectorId> tap_collector;
  if (settings.admin.tap) tap_collector = tap.register_metrics(metrics);
  std::optional<admin::Metrics::CollectorId> k8s_collector;
  if (watcher) {
    using admin::Type;
    metrics.describe("logship_k8s_synced", "1 once the node's pods were listed from the Kubernetes API.", Type::kGauge);
    metrics.describe("logship_k8s_pods", "Pods in the metadata cache (live).", Type::kGauge);
    metrics.describe("logship_k8s_lists_total", "Complete pod lists from the API.", Type::kCounter);
    metrics.describe("logship_k8s_watch_events_total", "Watch events applied.", Type::kCounter);
    metrics.describe("logship_k8s_relists_gone_total", "Relists forced by 410 Gone.", Type::kCounter);
    metrics.describe("logship_k8s_errors_total", "Failed API requests (each followed by a backoff).", Type::kCounter);
    k8s_collector = metrics.add_collector([w = watcher.get(), &pods](admin::Metrics& m) {
      const k8s::WatcherStats st = w->stats();
      m.set("logship_k8s_synced", w->synced() ? 1 : 0);
      m.set("logship_k8s_pods", static_cast<double>(pods.size()));
      m.set("logship_k8s_lists_total", static_cast<double>(st.lists));
      m.set("logship_k8s_watch_events_total", static_cast<double>(st.events));
      m.set("logship_k8s_relists_gone_total", static_cast<double>(st.relists_gone));
      m.set("logship_k8s_errors_total", static_cast<double>(st.errors));
    });
  }
  if (cfg.listen.enabled && !cfg.oneshot) {
    if (auto r = server.start(cfg.listen.host, cfg.listen.port); !r) {
      log::error("main", "cannot listen", {{"key", "LOGSHIP_LISTEN"}, {"error", r.error().message}});
      return kExitDeliveryFailed;
    }
    log::info("main", "listening", {{"address", cfg.listen.host}, {"port", static_cast<unsigned>(server.port())}});
  }

  // SIGTERM/SIGINT: stop reading, drain, commit. The thread ends at the
  // first signal (a second one is left blocked: the drain has a deadline).
  std::thread signals([&pipe, stop_signals] {
    int sig = 0;
    if (sigwait(&stop_signals, &sig) == 0) {
      log::info("main", "signal received; draining", {{"signal", sig}});
      pipe.request_stop();
    }
  });
  signals.detach();

  std::optional<ProgressThread> progress;
  if (cfg.oneshot && !stdin_mode) {
    const auto output = admin::resolve_progress_output(settings.admin.progress, ::isatty(STDERR_FILENO) == 1);
    if (output != admin::ProgressOutput::kNone) progress.emplace(output, pipe);
  }
  const auto result = stdin_mode ? pipe.run_stdin() : cfg.oneshot ? pipe.run_oneshot() : pipe.run_follow();
  if (progress) progress->finish();
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  const auto& s = pipe.stats();
  log::info("main", result ? "done" : "finished with errors",
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
    // The sink may hold a thread blocked on a stalled destination; exit
    // without joining it. Checkpoints were already flushed.
    std::_Exit(kExitDeliveryFailed);
  }
  server.stop();
  tap_server.stop();
  metrics.remove_collector(collector);
  metrics.remove_collector(processing_collector);
  if (tap_collector) metrics.remove_collector(*tap_collector);
  if (k8s_collector) metrics.remove_collector(*k8s_collector);
  if (watcher) watcher->stop();
  pods.close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout must surface as EPIPE on write, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  // --reset-checkpoints is a one-time action, not configuration: taken out
  // before the config loader sees the flags (README: "Resetting checkpoints").
  // `logship tap ...`: a client of a running agent's live tap, not an agent.
  if (!args.empty() && args[0] == "tap") {
    const std::vector<std::string_view> tap_args(args.begin() + 1, args.end());
    const char* listen = std::getenv("LOGSHIP_TAP_LISTEN");
    return logship::admin::tap_main(tap_args, listen != nullptr ? listen : logship::admin::kDefaultTapListen,
                                    STDOUT_FILENO, STDERR_FILENO);
  }
  const bool reset_checkpoints = std::erase(args, std::string("--reset-checkpoints")) > 0;
  logship::LoadedSettings loaded;
  try {
    loaded = logship::load_settings(args, logship::config::environment_map(environ));
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
      std::cout << logship::help_text();
      return 0;
    case logship::config::Action::kVersion:
      std::cout << "logship " << LOGSHIP_VERSION << "\n";
      return 0;
    case logship::config::Action::kCheckConfig:
      std::cout << logship::render_settings(loaded.settings);
      return 0;
    case logship::config::Action::kRun:
      break;
  }
  logship::log::set_level(to_level(loaded.settings.pipeline.log_level));
  return run(loaded.settings, reset_checkpoints);
}
