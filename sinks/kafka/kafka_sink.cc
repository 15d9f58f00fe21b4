// KafkaSink's public face, the Impl's Sink API and the producer thread's
// loop. The rest of the Impl is in the files kafka_sink_impl.h lists.
#include "sinks/kafka/kafka_sink.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "agent/core/log.h"
#include "sinks/kafka/kafka_sink_impl.h"

namespace logship::sinks::kafka {
namespace {

// Longest sleep of the producer thread: bounds how stale readiness can get.
constexpr int kMaxWaitMs = 1000;
// How long stop() waits for purged messages to come back before giving up
// on librdkafka (it should take milliseconds).
constexpr auto kPurgeWait = std::chrono::seconds(10);
// The default linger (500 ms, kafka_sink_setup.cc) pays at full speed, when
// the pipeline hands over a batch every few milliseconds. Once no batch has
// come for this long, nothing is gained by waiting: the last partial message
// sets are sent at once, so a oneshot run does not end with half a second
// of idling and a quiet follow-mode stream is not held back.
constexpr auto kIdleFlushAfter = std::chrono::milliseconds(20);
// How long one such flush may hold the thread (new batches wait that long).
constexpr int kIdleFlushSliceMs = 10;
// While idle with messages still in librdkafka, flush again this often: a
// set that could not leave during one slice (5 requests already in flight)
// must not fall back to the linger.
constexpr auto kIdleFlushEvery = std::chrono::milliseconds(100);

}  // namespace

KafkaSink::Impl::Impl(KafkaSinkOptions options)
    : opt_(std::move(options)),
      mem_(producer_memory(opt_.memory_limit)),
      router_(opt_.topic, opt_.topic_fallback),
      // Equal jitter: never close to zero, so a permanent failure (a
      // missing topic, a rejected record) cannot spin.
      backoff_(Backoff::Options{.initial = opt_.retry_initial, .max = opt_.retry_max,
                                .jitter = Backoff::Jitter::kEqual}) {}

KafkaSink::Impl::~Impl() {
  stop();
  close_producer();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

// ---- Sink API ---------------------------------------------------------------

Result<void> KafkaSink::Impl::start(DeliveryListener& listener) {
  listener_ = &listener;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "logship-kafka");  // in top, perf, gdb
    run();
  });
  return {};
}

void KafkaSink::Impl::send(BatchPtr batch) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(batch));
  }
  wake();
}

void KafkaSink::Impl::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
  close_producer();
}

std::optional<std::string> KafkaSink::Impl::unavailable_reason() const {
  std::lock_guard lock(state_mu_);
  if (brokers_down_) return "no Kafka broker reachable (" + brokers_down_detail_ + ")";
  if (!auth_error_.empty()) return "Kafka authentication failed: " + auth_error_;
  if (restarting_) return "Kafka producer restarting after a fatal error: " + fatal_reason_;
  if (!failing_.empty()) return "Kafka delivery failing: " + failing_;
  return std::nullopt;
}

void KafkaSink::Impl::raise_fatal_error_for_test() {
  {
    std::lock_guard lock(mu_);
    fatal_test_requested_ = true;
  }
  wake();
}

// ---- producer thread --------------------------------------------------------

void KafkaSink::Impl::run() {
  std::deque<BatchPtr> incoming;
  for (;;) {
    bool stopping = false;
    bool inject = false;
    {
      std::lock_guard lock(mu_);
      incoming.swap(inbox_);
      stopping = stopping_;
      inject = std::exchange(fatal_test_requested_, false);
    }
    for (BatchPtr& b : incoming) admit(std::move(b));
    incoming.clear();
    if (inject && rk_ != nullptr) {
      rd_kafka_test_fatal_error(rk_, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "raised by a test");
    }
    if (stopping) {
      shut_down();
      return;
    }
    const auto now = Clock::now();
    promote_due(now);
    if (!produce_q_.empty()) idle_flush_at_ = now + kIdleFlushAfter;
    if (fatal_) recover();
    const bool blocked = fatal_ || rk_ == nullptr || produce_some();
    // Delivery reports, errors, statistics. Reports free queue space, so
    // a blocked producer goes round again at once rather than sleeping:
    // the wake-up that announced them was consumed before they were served.
    const int served = rk_ != nullptr ? rd_kafka_poll(rk_, 0) : 0;
    publish_failing();
    const bool more = !produce_q_.empty() && !fatal_ && (!blocked || served > 0);
    if (!more && flush_when_idle(now)) continue;  // the flush did the waiting
    wait_for_work(more ? 0 : next_wait_ms());
  }
}

