#include "sinks/kafka/kafka_record.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace logship::sinks::kafka {
namespace {

bool legal_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

}  // namespace

std::string_view JsonText::decode(std::string& scratch) const {
  if (!escaped()) return raw;
  scratch.clear();
  decode_json_string(raw, scratch);
  return scratch;
}

RecordHead record_head(const Batch& batch, size_t index) {
  RecordHead head;
  const RecordFields& f = batch.fields(index);
  if (!f.structured()) return head;
  const std::string_view record = batch.record(index);
  const auto text = [](std::string_view base, FieldSpan span) {
    JsonText t;
    if (!span.present()) return t;
    t.raw = span.in(base);
    t.present = true;
    return t;
  };
  head.release = text(record, f.release);
  head.trace_id = text(record, f.trace_id);
  if (const K8sShape* shape = batch.k8s_shape(f)) {
    const std::string_view k8s = f.k8s.in(record);
    head.namespace_name = text(k8s, shape->namespace_name);
    head.pod = text(k8s, shape->pod);
    head.container = text(k8s, shape->container);
  }
  return head;
}

std::optional<std::string_view> message_key(KafkaKey mode, const RecordHead& head, std::string& scratch) {
  std::string piece;
  const auto add = [&](const JsonText& t) {
    if (t.escaped()) {
      piece.clear();
      decode_json_string(t.raw, piece);
      scratch += piece;
    } else {
      scratch += t.raw;
    }
  };
  switch (mode) {
    case KafkaKey::kNone: return std::nullopt;
    case KafkaKey::kTraceId:
      if (!head.trace_id.present) return std::nullopt;
      return head.trace_id.decode(scratch);
    case KafkaKey::kPod:
      if (!head.namespace_name.present || !head.pod.present) return std::nullopt;
      scratch.clear();
      add(head.namespace_name);
      scratch += '/';
      add(head.pod);
      return std::string_view(scratch);
    case KafkaKey::kContainer:
      if (!head.namespace_name.present || !head.pod.present || !head.container.present) return std::nullopt;
      scratch.clear();
      add(head.namespace_name);
      scratch += '/';
      add(head.pod);
      scratch += '/';
      add(head.container);
      return std::string_view(scratch);
  }
  return std::nullopt;
}

TopicRouter::TopicRouter(std::vector<TopicPart> parts, std::optional<std::string> fallback)
    : parts_(std::move(parts)), fallback_(std::move(fallback)) {
  std::string fixed;
  bool templated = false;
  for (const auto& p : parts_) {
    if (p.kind == TopicPart::Kind::kText) fixed += p.text;
    else templated = true;
  }
  if (!templated) fixed_ = std::move(fixed);
}

std::string_view TopicRouter::route(const RecordHead& head) {
  if (fixed_) return *fixed_;
  topic_.clear();
  for (const auto& p : parts_) {
    const JsonText* field = nullptr;
    switch (p.kind) {
      case TopicPart::Kind::kText: topic_ += p.text; continue;
      case TopicPart::Kind::kNamespace: field = &head.namespace_name; break;
      case TopicPart::Kind::kPod: field = &head.pod; break;
      case TopicPart::Kind::kContainer: field = &head.container; break;
    }
    if (!field->present || field->raw.empty()) return fallback_ ? std::string_view(*fallback_) : std::string_view{};
    topic_ += field->decode(scratch_);
  }
  // Kubernetes names are always legal topic characters, but paths outside
  // the kubelet's naming could yield anything: such a record is routed to
  // the fallback rather than to a name the broker would reject.
  const bool legal = !topic_.empty() && topic_.size() <= 249 && topic_ != "." && topic_ != ".." &&
                     std::all_of(topic_.begin(), topic_.end(), legal_topic_char);
  if (!legal) return fallback_ ? std::string_view(*fallback_) : std::string_view{};
  return topic_;
}

}  // namespace logship::sinks::kafka
