#include "sinks/http/http_sink.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <limits>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "agent/core/backoff.h"
#include "agent/core/log.h"
#include "agent/core/log_limiter.h"
#include "agent/net/tls_verify.h"
#include "sinks/codec/compressor.h"
#include "sinks/http/adaptive_concurrency.h"
#include "sinks/http/dead_letter.h"
#include "sinks/http/formats.h"
#include "sinks/http/http_connection.h"
#include "sinks/http/retry_policy.h"

namespace logship::sinks::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using detail::Connection;
using detail::Reply;
using detail::kMinBulkBody;

constexpr std::string_view kLog = "sink.http";
// Failures are logged at most this often (with a count of the ones held back).
constexpr auto kLogInterval = std::chrono::seconds(10);
// Idle keep-alive connections kept beyond the current limit are closed.
constexpr size_t kMaxIdleExtra = 2;

// Request latency histogram buckets (seconds), Prometheus style.
constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
constexpr std::array<std::string_view, 13> kBucketLabels = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                                                            "1",     "2.5",  "5",     "10",   "30",  "+Inf"};
enum StatusClass { k2xx, k3xx, k4xx, k5xx, kNetError, kClassCount };
constexpr std::array<std::string_view, kClassCount> kClassLabels = {"2xx", "3xx", "4xx", "5xx", "error"};

Sink::MetricSample sample(std::string_view name, std::string_view help, double value, bool counter = true,
                          std::string_view label_name = {}, std::string_view label_value = {}) {
  Sink::MetricSample s;
  s.name = name;
  s.help = help;
  s.counter = counter;
  s.label_name = label_name;
  s.label_value = label_value;
  s.value = value;
  return s;
}


/// One batch held by the sink.
struct Job {
  BatchPtr batch;
  uint32_t parts = 0;  ///< requests of this batch not finished yet
  bool failed = false;  ///< a part failed: report kRetry (the pipeline resends)
  std::string error;
  std::optional<std::chrono::milliseconds> retry_after;  ///< the longest hint a part got
};

/// One request: some records of a job, encoded and compressed once and
/// kept for retries.
struct Request {
  Job* job = nullptr;
  RecordSelection records = RecordSelection::range(0, 0);
  std::string body;
  bool encoded = false;
  size_t raw_size = 0;         ///< uncompressed body size (bounds the _bulk answer kept)
  uint32_t attempt = 0;        ///< failures so far
  bool stale_resent = false;   ///< the one free resend after a stale connection is used
  Clock::time_point sent_at{};
  std::optional<asio::steady_timer> timer;  ///< while waiting to be retried
  std::weak_ptr<Connection> conn;           ///< while on a connection (for shutdown)
};
using RequestPtr = std::unique_ptr<Request>;

}  // namespace

class HttpSink::Impl {
 public:
  explicit Impl(HttpSinkOptions options)
      : opt_(std::move(options)),
        aimd_(1, opt_.adaptive_max, 1),
        encoder_(opt_.format, opt_.index_template),
        compressor_(opt_.codec),
        dead_letter_(opt_.dead_letter_path),
        item_backoff_(Backoff::Options{.initial = opt_.retry_base, .max = opt_.retry_cap}) {
    limit_.store(current_limit(), std::memory_order_relaxed);
  }

  ~Impl() { stop(); }

