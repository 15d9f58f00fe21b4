#include "agent/pipeline/source_state.h"

#include <algorithm>

#include "agent/k8s/pod_cache.h"

namespace logship::pipeline {

ProcessorChain::ProcessorChain(const ProcessorFactories& factories, const SourceInfo& source) {
  for (const auto& f : factories) {
    if (auto p = f->create(source)) processors_.push_back(std::move(p));
  }
}

void ProcessorChain::connect(RecordEmitter& last) {
  last_ = &last;
  links_.clear();
  for (size_t i = 1; i < processors_.size(); ++i) {
    auto link = std::make_unique<Link>();
    link->next = processors_[i].get();
    links_.push_back(std::move(link));
  }
  for (size_t i = 0; i < links_.size(); ++i) {
    links_[i]->after = i + 1 < links_.size() ? static_cast<RecordEmitter*>(links_[i + 1].get()) : last_;
  }
}

void ProcessorChain::process(const Record& record) {
  if (processors_.empty()) {
    last_->emit(record);
    return;
  }
  processors_[0]->process(record, links_.empty() ? *last_ : *links_[0]);
}

void ProcessorChain::flush(FlushReason reason) {
  // In order: what processor i flushes still passes the processors after it.
  for (size_t i = 0; i < processors_.size(); ++i) {
    processors_[i]->flush(reason, i < links_.size() ? *links_[i] : *last_);
  }
}

std::optional<uint64_t> ProcessorChain::held_offset() const {
  std::optional<uint64_t> held;
  for (const auto& p : processors_) {
    if (auto h = p->held_offset()) held = held ? std::min(*held, *h) : *h;
  }
  return held;
}

std::optional<std::chrono::steady_clock::time_point> ProcessorChain::deadline() const {
  std::optional<std::chrono::steady_clock::time_point> d;
  for (const auto& p : processors_) {
    if (auto x = p->deadline()) d = d ? std::min(*d, *x) : *x;
  }
  return d;
}

MetadataResolver::MetadataResolver(const k8s::PodCache* pods, std::function<bool()> synced,
                                   std::chrono::milliseconds wait)
    : pods_(pods), synced_(std::move(synced)), wait_(wait) {}

void MetadataResolver::open(SourceState& state, const std::string& path, bool may_wait) const {
  state.info.path = path;
  state.path_meta = enrich::parse_k8s_path(path);
  if (state.path_meta) {
    state.info.namespace_name = state.path_meta->namespace_name;
    state.info.pod = state.path_meta->pod;
    state.info.container = state.path_meta->container;
  }
  apply(state, may_wait);
}

bool MetadataResolver::refresh(SourceState& state) const {
  if (pods_ == nullptr || pods_->generation() == state.pod_generation) return false;
  const auto before = state.pod;
  apply(state, false);
  return state.pod != before;
}

void MetadataResolver::apply(SourceState& state, bool may_wait) const {
  if (!state.path_meta) return;
  std::shared_ptr<const k8s::PodMeta> pod;
  if (pods_ != nullptr) {
    state.pod_generation = pods_->generation();
    const bool wait = may_wait && wait_.count() > 0 && synced_ && synced_();
    pod = wait ? pods_->wait_for(state.path_meta->namespace_name, state.path_meta->pod,
                                 std::chrono::steady_clock::now() + wait_)
               : pods_->find(state.path_meta->namespace_name, state.path_meta->pod);
  }
  if (pod && pod == state.pod) return;
  state.pod = pod;
  state.info.annotations = pod ? pod->control : nullptr;
  if (!pod) {
    state.context.k8s_member = enrich::encode_k8s_member(*state.path_meta);
    state.context.release_member.clear();
    return;
  }
  const std::string& container = state.path_meta->container;
  enrich::PodDetails details;
  details.node = pod->node;
  details.pod_uid = pod->uid;
  if (auto it = pod->images.find(container); it != pod->images.end()) details.image = it->second;
  details.labels = pod->labels;
  details.annotations = pod->annotations;
  state.context.k8s_member = enrich::encode_k8s_member(*state.path_meta, &details);
  const std::string release = pod->release_for(container);
  state.context.release_member = release.empty() ? std::string() : enrich::encode_release_member(release);
}

}  // namespace logship::pipeline
