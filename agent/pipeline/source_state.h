#pragma once
// What the pipeline keeps per open source: the SourceInfo processors see,
// the encoder's per-file context (k8s member, release), the source's
// processor chain, and the last position the source reported (held back
// while a processor holds records).
//
// Threading: the worker thread only.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "agent/core/processor.h"
#include "agent/enrich/k8s_path.h"
#include "agent/enrich/record_encoder.h"

namespace logship::k8s {
class PodCache;
struct PodMeta;
}  // namespace logship::k8s

namespace logship::pipeline {

/// Runs records through a source's processors, in order, into a final
/// emitter (the encoder).
class ProcessorChain {
 public:
  ProcessorChain(const ProcessorFactories& factories, const SourceInfo& source);
  [[nodiscard]] bool empty() const { return processors_.empty(); }
  /// Wires the chain's end to `last`. Call once before use.
  void connect(RecordEmitter& last);
  void process(const Record& record);
  void flush(FlushReason reason);
  /// The earliest held offset, or nullopt.
  [[nodiscard]] std::optional<uint64_t> held_offset() const;
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> deadline() const;

 private:
  /// Forwards what processor i emits to processor i+1 (or the end).
  struct Link final : RecordEmitter {
    Processor* next = nullptr;
    RecordEmitter* after = nullptr;
    void emit(const Record& record) override { next->process(record, *after); }
  };
  std::vector<ProcessorPtr> processors_;
  std::vector<std::unique_ptr<Link>> links_;  // links_[i] feeds processors_[i + 1]
  RecordEmitter* last_ = nullptr;
};

struct SourceState {
  SourceInfo info;
  enrich::SourceContext context;
  std::optional<enrich::K8sMeta> path_meta;
  std::shared_ptr<const k8s::PodMeta> pod;  // from the API, when known
  uint64_t pod_generation = 0;
  std::unique_ptr<ProcessorChain> chain;    // null: no processor for this source
  std::optional<FilePosition> last_position;  // as the source reported it
};

/// Sets a source's k8s member, release and annotations from its path and,
/// with the Kubernetes API on, its pod's metadata.
class MetadataResolver {
 public:
  MetadataResolver(const k8s::PodCache* pods, std::function<bool()> synced, std::chrono::milliseconds wait);
  /// Fills `state` for a newly opened source at `path`.
  void open(SourceState& state, const std::string& path, bool may_wait) const;
  /// Re-applies the pod's metadata if the cache changed since. True if it did.
  bool refresh(SourceState& state) const;

 private:
  void apply(SourceState& state, bool may_wait) const;

  const k8s::PodCache* pods_;
  std::function<bool()> synced_;
  std::chrono::milliseconds wait_;
};

}  // namespace logship::pipeline
