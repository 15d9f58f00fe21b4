#pragma once
// Private to the HTTP sink: HttpSink::Impl, shared by the sink's .cc files
// and included by nothing else (it names Boost and OpenSSL types;
// http_sink.h, the header callers use, does not).
//
// The Impl is one class because all of its state belongs to one I/O thread
// (see http_sink.h); its member functions are defined by concern:
//   http_sink.cc          Sink API, TLS setup, taking batches in, shutdown
//   http_sink_exchange.cc having a request's body encoded (body_workers.h:
//                         never on this thread), sending it on a
//                         connection, reading the reply (413 splits, _bulk
//                         item errors)
//   http_sink_jobs.cc     what becomes of a request and its batch: done,
//                         dead-lettered, failed back to the pipeline, or
//                         (Elasticsearch items) sent again
//   http_sink_metrics.cc  metrics and the latency histogram

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/backoff.h"
#include "agent/core/log_limiter.h"
#include "sinks/codec/compressor.h"
#include "sinks/http/adaptive_concurrency.h"
#include "sinks/http/body_workers.h"
#include "sinks/http/dead_letter.h"
#include "sinks/http/formats.h"
#include "sinks/http/http_connection.h"
#include "sinks/http/http_sink.h"

namespace logship::sinks::http {

class HttpSink::Impl {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::string_view kLog = "sink.http";

  explicit Impl(HttpSinkOptions options);
  ~Impl();

  // ---- Sink API (http_sink.cc, http_sink_metrics.cc) -------------------------
  [[nodiscard]] Result<void> setup_tls();
  [[nodiscard]] Result<void> start(DeliveryListener& listener);
  void send(BatchPtr batch);
  void stop();
  [[nodiscard]] std::optional<std::string> unavailable_reason() const;
  void collect_metrics(const std::function<void(const MetricSample&)>& emit) const;
  [[nodiscard]] size_t reserved_memory() const { return opt_.body_budget; }

 private:
  using Connection = detail::Connection;
  using Reply = detail::Reply;

  // Failures are logged at most this often (with a count of the ones held back).
  static constexpr auto kLogInterval = std::chrono::seconds(10);
  // Idle keep-alive connections kept beyond the current limit are closed.
  static constexpr size_t kMaxIdleExtra = 2;
  // Elasticsearch items sent again at most this often (resend_items_later()).
  static constexpr uint32_t kMaxItemAttempts = 5;

