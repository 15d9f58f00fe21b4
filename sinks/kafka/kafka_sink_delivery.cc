// Producing records and hearing about them: messages go to librdkafka in
// batch order until its queue is full, delivery reports settle each batch,
// and failed messages are produced again (follow mode) or the batch goes
// back to the pipeline (oneshot).
#include "agent/core/log.h"
#include "sinks/kafka/kafka_sink_impl.h"

namespace logship::sinks::kafka {

/// Produces queued records in batch order until librdkafka's queue is
/// full. Returns true if it stopped at a full queue (or a fatal error).
bool KafkaSink::Impl::produce_some() {
  // One wall-clock read per round for the messages' CreateTime, instead of
  // librdkafka's gettimeofday per message (visible in profiles): a round
  // takes milliseconds at most, less than Kafka's timestamp resolution
  // matters for logs, whose own time is in the record.
  now_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  while (!produce_q_.empty()) {
    Tracked* t = produce_q_.front();
    while (t->has_more()) {
      const bool first_pass = t->next < t->batch->record_count();
      // A record produced again is a view into the batch: find its index
      // (and so its structure) from where it starts.
      const size_t index =
          first_pass ? t->next
                     : t->batch->record_at(static_cast<size_t>(t->redo[t->redo_next].data() - t->batch->data().data()));
      const Produced r = produce_one(*t, index);
      if (r == Produced::kQueueFull) return true;
      if (first_pass) ++t->next;
      else ++t->redo_next;
      // In librdkafka's queue now, or (failed at once) counted again by
      // failed_message(): either way it left the to-produce list.
      pending_msgs_.fetch_sub(1, std::memory_order_relaxed);
      if (fatal_) return true;
    }
    produce_q_.pop_front();
    finish(*t);
  }
  return false;
}

KafkaSink::Impl::Produced KafkaSink::Impl::produce_one(Tracked& t, size_t index) {
  const std::string_view record = t.batch->record(index);
  const RecordHead head = record_head(*t.batch, index);
  const std::string_view topic = router_.route(head);
  if (topic.empty()) {
    failed_message(t, record, "no topic for this record (its metadata does not fill LOGSHIP_KAFKA_TOPIC)",
                   "_NO_TOPIC");
    return Produced::kFailed;
  }
  rd_kafka_vu_t vu[9];
  size_t n = 0;
  vu[n].vtype = RD_KAFKA_VTYPE_RKT;
  vu[n++].u.rkt = topic_handle(topic);
  vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vu[n].u.mem.ptr = const_cast<char*>(record.data());
  vu[n++].u.mem.size = record.size();
  // No RD_KAFKA_MSG_F_COPY: the sink owns the batch until every message
  // of it is reported, so librdkafka reads the value in place.
  vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vu[n++].u.i = 0;
  vu[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
  vu[n++].u.i64 = now_ms_;
  if (auto key = message_key(opt_.key, head, key_scratch_)) {
    vu[n].vtype = RD_KAFKA_VTYPE_KEY;
    vu[n].u.mem.ptr = const_cast<char*>(key->data());
    vu[n++].u.mem.size = key->size();
  }
  // Headers go in as a list the sink builds: librdkafka 2.0.2's produceva
  // frees headers it built itself twice when the partitioner refuses a
  // message (librdkafka issue #4627); with an application list, ownership
  // is plain: librdkafka's on success, ours on failure.
  rd_kafka_headers_t* headers = nullptr;
  if (head.release.present || head.trace_id.present) {
    headers = rd_kafka_headers_new(2);
    if (head.release.present) {
      const std::string_view v = head.release.decode(release_scratch_);
      rd_kafka_header_add(headers, "release", 7, v.data(), static_cast<ssize_t>(v.size()));
    }
    if (head.trace_id.present) {
      const std::string_view v = head.trace_id.decode(trace_scratch_);
      rd_kafka_header_add(headers, "trace_id", 8, v.data(), static_cast<ssize_t>(v.size()));
    }
    vu[n].vtype = RD_KAFKA_VTYPE_HEADERS;
    vu[n++].u.headers = headers;
  }
  vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vu[n++].u.ptr = &t;
  rd_kafka_error_t* error = rd_kafka_produceva(rk_, vu, n);
  if (error == nullptr) {
    ++t.in_queue;
    queue_msgs_.fetch_add(1, std::memory_order_relaxed);
    queue_bytes_.fetch_add(record.size(), std::memory_order_relaxed);
    return Produced::kOk;
  }
  if (headers != nullptr) rd_kafka_headers_destroy(headers);
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
  const std::string text = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    // Not a failure: the record stays where it is (an index into its
    // batch) and the producer thread tries again once delivery reports
    // have freed space (run()).
    queue_full_.fetch_add(1, std::memory_order_relaxed);
    return Produced::kQueueFull;
  }
  failed_message(t, record, text, rd_kafka_err2name(code));
  if (code == RD_KAFKA_RESP_ERR__FATAL) note_fatal();
  return Produced::kFailed;
}

rd_kafka_topic_t* KafkaSink::Impl::topic_handle(std::string_view topic) {
  if (fixed_rkt_ != nullptr && router_.fixed()) return fixed_rkt_;
  if (auto it = topics_.find(topic); it != topics_.end()) return it->second;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, std::string(topic).c_str(), nullptr);
  topics_.emplace(std::string(topic), rkt);
  if (router_.fixed() && topic == *router_.fixed()) fixed_rkt_ = rkt;
  return rkt;
}

