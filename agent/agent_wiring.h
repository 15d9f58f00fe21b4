#pragma once
// main's wiring of the processor stage, the framer's options, the live tap
// and oneshot progress into pipeline::Options and /metrics. Kept out of
// main.cc so that file stays about process setup.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/admin/metrics.h"
#include "agent/admin/progress.h"
#include "agent/pipeline/pipeline.h"
#include "agent/processors/filters.h"
#include "agent/processors/multiline.h"
#include "agent/processors/processor_stats.h"
#include "agent/settings.h"
#include "parsers/framing/malformed.h"

namespace logship {

/// State the processor chains and framers share for the agent's life; must
/// outlive the pipeline.
struct Processing {
  framing::MalformedCounters malformed;
  processors::ProcessorStats stats;
  std::shared_ptr<processors::MultilineStats> multiline = std::make_shared<processors::MultilineStats>();
  processors::PathFilter path_filter;
};

/// Fills the framing options, the processor chain (multiline first, then
/// annotation exclude, level, throttle, redaction) and the path exclusion.
void wire_processing(const AgentSettings& settings, Processing& processing, pipeline::Options& options);

/// logship_malformed_lines_total, logship_records_dropped_total,
/// logship_redactions_total, the multiline and the other processor counters.
[[nodiscard]] admin::Metrics::CollectorId register_processing_metrics(admin::Metrics& metrics,
                                                                      const Processing& processing);

/// Oneshot progress: samples the pipeline's counters every ~200 ms on its
/// own thread into a ProgressReporter; finish() shows the last sample.
class ProgressThread {
 public:
  ProgressThread(admin::ProgressOutput output, const pipeline::Pipeline& pipeline);
  ~ProgressThread();
  ProgressThread(const ProgressThread&) = delete;
  ProgressThread& operator=(const ProgressThread&) = delete;
  void finish();

 private:
  admin::ProgressSample sample() const;
  const pipeline::Pipeline& pipe_;
  admin::ProgressReporter reporter_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace logship
