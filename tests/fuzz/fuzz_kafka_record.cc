// The Kafka record builder (sinks/kafka/kafka_record.h): from a Batch of
// fuzzed records written by the real record encoder, each record's head
// (release, trace_id, k8s namespace/pod/container from the stored
// structure), its message key in every LOGSHIP_KAFKA_KEY mode, its headers
// (release, trace_id: the decoded texts kafka_sink.cc attaches) and its
// topic. Properties: no crash or UB; keys and header values are valid UTF-8
// and equal to the metadata the record was encoded from (when that was
// valid UTF-8: invalid bytes are replaced by the encoder); a trace-id key is
// 32 lowercase hex digits; every routed topic is the fixed topic, the
// fallback or a valid Kafka topic name, never empty when a fallback is set.
//
// Input: see fuzz_records.h. Header flags: bit 0 sets a fallback topic; the
// header text is LOGSHIP_KAFKA_TOPIC (placeholders allowed) when the config
// would accept it, else "logs-{namespace}-{container}".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "sinks/kafka/kafka_record.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_records.h"

namespace {

namespace kafka = logship::sinks::kafka;
using logship::fuzz::valid_utf8;

bool lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

/// Whether a decoded head text says what was encoded (exact when the source
/// bytes were valid UTF-8; otherwise only that it is valid UTF-8).
void check_text(std::string_view decoded, std::string_view source, std::string_view record) {
  LOGSHIP_FUZZ_CHECK(valid_utf8(decoded), record);
  if (valid_utf8(source)) LOGSHIP_FUZZ_CHECK(decoded == source, record);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logship::fuzz::FuzzBatch fb;
  logship::fuzz::build_batch(data, size, fb);
  const logship::Batch& batch = fb.batch;

  auto parts = kafka::parse_topic_template(fb.header_text, /*allow_placeholders=*/true);
  if (!parts || fb.header_text.empty()) {
    parts = kafka::parse_topic_template("logs-{namespace}-{container}", true);
  }
  LOGSHIP_FUZZ_CHECK(parts.has_value(), "default topic template refused");
  const std::optional<std::string> fallback =
      (fb.header_flags & 1) ? std::optional<std::string>("logs-fallback") : std::nullopt;
  kafka::TopicRouter router(*parts, fallback);
  if (router.fixed()) LOGSHIP_FUZZ_CHECK(kafka::valid_topic_name(*router.fixed()), fb.header_text);

  std::string scratch, header_scratch;
  for (size_t i = 0; i < batch.record_count(); ++i) {
    const std::string_view record = batch.record(i);
    const logship::fuzz::FuzzRecord& src = fb.records[i];
    const kafka::RecordHead head = kafka::record_head(batch, i);

    // Headers (kafka_sink.cc): release and trace_id, decoded.
    // LOGSHIP_RELEASE (when non-empty) overrides the pod's release.
    const bool global = fb.global_release && !fb.global_release->empty();
    const std::string_view release = global ? std::string_view(*fb.global_release) : src.release;
    LOGSHIP_FUZZ_CHECK(head.release.present == (global || src.has_release), record);
    if (head.release.present) check_text(head.release.decode(header_scratch), release, record);
    if (head.trace_id.present) {
      const std::string_view t = head.trace_id.decode(header_scratch);
      LOGSHIP_FUZZ_CHECK(t.size() == 32 && lower_hex(t), record);
    }

    // k8s metadata: present exactly when encoded (non-empty fields only).
    LOGSHIP_FUZZ_CHECK(head.namespace_name.present == (src.has_k8s && !src.meta.namespace_name.empty()), record);
    LOGSHIP_FUZZ_CHECK(head.pod.present == (src.has_k8s && !src.meta.pod.empty()), record);
    LOGSHIP_FUZZ_CHECK(head.container.present == (src.has_k8s && !src.meta.container.empty()), record);
    if (head.namespace_name.present) check_text(head.namespace_name.decode(header_scratch), src.meta.namespace_name, record);
    if (head.pod.present) check_text(head.pod.decode(header_scratch), src.meta.pod, record);
    if (head.container.present) check_text(head.container.decode(header_scratch), src.meta.container, record);

    // Keys, every mode.
    LOGSHIP_FUZZ_CHECK(!kafka::message_key(kafka::KafkaKey::kNone, head, scratch), record);
    if (auto key = kafka::message_key(kafka::KafkaKey::kTraceId, head, scratch)) {
      LOGSHIP_FUZZ_CHECK(key->size() == 32 && lower_hex(*key), record);
    } else {
      LOGSHIP_FUZZ_CHECK(!head.trace_id.present, record);
    }
    const bool utf8_meta = valid_utf8(src.meta.namespace_name) && valid_utf8(src.meta.pod) &&
                           valid_utf8(src.meta.container);
    if (auto key = kafka::message_key(kafka::KafkaKey::kPod, head, scratch)) {
      LOGSHIP_FUZZ_CHECK(valid_utf8(*key), record);
      if (utf8_meta) LOGSHIP_FUZZ_CHECK(*key == src.meta.namespace_name + "/" + src.meta.pod, record);
    } else {
      LOGSHIP_FUZZ_CHECK(!head.namespace_name.present || !head.pod.present, record);
    }
    if (auto key = kafka::message_key(kafka::KafkaKey::kContainer, head, scratch)) {
      LOGSHIP_FUZZ_CHECK(valid_utf8(*key), record);
      if (utf8_meta) {
        LOGSHIP_FUZZ_CHECK(*key == src.meta.namespace_name + "/" + src.meta.pod + "/" + src.meta.container, record);
      }
    } else {
      LOGSHIP_FUZZ_CHECK(!head.namespace_name.present || !head.pod.present || !head.container.present, record);
    }

    // Topic.
    const std::string_view topic = router.route(head);
    if (router.fixed()) {
      LOGSHIP_FUZZ_CHECK(topic == *router.fixed(), record);
    } else if (fallback && topic == *fallback) {
      // routed to the fallback
    } else if (topic.empty()) {
      LOGSHIP_FUZZ_CHECK(!fallback, record);
    } else {
      LOGSHIP_FUZZ_CHECK(kafka::valid_topic_name(topic), std::string(topic) + "\n" + std::string(record));
    }
  }
  return 0;
}