void KafkaSink::Impl::failed_message(Tracked& t, std::string_view record, const std::string& error,
                                     std::string_view reason) {
  t.failed.push_back(record);
  pending_msgs_.fetch_add(1, std::memory_order_relaxed);
  if (t.error.empty()) t.error = error;
  std::lock_guard lock(state_mu_);
  ++delivery_errors_[std::string(reason)];
  last_error_ = error;
}

void KafkaSink::Impl::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<Impl*>(opaque)->delivered(*m);
}

void KafkaSink::Impl::delivered(const rd_kafka_message_t& m) {
  Tracked& t = *static_cast<Tracked*>(m._private);
  --t.in_queue;
  queue_msgs_.fetch_sub(1, std::memory_order_relaxed);
  queue_bytes_.fetch_sub(m.len, std::memory_order_relaxed);
  if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    produced_msgs_.fetch_add(1, std::memory_order_relaxed);
    produced_bytes_.fetch_add(m.len, std::memory_order_relaxed);
    if (!reachable_) mark_reachable();
  } else {
    // The payload pointer is the record in the batch (zero copy).
    const std::string_view record(static_cast<const char*>(m.payload), m.len);
    std::string text = rd_kafka_err2str(m.err);
    if (m.rkt != nullptr) text = "topic " + std::string(rd_kafka_topic_name(m.rkt)) + ": " + text;
    failed_message(t, record, text, rd_kafka_err2name(m.err));
    if (m.err == RD_KAFKA_RESP_ERR__FATAL) note_fatal();
  }
  finish(t);
}

/// Reports `t` once nothing of it is left to produce or to hear about:
/// kOk when every message was delivered; otherwise the failed messages
/// are produced again after a backoff (follow mode) or the batch goes
/// back to the pipeline as kRetry (oneshot).
void KafkaSink::Impl::finish(Tracked& t) {
  if (t.has_more() || t.in_queue > 0) return;
  if (t.failed.empty()) {
    report(t, DeliveryStatus::kOk, {});
    return;
  }
  if (!opt_.redeliver_in_sink) {
    const std::string error = "kafka: " + std::to_string(t.failed.size()) + " of " +
                              std::to_string(t.batch->record_count()) + " messages not delivered: " + t.error;
    report(t, DeliveryStatus::kRetry, error);
    return;
  }
  const auto delay = backoff(t.attempt);
  const auto now = Clock::now();
  if (failure_log_.allow(now)) {
    log::warn(kLog, "delivery failed; producing the failed messages again",
              {{"error", t.error},
               {"messages", static_cast<uint64_t>(t.failed.size())},
               {"attempt", t.attempt},
               {"retry_in_ms", static_cast<int64_t>(delay.count())},
               {"suppressed", failure_log_.take_suppressed()}});
  }
  t.redo = std::move(t.failed);
  t.failed.clear();
  t.redo_next = 0;
  ++t.attempt;
  t.error.clear();
  waiting_.emplace(now + delay, &t);
}

void KafkaSink::Impl::report(Tracked& t, DeliveryStatus status, std::string_view error) {
  pending_msgs_.fetch_sub(t.remaining(), std::memory_order_relaxed);
  BatchPtr batch = std::move(t.batch);
  tracked_.erase(t.self);
  listener_->on_delivered(std::move(batch), status, error);
}

}  // namespace logship::sinks::kafka