  [[nodiscard]] Result<void> setup_tls() {
    if (!opt_.url.tls) return {};
    SSL_CTX* ctx = tls_ctx_.native_handle();
    beast::error_code ec;
    if (opt_.tls_insecure) {
      log::warn(kLog, "LOGSHIP_HTTP_TLS_INSECURE=true: the server's certificate and name are NOT verified",
                {{"url", opt_.url.origin()}});
    }
    if (auto r = net::configure_client_context(ctx, !opt_.tls_insecure, opt_.ca_file); !r) {
      return fail(Errc::kInvalid,
                  std::string(opt_.ca_file ? "LOGSHIP_HTTP_CA_FILE: " : "https: ") + r.error().message);
    }
    if (opt_.cert_file) {
      tls_ctx_.use_certificate_chain_file(*opt_.cert_file, ec);
      if (ec) {
        return fail(Errc::kInvalid, "LOGSHIP_HTTP_CERT_FILE: cannot load " + *opt_.cert_file + ": " + ec.message());
      }
      tls_ctx_.use_private_key_file(*opt_.key_file, ssl::context::pem, ec);
      if (ec) {
        // The message never quotes the key; only the path is named.
        return fail(Errc::kInvalid, "LOGSHIP_HTTP_KEY_FILE: cannot load " + *opt_.key_file + ": " + ec.message());
      }
      if (SSL_CTX_check_private_key(ctx) != 1) {
        return fail(Errc::kInvalid, "LOGSHIP_HTTP_KEY_FILE: the key does not match LOGSHIP_HTTP_CERT_FILE");
      }
    }
    return {};
  }

  [[nodiscard]] Result<void> start(DeliveryListener& listener) {
    listener_ = &listener;
    work_.emplace(ioc_.get_executor());
    thread_ = std::thread([this] { ioc_.run(); });
    log::info(kLog, "http sink started",
              {{"url", opt_.url.origin() + opt_.url.target},
               {"format", config::to_string(opt_.format)},
               {"compression", opt_.codec == codec::Codec::kNone ? std::string_view("none")
                                                                 : codec::content_encoding(opt_.codec)},
               {"concurrency", opt_.concurrency == 0 ? std::string("adaptive") : std::to_string(opt_.concurrency)}});
    return {};
  }