/// When idle (see kIdleFlushAfter) and until librdkafka holds nothing:
/// its flush makes the broker threads treat the linger as expired while it
/// runs, and serves delivery reports like rd_kafka_poll(). True when it ran.
bool KafkaSink::Impl::flush_when_idle(Clock::time_point now) {
  if (now < idle_flush_at_ || fatal_ || rk_ == nullptr || !produce_q_.empty()) return false;
  if (queue_msgs_.load(std::memory_order_relaxed) == 0) {
    idle_flush_at_ = Clock::time_point::max();  // until the next batch
    return false;
  }
  idle_flush_at_ = now + kIdleFlushEvery;
  // TIMED_OUT is the usual answer (acks=all takes longer than the slice);
  // what matters is that the lingering message sets left.
  (void)rd_kafka_flush(rk_, kIdleFlushSliceMs);
  return true;
}

void KafkaSink::Impl::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void KafkaSink::Impl::wait_for_work(int timeout_ms) {
  pollfd p{wake_fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) > 0) {
    uint64_t count;
    [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
  }
}

int KafkaSink::Impl::next_wait_ms() const {
  const auto now = Clock::now();
  int ms = kMaxWaitMs;
  const auto until = [&](Clock::time_point due) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(due - now);
    ms = std::min<int>(ms, static_cast<int>(std::max<int64_t>(left.count(), 0)));
  };
  if (fatal_) ms = 50;  // waiting for purged messages to come back
  if (!waiting_.empty()) until(waiting_.begin()->first);
  // Only while a flush could run (flush_when_idle): a due time left in the
  // past during a fatal error would otherwise make the loop spin.
  if (idle_flush_at_ != Clock::time_point::max() && !fatal_ && rk_ != nullptr) until(idle_flush_at_);
  return ms;
}

void KafkaSink::Impl::admit(BatchPtr batch) {
  const size_t n = batch->record_count();
  tracked_.push_back(Tracked{});
  Tracked& t = tracked_.back();
  t.self = std::prev(tracked_.end());
  t.batch = std::move(batch);
  pending_msgs_.fetch_add(n, std::memory_order_relaxed);
  if (n == 0) {
    finish(t);  // positions only (a closed file): nothing to produce
    return;
  }
  produce_q_.push_back(&t);
}

void KafkaSink::Impl::promote_due(Clock::time_point now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    produce_q_.push_back(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
  }
}

/// Readiness from the thread's view: failed messages waiting for another
/// attempt mean the destination is not taking records.
void KafkaSink::Impl::publish_failing() {
  size_t retrying = 0;
  for (const Tracked& t : tracked_) retrying += t.attempt > 1 ? 1 : 0;
  std::lock_guard lock(state_mu_);
  if (retrying == 0) {
    failing_.clear();
  } else {
    failing_ = std::to_string(retrying) + " batch(es) waiting to be produced again; last error: " + last_error_;
  }
}

/// stop(): whatever is still held goes back as kRetry, after librdkafka
/// has returned every message it holds (purged), so no batch is reported
/// while librdkafka may still read its memory.
void KafkaSink::Impl::shut_down() {
  if (rk_ != nullptr && queue_msgs_.load(std::memory_order_relaxed) > 0) {
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    const auto deadline = Clock::now() + kPurgeWait;
    while (queue_msgs_.load(std::memory_order_relaxed) > 0 && Clock::now() < deadline) {
      rd_kafka_poll(rk_, 100);
    }
  }
  produce_q_.clear();
  waiting_.clear();
  while (!tracked_.empty()) {
    Tracked& t = tracked_.front();
    if (t.in_queue > 0) {
      // librdkafka did not give these messages back in time; the batch
      // memory is leaked rather than freed under its feet.
      log::error(kLog, "messages not returned by librdkafka at stop", {{"messages", static_cast<uint64_t>(t.in_queue)}});
      (void)t.batch.release();
      tracked_.pop_front();
      continue;
    }
    report(t, DeliveryStatus::kRetry, "kafka sink stopped before delivery");
  }
}

// ---- KafkaSink ------------------------------------------------------------------

Result<std::unique_ptr<KafkaSink>> KafkaSink::create(KafkaSinkOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto r = impl->open(); !r) return std::unexpected(r.error());
  impl->warn_about_overrides();
  if (auto r = impl->probe(); !r) return std::unexpected(r.error());
  return std::unique_ptr<KafkaSink>(new KafkaSink(std::move(impl)));
}

KafkaSink::KafkaSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaSink::~KafkaSink() = default;

Result<void> KafkaSink::start(DeliveryListener& listener) { return impl_->start(listener); }
void KafkaSink::send(BatchPtr batch) { impl_->send(std::move(batch)); }
void KafkaSink::stop() { impl_->stop(); }
std::optional<std::string> KafkaSink::unavailable_reason() const { return impl_->unavailable_reason(); }

bool KafkaSink::redelivers_internally() const { return impl_->redelivers_internally(); }
size_t KafkaSink::reserved_memory() const { return impl_->memory().reserved; }
void KafkaSink::collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
  impl_->collect_metrics(emit);
}
void KafkaSink::raise_fatal_error_for_test() { impl_->raise_fatal_error_for_test(); }

}  // namespace logship::sinks::kafka
