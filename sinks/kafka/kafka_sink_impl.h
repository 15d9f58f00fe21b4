#pragma once
// Private to the Kafka sink: KafkaSink::Impl, shared by the sink's .cc files
// and included by nothing else (it names librdkafka types; kafka_sink.h, the
// header callers use, does not).
//
// The Impl is one class because all of its state belongs to one producer
// thread (see kafka_sink.h); its member functions are defined by concern:
//   kafka_sink.cc          Sink API, the producer thread's loop, stop
//   kafka_sink_setup.cc    librdkafka configuration, the startup check,
//                          replacing the producer after a fatal error
//   kafka_sink_delivery.cc producing, queue-full, delivery reports, redelivery
//   kafka_sink_metrics.cc  metrics, readiness events, statistics, librdkafka logs

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/core/backoff.h"
#include "agent/core/log_limiter.h"
#include "sinks/kafka/kafka_memory.h"
#include "sinks/kafka/kafka_record.h"
#include "sinks/kafka/kafka_sink.h"
#include "sinks/kafka/kafka_stats.h"

namespace logship::sinks::kafka {

class KafkaSink::Impl {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::string_view kLog = "sink.kafka";
  // Delivery failures are logged at most this often (with a suppressed count).
  static constexpr auto kLogInterval = std::chrono::seconds(10);

  explicit Impl(KafkaSinkOptions options);
  ~Impl();

  // ---- setup (kafka_sink_setup.cc) -------------------------------------------
  [[nodiscard]] Result<void> open();
  [[nodiscard]] Result<rd_kafka_conf_t*> build_conf();
  void warn_about_overrides() const;
  [[nodiscard]] Result<void> probe();
  void close_producer();

  // ---- Sink API (kafka_sink.cc, kafka_sink_metrics.cc) -----------------------
  Result<void> start(DeliveryListener& listener);
  void send(BatchPtr batch);
  void stop();
  bool redelivers_internally() const { return opt_.redeliver_in_sink; }
  const ProducerMemory& memory() const { return mem_; }
  std::optional<std::string> unavailable_reason() const;
  void collect_metrics(const std::function<void(const MetricSample&)>& emit) const;
  void raise_fatal_error_for_test();

 private:
  /// Heterogeneous lookup, so a topic name view finds its handle without a
  /// string allocation per record.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  /// One batch held by the sink until it is reported.
  struct Tracked {
    BatchPtr batch;
    size_t next = 0;                       // next record of the first pass
    std::vector<std::string_view> redo;    // failed records being produced again
    size_t redo_next = 0;
    std::vector<std::string_view> failed;  // failed in the current attempt
    size_t in_queue = 0;                   // produced, delivery report pending
    uint32_t attempt = 1;
    std::string error;                     // first failure of the current attempt
    std::list<Tracked>::iterator self;

    [[nodiscard]] bool has_more() const { return next < batch->record_count() || redo_next < redo.size(); }
    /// Records still to be delivered that are not in librdkafka's queue.
    [[nodiscard]] size_t remaining() const {
      return (batch->record_count() - next) + (redo.size() - redo_next) + failed.size();
    }
  };

  enum class Produced { kOk, kQueueFull, kFailed };

  // ---- producer thread (kafka_sink.cc) ---------------------------------------
  void run();
  void wake();
  void wait_for_work(int timeout_ms);
  int next_wait_ms() const;
  bool flush_when_idle(Clock::time_point now);
  void admit(BatchPtr batch);
  void promote_due(Clock::time_point now);
  void publish_failing();
  void shut_down();

  // ---- producing and delivery reports (kafka_sink_delivery.cc) ---------------
  bool produce_some();
  Produced produce_one(Tracked& t, size_t index);
  rd_kafka_topic_t* topic_handle(std::string_view topic);
  void failed_message(Tracked& t, std::string_view record, const std::string& error, std::string_view reason);
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  void delivered(const rd_kafka_message_t& m);
  void finish(Tracked& t);
  void report(Tracked& t, DeliveryStatus status, std::string_view error);
  std::chrono::milliseconds backoff(uint32_t attempt) { return backoff_.delay(attempt); }

  // ---- fatal errors (kafka_sink_setup.cc) ------------------------------------
  void note_fatal();
  void recover();

  // ---- librdkafka callbacks (kafka_sink_metrics.cc) --------------------------
  void mark_reachable();
  static void on_error(rd_kafka_t*, int code, const char* reason, void* opaque);
  void client_error(rd_kafka_resp_err_t code, const char* reason);
  static int on_stats(rd_kafka_t*, char* json, size_t len, void* opaque);
  void statistics(std::string_view json);
  static void on_log(const rd_kafka_t*, int level, const char* facility, const char* message);

  KafkaSinkOptions opt_;
  ProducerMemory mem_;  ///< librdkafka's caps, from opt_.memory_limit
  TopicRouter router_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* main_q_ = nullptr;
  std::unordered_map<std::string, rd_kafka_topic_t*, StringHash, std::equal_to<>> topics_;
  rd_kafka_topic_t* fixed_rkt_ = nullptr;
  int wake_fd_ = -1;
  DeliveryListener* listener_ = nullptr;

  // send() -> producer thread.
  std::mutex mu_;
  std::deque<BatchPtr> inbox_;
  bool stopping_ = false;
  bool fatal_test_requested_ = false;
  std::thread thread_;

  // Producer thread only.
  std::list<Tracked> tracked_;
  std::deque<Tracked*> produce_q_;  // batches with records to produce, in order
  std::multimap<Clock::time_point, Tracked*> waiting_;  // failed records' next attempt
  bool fatal_ = false;
  bool purged_ = false;
  bool reachable_ = false;
  int64_t now_ms_ = 0;  ///< CreateTime of the messages of the current round
  /// When to cut the linger next (kafka_sink.cc, kIdleFlushAfter); max()
  /// while librdkafka holds nothing.
  Clock::time_point idle_flush_at_ = Clock::time_point::max();
  std::string key_scratch_, release_scratch_, trace_scratch_;
  Backoff backoff_;  ///< redelivery delays (follow mode)
  LogLimiter failure_log_{kLogInterval};

  // Readiness and metrics, read from other threads.
  mutable std::mutex state_mu_;
  bool brokers_down_ = false;
  std::string brokers_down_detail_;
  std::string auth_error_;
  std::string tls_error_;
  std::string resolve_error_;
  bool restarting_ = false;
  std::string fatal_reason_;
  std::string failing_;
  std::string last_error_;
  std::map<std::string, uint64_t> delivery_errors_;
  std::map<std::string, uint64_t> client_errors_;
  ClientStats stats_;
  LogLimiter auth_log_{kLogInterval};
  LogLimiter error_log_{kLogInterval};
  std::atomic<uint64_t> produced_msgs_{0};
  std::atomic<uint64_t> produced_bytes_{0};
  std::atomic<uint64_t> queue_msgs_{0};
  std::atomic<uint64_t> queue_bytes_{0};
  std::atomic<uint64_t> pending_msgs_{0};
  std::atomic<uint64_t> restarts_{0};
  std::atomic<uint64_t> queue_full_{0};  ///< produce calls refused with QUEUE_FULL
};

}  // namespace logship::sinks::kafka