  void send(BatchPtr batch) {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (!joined_) {
        incoming_.push_back(std::move(batch));
        wake = !wake_posted_;
        wake_posted_ = true;
      }
    }
    if (batch) {
      // After stop(): nothing will send it.
      listener_->on_delivered(std::move(batch), DeliveryStatus::kRetry, "http sink stopped");
      return;
    }
    if (wake) asio::post(ioc_, [this] { take_incoming(); });
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      if (joined_) return;
    }
    if (thread_.joinable()) {
      asio::post(ioc_, [this] { shutdown(); });
      thread_.join();
    }
    std::vector<BatchPtr> left;
    {
      std::lock_guard lock(mu_);
      joined_ = true;
      left.swap(incoming_);
    }
    for (BatchPtr& b : left) listener_->on_delivered(std::move(b), DeliveryStatus::kRetry, "http sink stopped");
    // Requests and connections go before the io_context they belong to.
    active_.clear();
    waiting_.clear();
    queue_.clear();
    idle_.clear();
  }

  [[nodiscard]] std::optional<std::string> unavailable_reason() const {
    std::lock_guard lock(reason_mu_);
    if (failing_.empty()) return std::nullopt;
    return failing_;
  }

  void collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
    const auto load = [](const auto& a) { return static_cast<double>(a.load(std::memory_order_relaxed)); };
    for (size_t i = 0; i < kClassCount; ++i) {
      emit(sample("logship_http_requests_total",
                  "HTTP requests completed, by status class (error: no response: connect, TLS, timeout).",
                  load(requests_[i]), true, "class", kClassLabels[i]));
    }
    emit(sample("logship_http_retries_total", "HTTP requests sent again after a failure.", load(retries_)));
    emit(sample("logship_http_request_bytes_total", "Request body bytes before compression.", load(bytes_raw_)));
    emit(sample("logship_http_request_compressed_bytes_total",
                "Request body bytes after compression (each body counted once, retries not counted).",
                load(bytes_sent_)));
    emit(sample("logship_http_splits_total", "Requests split in halves after a 413.", load(splits_)));
    emit(sample("logship_http_timestamps_replaced_total",
                "Records whose ts was malformed or outside 1677-2262, sent with the encoding time.",
                static_cast<double>(timestamps_replaced_total())));
    emit(sample("logship_http_dead_letter_records_total",
                "Records the endpoint rejected, written to the dead-letter file.", load(dead_lettered_)));
    emit(sample("logship_http_concurrency_limit", "Requests allowed in flight now.", load(limit_), false));
    emit(sample("logship_http_requests_in_flight", "Requests sent or waiting to be retried.", load(in_flight_),
                false));
    // A histogram through the one-label sample API: cumulative buckets.
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBucketLabels.size(); ++i) {
      cumulative += latency_buckets_[i].load(std::memory_order_relaxed);
      emit(sample("logship_http_request_duration_seconds_bucket",
                  "HTTP request latency (send to response), cumulative buckets.", static_cast<double>(cumulative),
                  true, "le", kBucketLabels[i]));
    }
    emit(sample("logship_http_request_duration_seconds_sum", "Total HTTP request latency in seconds.",
                load(latency_sum_ns_) / 1e9));
    emit(sample("logship_http_request_duration_seconds_count", "HTTP requests timed.",
                static_cast<double>(cumulative)));
  }

 private:
  // ---- I/O thread -------------------------------------------------------------

  [[nodiscard]] uint32_t current_limit() const {
    return opt_.concurrency != 0 ? opt_.concurrency : aimd_.limit();
  }

  void take_incoming() {
    std::vector<BatchPtr> batches;
    {
      std::lock_guard lock(mu_);
      batches.swap(incoming_);
      wake_posted_ = false;
    }
    if (stopping_) {
      for (BatchPtr& b : batches) listener_->on_delivered(std::move(b), DeliveryStatus::kRetry, "http sink stopped");
      return;
    }
    for (BatchPtr& b : batches) {
      const auto count = static_cast<uint32_t>(b->record_count());
      if (count == 0) {
        // Positions only (a file fully read, say): nothing to send.
        listener_->on_delivered(std::move(b), DeliveryStatus::kOk, "");
        continue;
      }
      // A batch the pipeline sends again after a failure: its request is a
      // retry (the pipeline retries; the metric keeps counting them here).
      if (b->attempts > 1) {
        retries_.fetch_add(1, std::memory_order_relaxed);
        held_ = false;  // the resends have come: later batches may go again
      } else if (held_) {
        // A batch failed and went back for a resend: a newer one must not
        // overtake it (records of one file stay in order).
        listener_->on_report(std::move(b), DeliveryReport{DeliveryStatus::kRetry, held_error_, std::nullopt});
        continue;
      }
      jobs_.push_back(Job{.batch = std::move(b), .parts = 1, .failed = false, .error = {}, .retry_after = {}});
      auto req = std::make_unique<Request>();
      req->job = &jobs_.back();
      req->records = RecordSelection::range(0, count);
      queue_.push_back(std::move(req));
    }
    pump();
  }

  /// Starts queued requests while slots are free.
  void pump() {
    const uint32_t limit = current_limit();
    limit_.store(limit, std::memory_order_relaxed);
    while (!queue_.empty() && slots_ < limit) {
      RequestPtr req = std::move(queue_.front());
      queue_.pop_front();
      ++slots_;
      in_flight_.store(slots_, std::memory_order_relaxed);
      dispatch(std::move(req));
    }
  }

  /// Sends `req` now; it holds a slot.
  void dispatch(RequestPtr req) {
    if (!req->encoded) {
      const Batch& batch = *req->job->batch;
      // A whole batch in NDJSON is its own body: compress it in place
      // rather than copy it first (the common, hot case).
      const bool as_is = opt_.format == config::HttpFormat::kNdjson && req->records.whole(batch.record_count());
      Result<void> r;
      if (!as_is) r = encoder_.encode(batch, req->records, raw_);
      const std::string_view raw = as_is ? std::string_view(batch.data()) : std::string_view(raw_);
      // Compressed into a reused scratch buffer sized for the worst case,
      // then copied out at its real size: a body kept for retries must not
      // pin a compress-bound allocation (about the batch size) per request.
      if (r) r = compressor_.compress(raw, compressed_);
      if (r) req->body.assign(compressed_);
      if (!r) {
        // Cannot happen with valid state; never lose the batch over it.
        give_up(std::move(req), "encoding the request failed: " + r.error().message);
        return;
      }
      bytes_raw_.fetch_add(raw.size(), std::memory_order_relaxed);
      req->raw_size = raw.size();
      bytes_sent_.fetch_add(req->body.size(), std::memory_order_relaxed);
      req->encoded = true;
      // Keep the scratch buffer from pinning the largest body ever seen.
      if (raw_.capacity() > (8u << 20)) std::string().swap(raw_);
    }
    std::shared_ptr<Connection> conn;
    while (!idle_.empty() && !conn) {
      conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->connected()) conn.reset();
    }
    if (!conn) conn = std::make_shared<Connection>(ioc_, &tls_ctx_, opt_);
    req->sent_at = Clock::now();
    req->conn = conn;
    Request* raw = req.get();
    active_.push_back(std::move(req));
    auto it = std::prev(active_.end());
    // Only Elasticsearch's 2xx answer is read (per-item errors); it is no
    // larger than the request it describes.
    const size_t success_cap =
        opt_.format == config::HttpFormat::kElasticsearch ? std::max(kMinBulkBody, raw->raw_size) : 0;
    conn->exchange(std::move(raw->body), format_info(opt_.format).content_type, success_cap,
                   [this, it, conn](Reply&& reply) { on_reply(it, conn, std::move(reply)); });
  }

  void on_reply(std::list<RequestPtr>::iterator it, const std::shared_ptr<Connection>& conn, Reply&& reply) {
    if (stopping_) return;
    RequestPtr req = std::move(*it);
    active_.erase(it);
    req->body = std::move(reply.request_body);
    if (conn->connected() && idle_.size() < current_limit() + kMaxIdleExtra) idle_.push_back(conn);
    else conn->close();

    const auto now = Clock::now();
    const auto latency = now - req->sent_at;
    if (reply.ec && reply.stale && !req->stale_resent) {
      // The keep-alive connection was closed by the server while idle; this
      // is not a failure of the endpoint. Send again at once on a new one.
      req->stale_resent = true;
      return dispatch(std::move(req));
    }
    req->stale_resent = false;
    observe_latency(latency);

    if (reply.ec) {
      requests_[kNetError].fetch_add(1, std::memory_order_relaxed);
      if (reply.timeout && opt_.concurrency == 0) aimd_.on_overload(now);
      return fail_request(std::move(req), reply.error, std::nullopt);
    }
    const unsigned status = reply.status;
    requests_[status >= 500 ? k5xx : status >= 400 ? k4xx : status >= 300 ? k3xx : k2xx].fetch_add(
        1, std::memory_order_relaxed);
    if (opt_.concurrency == 0) {
      if (is_overload(status)) aimd_.on_overload(now);
      else aimd_.on_response(latency, slots_, now);
    }
    switch (classify(status)) {
      case Outcome::kDelivered:
        mark_healthy();
        if (opt_.format == config::HttpFormat::kElasticsearch) return on_bulk_reply(std::move(req), reply);
        return finish(std::move(req));
      case Outcome::kSplit:
        mark_healthy();
        return split(std::move(req), reply);
      case Outcome::kReject:
        mark_healthy();
        return reject(std::move(req), status, summarize(reply));
      case Outcome::kRetry: {
        std::optional<std::chrono::milliseconds> after;
        if (reply.retry_after) after = parse_retry_after(*reply.retry_after, std::chrono::system_clock::now());
        return fail_request(std::move(req), "HTTP " + std::to_string(status) + " from " + opt_.url.origin() + ": " +
                                                 summarize(reply), after);
      }
    }
  }

  /// "status: first bytes of the body", printable, for logs and dead letters.
  static std::string summarize(const Reply& reply) {
    std::string out = reply.body.substr(0, 300);
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    if (out.empty()) out = "(empty body)";
    return out;
  }

  void on_bulk_reply(RequestPtr req, const Reply& reply) {
    auto bulk = parse_bulk_response(reply.body, req->records.size());
    if (!bulk) {
      // A complete 2xx whose body is not a _bulk response comes from
      // something that is not Elasticsearch (a proxy, an ingest gateway).
      // Sending it again would never end and would duplicate what it took;
      // count it as delivered and say so (a broken transfer fails the read
      // instead and is retried).
      if (bulk_log_.allow(Clock::now())) {
        log::warn(kLog, "cannot read the _bulk response; per-item errors unknown, request counted as delivered",
                  {{"error", bulk.error().message}, {"suppressed", bulk_log_.take_suppressed()}});
      }
      return finish(std::move(req));
    }
    if (bulk->failed.empty()) return finish(std::move(req));
    // Per-item errors in a 200: 429 and 5xx items are sent again (alone),
    // the others (mapping conflicts, bad documents) are dead letters.
    std::vector<uint32_t> again;
    std::vector<std::string_view> rejected;
    std::string reason;
    unsigned reject_status = 0;
    for (const BulkItemError& e : bulk->failed) {
      if (classify(e.status) == Outcome::kRetry) {
        again.push_back(e.position);
      } else {
        rejected.push_back(req->job->batch->record(req->records[e.position]));
        if (reason.empty()) {
          reason = e.reason;
          reject_status = e.status;
        }
      }
    }
    if (!rejected.empty() && !write_dead_letters(*req->job, rejected, reject_status, "elasticsearch item: " + reason)) {
      return finish(std::move(req));
    }
    if (again.empty()) return finish(std::move(req));
    auto retry = std::make_unique<Request>();
    retry->job = req->job;
    retry->records = req->records.subset(again);
    retry->attempt = req->attempt;
    log::debug(kLog, "elasticsearch items to retry", {{"items", static_cast<uint64_t>(again.size())}});
    // Same job, same slot: the finished request's part becomes this one.
    resend_items_later(std::move(retry), "elasticsearch: " + std::to_string(again.size()) +
                                             " items rejected with " + std::to_string(bulk->failed.front().status));
  }

  void split(RequestPtr req, const Reply& reply) {
    if (req->records.size() < 2) {
      // One record larger than the endpoint takes: it can never go.
      return reject(std::move(req), 413, "a single record is larger than the endpoint accepts: " + summarize(reply));
    }
    splits_.fetch_add(1, std::memory_order_relaxed);
    auto [first, second] = req->records.split();
    auto a = std::make_unique<Request>();
    a->job = req->job;
    a->records = std::move(first);
    auto b = std::make_unique<Request>();
    b->job = req->job;
    b->records = std::move(second);
    ++req->job->parts;  // one request became two
    log::info(kLog, "HTTP 413: splitting the request",
              {{"records", static_cast<uint64_t>(req->records.size())}});
    // The first half keeps this slot; the second queues first in line, so
    // with one slot the halves still go in order.
    queue_.push_front(std::move(b));
    dispatch(std::move(a));
  }

  void reject(RequestPtr req, unsigned status, const std::string& why) {
    const RecordSelection& records = req->records;
    std::vector<std::string_view> lines;
    lines.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) lines.push_back(req->job->batch->record(records[i]));
    write_dead_letters(*req->job, lines, status, why);
    finish(std::move(req));
  }

  /// Appends to the dead-letter file; false (job failed) if that fails.
  bool write_dead_letters(Job& job, const std::vector<std::string_view>& lines, unsigned status,
                          const std::string& why) {
    if (auto r = dead_letter_.append(lines, status, why); !r) {
      job.failed = true;
      job.error = r.error().message;
      log::error(kLog, "cannot write the dead-letter file; the batch will be sent again",
                 {{"error", r.error().message}});
      return false;
    }
    dead_lettered_.fetch_add(lines.size(), std::memory_order_relaxed);
    // Never silent: every rejection is logged (rate-limited) and counted.
    if (reject_log_.allow(Clock::now())) {
      log::error(kLog, "endpoint rejected records; written to the dead-letter file",
                 {{"status", status},
                  {"records", static_cast<uint64_t>(lines.size())},
                  {"error", why},
                  {"path", dead_letter_.path()},
                  {"suppressed", reject_log_.take_suppressed()}});
    }
    return true;
  }

  /// One attempt per send: a failed request fails its batch, which goes
  /// back to the pipeline (the retry owner) as kRetry with the server's
  /// hint. Its slot is freed at once.
  void fail_request(RequestPtr req, const std::string& error, std::optional<std::chrono::milliseconds> after) {
    mark_failing(error);
    if (fail_log_.allow(Clock::now())) {
      log::warn(kLog, "request failed; the batch goes back to the pipeline",
                {{"error", error},
                 {"retry_after_ms", after ? static_cast<int64_t>(after->count()) : int64_t{-1}},
                 {"suppressed", fail_log_.take_suppressed()}});
    }
    if (after && (!req->job->retry_after || *after > *req->job->retry_after)) req->job->retry_after = after;
    // The report's text is what /readyz shows while the pipeline waits to
    // resend: the same words as unavailable_reason().
    give_up(std::move(req), "http endpoint failing: " + error);
  }

  /// The one resend inside the sink: Elasticsearch items that a 2xx _bulk
  /// answer rejected with 429/5xx. The pipeline cannot resend part of a
  /// batch, and resending all of it would duplicate the accepted items, so
  /// the failed items go again from here, up to kMaxItemAttempts times with
  /// backoff; then the batch goes back as kRetry. The request keeps its slot.
  static constexpr uint32_t kMaxItemAttempts = 5;
  void resend_items_later(RequestPtr req, const std::string& error) {
    ++req->attempt;
    mark_failing(error);
    if (req->attempt >= kMaxItemAttempts) return give_up(std::move(req), error);
    retries_.fetch_add(1, std::memory_order_relaxed);
    const auto delay = item_backoff_.delay(req->attempt);
    if (fail_log_.allow(Clock::now())) {
      log::warn(kLog, "elasticsearch items failed; sending them again",
                {{"error", error},
                 {"attempt", req->attempt},
                 {"delay_ms", static_cast<int64_t>(delay.count())},
                 {"suppressed", fail_log_.take_suppressed()}});
    }
    req->timer.emplace(ioc_);
    req->timer->expires_after(delay);
    Request* raw = req.get();
    waiting_.push_back(std::move(req));
    auto it = std::prev(waiting_.end());
    raw->timer->async_wait([this, it](beast::error_code ec) {
      if (ec || stopping_) return;
      RequestPtr r = std::move(*it);
      waiting_.erase(it);
      r->timer.reset();
      dispatch(std::move(r));
    });
  }

  /// A batch is going back to the pipeline for a resend: the batches queued
  /// behind it (not started) go back too, and newer ones are returned until
  /// the resends arrive, so the pipeline resends them all in their order.
  void hold_later_batches(const Job* failing, const std::string& error) {
    held_ = true;
    // The held batches report the failure that holds them: it is what
    // /readyz shows, and what an operator needs to read.
    held_error_ = error;
    for (auto it = queue_.begin(); it != queue_.end();) {
      Job* job = (*it)->job;
      if (job == failing || job->parts != 1) {
        ++it;
        continue;
      }
      it = queue_.erase(it);
      BatchPtr batch = std::move(job->batch);
      for (auto j = jobs_.begin(); j != jobs_.end(); ++j) {
        if (&*j == job) {
          jobs_.erase(j);
          break;
        }
      }
      listener_->on_report(std::move(batch), DeliveryReport{DeliveryStatus::kRetry, held_error_, std::nullopt});
    }
  }

  void give_up(RequestPtr req, const std::string& error) {
    hold_later_batches(req->job, error);
    req->job->failed = true;
    req->job->error = error;
    finish(std::move(req));
  }

  /// A request is done (delivered, dead-lettered or given up): frees its
  /// slot, and reports its batch when it was the batch's last part.
  void finish(RequestPtr req) {
    Job* job = req->job;
    req.reset();
    --slots_;
    in_flight_.store(slots_, std::memory_order_relaxed);
    if (--job->parts == 0) {
      const DeliveryStatus status = job->failed ? DeliveryStatus::kRetry : DeliveryStatus::kOk;
      const std::string error = job->error;
      const auto retry_after = job->failed ? job->retry_after : std::nullopt;
      BatchPtr batch = std::move(job->batch);
      for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
        if (&*it == job) {
          jobs_.erase(it);
          break;
        }
      }
      listener_->on_report(std::move(batch), DeliveryReport{status, error, retry_after});
    }
    pump();
  }

  void observe_latency(Clock::duration latency) {
    const double s = std::chrono::duration<double>(latency).count();
    size_t b = 0;
    while (b < kBuckets.size() && s > kBuckets[b]) ++b;
    latency_buckets_[b].fetch_add(1, std::memory_order_relaxed);
    latency_sum_ns_.fetch_add(static_cast<uint64_t>(std::chrono::nanoseconds(latency).count()),
                              std::memory_order_relaxed);
  }

  void mark_failing(const std::string& error) {
    std::lock_guard lock(reason_mu_);
    failing_ = "http endpoint failing: " + error;
  }

  void mark_healthy() {
    std::lock_guard lock(reason_mu_);
    if (!failing_.empty()) {
      log::info(kLog, "http endpoint answering again", {{"url", opt_.url.origin()}});
      failing_.clear();
    }
  }

  void shutdown() {
    stopping_ = true;
    for (auto& c : idle_) c->close();
    idle_.clear();
    for (auto& r : waiting_) {
      if (r->timer) r->timer->cancel();
    }
    // In-flight exchanges: closing their sockets aborts them; their
    // handlers see stopping_ and return.
    for (auto& r : active_) {
      if (auto c = r->conn.lock()) c->close();
    }
    queue_.clear();
    for (Job& job : jobs_) {
      listener_->on_delivered(std::move(job.batch), DeliveryStatus::kRetry, "http sink stopped before delivery");
    }
    jobs_.clear();
    take_incoming();  // reports what arrived meanwhile (stopping_ is set)
    work_.reset();
  }

  HttpSinkOptions opt_;
  DeliveryListener* listener_ = nullptr;

  // Declared before everything that holds sockets or timers, so it is
  // destroyed after them.
  ssl::context tls_ctx_{ssl::context::tls_client};
  asio::io_context ioc_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;

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
  Encoder encoder_;
  codec::Compressor compressor_;
  DeadLetterFile dead_letter_;
  Backoff item_backoff_;  ///< Elasticsearch items sent again (the one in-sink resend)
  std::string raw_;         ///< uncompressed body scratch
  std::string compressed_;  ///< compressed body scratch
  std::list<Job> jobs_;
  std::deque<RequestPtr> queue_;     ///< waiting for a slot
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
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> latency_buckets_{};
  std::atomic<uint64_t> latency_sum_ns_{0};
};

Result<std::unique_ptr<HttpSink>> HttpSink::create(HttpSinkOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto r = impl->setup_tls(); !r) return std::unexpected(r.error());
  return std::unique_ptr<HttpSink>(new HttpSink(std::move(impl)));
}

HttpSink::HttpSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpSink::~HttpSink() = default;

Result<void> HttpSink::start(DeliveryListener& listener) { return impl_->start(listener); }
void HttpSink::send(BatchPtr batch) { impl_->send(std::move(batch)); }
void HttpSink::stop() { impl_->stop(); }
std::optional<std::string> HttpSink::unavailable_reason() const { return impl_->unavailable_reason(); }
void HttpSink::collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
  impl_->collect_metrics(emit);
}

}  // namespace logship::sinks::http
