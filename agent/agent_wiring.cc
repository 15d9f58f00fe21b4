#include "agent/agent_wiring.h"

#include <unistd.h>

#include "agent/enrich/k8s_path.h"

namespace logship {

void wire_processing(const AgentSettings& settings, Processing& p, pipeline::Options& opt) {
  opt.timestamp_format = settings.framing.timestamp_format;
  opt.partial_timeout = settings.framing.partial_timeout;
  opt.malformed = &p.malformed;

  const processors::ProcessorsConfig& cfg = settings.processors;
  const bool k8s_api = settings.k8s.api;
  // Multiline first: it joins raw lines, which the filters and redaction
  // must then see as one record. With the API a pod's annotation may turn
  // it on even when LOGSHIP_MULTILINE is off (the factory returns null for
  // sources that end up off).
  if (cfg.multiline_langs != 0 || k8s_api) {
    processors::MultilineOptions m;
    m.langs = cfg.multiline_langs;
    m.timeout = cfg.multiline_timeout;
    m.max_record_bytes = settings.tail.max_record_bytes;
    opt.processors.push_back(std::make_shared<processors::MultilineFactory>(std::move(m), p.multiline));
  }
  for (auto& f : processors::build_processor_factories(cfg.processing, k8s_api, p.stats)) {
    opt.processors.push_back(std::move(f));
  }

  p.path_filter = processors::PathFilter(cfg.processing.path);
  if (p.path_filter.active()) {
    opt.excluded = [&p](const std::string& path) {
      // A file without a kubelet path has no namespace: never excluded.
      const auto meta = enrich::parse_k8s_path(path);
      return meta && p.path_filter.excluded(meta->namespace_name, meta->container);
    };
    opt.on_file_excluded = [&p] { p.stats.files_excluded.fetch_add(1, std::memory_order_relaxed); };
  }
}

admin::Metrics::CollectorId register_processing_metrics(admin::Metrics& m, const Processing& p) {
  using admin::Type;
  m.describe("logship_malformed_lines_total", "Odd input lines met while framing, by format and reason.",
             Type::kCounter);
  m.describe("logship_records_dropped_total", "Records dropped on purpose, by reason.", Type::kCounter);
  m.describe("logship_redactions_total", "Values redacted, by kind.", Type::kCounter);
  m.describe("logship_files_excluded_total", "Files never opened (LOGSHIP_INCLUDE/EXCLUDE_*).", Type::kCounter);
  m.describe("logship_processor_annotation_errors_total", "logship.io/* annotation values that did not parse.",
             Type::kCounter);
  m.describe("logship_throttle_summaries_total", "{\"logship\":\"throttled\"} records emitted.", Type::kCounter);
  m.describe("logship_multiline_groups_total", "Records joined from two lines or more.", Type::kCounter);
  m.describe("logship_multiline_lines_joined_total", "Lines appended to a multiline group after its first.",
             Type::kCounter);
  m.describe("logship_multiline_groups_ended_total", "Multiline groups shipped by timeout or size.",
             Type::kCounter);
  return m.add_collector([&p](admin::Metrics& mm) {
    mm.clear("logship_malformed_lines_total");
    p.malformed.for_each([&mm](std::string_view format, std::string_view reason, uint64_t v) {
      mm.set("logship_malformed_lines_total", "format", format, "reason", reason, static_cast<double>(v));
    });
    processors::for_each_counter(
        p.stats, [&mm](std::string_view name, std::string_view label, std::string_view value, uint64_t v) {
          if (label.empty()) {
            mm.set(name, static_cast<double>(v));
          } else {
            mm.set(name, label, value, static_cast<double>(v));
          }
        });
    const auto load = [](const std::atomic<uint64_t>& a) { return static_cast<double>(a.load(std::memory_order_relaxed)); };
    const processors::MultilineStats& ml = *p.multiline;
    mm.set("logship_multiline_groups_total", load(ml.groups_joined));
    mm.set("logship_multiline_lines_joined_total", load(ml.lines_joined));
    mm.set("logship_multiline_groups_ended_total", "by", "timeout", load(ml.ended_by_timeout));
    mm.set("logship_multiline_groups_ended_total", "by", "size", load(ml.ended_by_size));
  });
}

ProgressThread::ProgressThread(admin::ProgressOutput output, const pipeline::Pipeline& pipeline)
    : pipe_(pipeline), reporter_(output, admin::ProgressReporter::Options{}) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) {
      reporter_.update(sample());
    }
  });
}

ProgressThread::~ProgressThread() { finish(); }

admin::ProgressSample ProgressThread::sample() const {
  const Stats& s = pipe_.stats();
  admin::ProgressSample out;
  out.files_done = s.files_read.load(std::memory_order_relaxed);
  out.files_total = pipe_.total_files();
  out.bytes_read = s.bytes_read.load(std::memory_order_relaxed);
  out.bytes_total = pipe_.total_bytes();
  out.records = s.records_read.load(std::memory_order_relaxed);
  out.retries = s.sink_retries.load(std::memory_order_relaxed);
  out.elapsed = std::chrono::steady_clock::now() - started_;
  return out;
}

void ProgressThread::finish() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  reporter_.finish(sample());
}

}  // namespace logship