  // Request latency histogram buckets (seconds), Prometheus style.
  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  static constexpr std::array<std::string_view, 13> kBucketLabels = {
      "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "+Inf"};
  enum StatusClass { k2xx, k3xx, k4xx, k5xx, kNetError, kClassCount };
  static constexpr std::array<std::string_view, kClassCount> kClassLabels = {"2xx", "3xx", "4xx", "5xx", "error"};

  /// One batch held by the sink.
  struct Job {
    BatchPtr batch;
    uint32_t parts = 0;  ///< requests of this batch not finished yet
    bool failed = false;  ///< a part failed: report kRetry (the pipeline resends)
    std::string error;
    std::optional<std::chrono::milliseconds> retry_after;  ///< the longest hint a part got
    /// Encoding tasks reading this job's batch: the batch is not reported
    /// (released to the pipeline) while one runs.
    uint32_t encoding = 0;
    /// Reported as soon as `encoding` is 0 (it was held back or finished
    /// while a task still read it).
    bool returning = false;
  };

  /// One request: some records of a job, encoded and compressed once and
  /// kept for retries.
  enum class BodyState { kNone, kEncoding, kReady };
  struct Request {
    Request() = default;
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;
    ~Request() {
      if (body_gauge != nullptr) body_gauge->fetch_sub(body_counted, std::memory_order_relaxed);
    }
    uint64_t id = 0;  ///< matches an encoding task's result to its request
    Job* job = nullptr;
    RecordSelection records = RecordSelection::range(0, 0);
    std::string body;  ///< compressed, kept for a resend on a stale connection
    BodyState state = BodyState::kNone;
    std::atomic<uint64_t>* body_gauge = nullptr;  ///< body_bytes_, while this request holds a body
    size_t body_counted = 0;
    size_t raw_size = 0;         ///< uncompressed body size (bounds the _bulk answer kept)
    uint32_t attempt = 0;        ///< failures so far
    bool stale_resent = false;   ///< the one free resend after a stale connection is used
    Clock::time_point sent_at{};
    std::optional<boost::asio::steady_timer> timer;  ///< while waiting to be retried
    std::weak_ptr<Connection> conn;                  ///< while on a connection (for shutdown)
  };
  using RequestPtr = std::unique_ptr<Request>;

  // ---- I/O thread: batches in, shutdown (http_sink.cc) -----------------------
  [[nodiscard]] uint32_t current_limit() const {
    return opt_.concurrency != 0 ? opt_.concurrency : aimd_.limit();
  }
  void take_incoming();
  void shutdown();

  // ---- I/O thread: the exchange (http_sink_exchange.cc) ----------------------
  void pump();
  [[nodiscard]] RequestPtr new_request(Job* job, RecordSelection records);
  void encode(Request& req);
  void on_encoded(uint64_t id, Job* job, detail::EncodedBody&& encoded);
  void dispatch(RequestPtr req);
  void send_ready(RequestPtr req);
  void on_reply(std::list<RequestPtr>::iterator it, const std::shared_ptr<Connection>& conn, Reply&& reply);
  static std::string summarize(const Reply& reply);
  void on_bulk_reply(RequestPtr req, const Reply& reply);
  void split(RequestPtr req, const Reply& reply);

  // ---- I/O thread: outcomes (http_sink_jobs.cc) ------------------------------
  void reject(RequestPtr req, unsigned status, const std::string& why);
  bool write_dead_letters(Job& job, const std::vector<std::string_view>& lines, unsigned status,
                          const std::string& why);
  void fail_request(RequestPtr req, const std::string& error, std::optional<std::chrono::milliseconds> after);
  void resend_items_later(RequestPtr req, const std::string& error);
  void hold_later_batches(const Job* failing, const std::string& error);
  void give_up(RequestPtr req, const std::string& error);
  void finish(RequestPtr req);
  void report_job(Job* job);
  void mark_failing(const std::string& error);
  void mark_healthy();

  // ---- metrics (http_sink_metrics.cc) ----------------------------------------
  void observe_latency(Clock::duration latency);

  HttpSinkOptions opt_;
  DeliveryListener* listener_ = nullptr;

  // Declared before everything that holds sockets or timers, so it is
  // destroyed after them.
  boost::asio::ssl::context tls_ctx_{boost::asio::ssl::context::tls_client};
  boost::asio::io_context ioc_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  // Encode and compress bodies (started by start(), stopped by shutdown()
  // before any batch is reported). After ioc_: destroyed before it.
  std::optional<detail::BodyWorkers> workers_;

  // send() -> I/O thread.
  std::mutex mu_;
  std::vector<BatchPtr> incoming_;
  bool wake_posted_ = false;
  bool joined_ = false;

  mutable std::mutex reason_mu_;
  std::string failing_;  ///< non-empty while the endpoint fails

  // I/O thread only.
  bool stopping_ = false;
  AdaptiveConcurrency aimd_;
  DeadLetterFile dead_letter_;
  Backoff item_backoff_;  ///< Elasticsearch items sent again (the one in-sink resend)
  std::list<Job> jobs_;
  uint64_t next_request_id_ = 0;
  uint32_t encoding_now_ = 0;        ///< bodies being encoded
  size_t last_body_size_ = 0;        ///< estimate of a body being encoded, for opt_.body_budget
  std::deque<RequestPtr> queue_;     ///< waiting for a slot (the first ones' bodies encoded ahead)
  std::list<RequestPtr> encoding_;   ///< holding a slot while their body is encoded (413 halves, item resends)
  bool held_ = false;                ///< a batch went back for a resend: newer ones wait (I/O thread)
  std::string held_error_;           ///< the failure that holds them
  std::list<RequestPtr> active_;     ///< on a connection
  std::list<RequestPtr> waiting_;    ///< backing off (holding a slot)
  std::vector<std::shared_ptr<Connection>> idle_;
  uint32_t slots_ = 0;
  LogLimiter fail_log_{kLogInterval};
  LogLimiter reject_log_{kLogInterval};
  LogLimiter bulk_log_{kLogInterval};

  // Metrics (any thread reads).
  std::array<std::atomic<uint64_t>, kClassCount> requests_{};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> bytes_raw_{0};
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> splits_{0};
  std::atomic<uint64_t> dead_lettered_{0};
  std::atomic<uint32_t> limit_{1};
  std::atomic<uint32_t> in_flight_{0};
  std::atomic<uint64_t> body_bytes_{0};  ///< compressed bodies held (ready, queued or on a connection)
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> latency_buckets_{};
  std::atomic<uint64_t> latency_sum_ns_{0};
};

}  // namespace logship::sinks::http
