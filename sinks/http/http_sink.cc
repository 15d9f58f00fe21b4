#include "sinks/http/http_sink.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
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

#include "agent/core/log.h"
#include "sinks/codec/compressor.h"
#include "sinks/http/adaptive_concurrency.h"
#include "sinks/http/dead_letter.h"
#include "sinks/http/formats.h"
#include "sinks/http/retry_policy.h"

namespace logship::sinks::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kLog = "sink.http";
// A response body larger than this is an endpoint bug; Elasticsearch's
// _bulk answer for a large batch is the biggest legitimate one.
constexpr uint64_t kMaxResponseBody = 64u << 20;
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

/// At most one log line per interval; counts what it held back.
struct RateLimit {
  Clock::time_point next{};
  uint64_t suppressed = 0;
  bool allow(Clock::time_point now) {
    if (now < next) {
      ++suppressed;
      return false;
    }
    next = now + kLogInterval;
    return true;
  }
};

/// What came back from one exchange on a connection.
struct Reply {
  beast::error_code ec;
  std::string error;  ///< readable cause when ec is set
  bool timeout = false;
  /// A reused keep-alive connection failed before any byte of a response:
  /// the server most likely closed it while idle. Resent at once, once.
  bool stale = false;
  unsigned status = 0;
  std::string body;
  std::optional<std::string> retry_after;
  std::string request_body;  ///< handed back for a retry
};

/// One keep-alive connection. Runs on the sink's I/O thread only; async
/// handlers hold a shared_ptr, so a connection lives until its last
/// operation completes even after the sink dropped it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Callback = std::function<void(Reply&&)>;

  Connection(asio::io_context& ioc, ssl::context* tls, const HttpSinkOptions& opt)
      : tls_ctx_(tls), opt_(opt), resolver_(ioc), ioc_(ioc) {}

  /// Sends one request with `body` and calls `cb` once with the outcome.
  void exchange(std::string body, std::string_view content_type, Callback cb) {
    cb_ = std::move(cb);
    req_ = {};
    req_.method(bhttp::verb::post);
    req_.target(opt_.url.target);
    req_.version(11);
    req_.set(bhttp::field::host, opt_.url.host_header());
    req_.set(bhttp::field::user_agent, "logship");
    req_.set(bhttp::field::content_type, beast::string_view(content_type.data(), content_type.size()));
    if (const auto enc = codec::content_encoding(opt_.codec); !enc.empty()) {
      req_.set(bhttp::field::content_encoding, beast::string_view(enc.data(), enc.size()));
    }
    for (const auto& [name, value] : opt_.headers) req_.set(name, value);
    req_.keep_alive(true);
    req_.body() = std::move(body);
    req_.prepare_payload();
    reused_ = connected_;
    write_error_ = {};
    if (connected_) {
      write();
    } else {
      resolve();
    }
  }

  [[nodiscard]] bool connected() const { return connected_; }

  void close() {
    connected_ = false;
    resolver_.cancel();
    beast::error_code ignored;
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
    if (plain_) plain_->socket().close(ignored);
  }

 private:
  template <class F>
  void with_stream(F&& f) {
    if (tls_) f(*tls_);
    else f(*plain_);
  }
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void resolve() {
    buffer_.clear();
    tls_.reset();
    plain_.reset();
    if (opt_.url.tls) tls_.emplace(ioc_, *tls_ctx_);
    else plain_.emplace(ioc_);
    resolver_.async_resolve(opt_.url.host, std::to_string(opt_.url.port),
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                              self->on_resolve(ec, std::move(results));
                            });
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return finish(ec, "resolve " + opt_.url.host + ": " + ec.message());
    lowest().expires_after(opt_.timeout);
    lowest().async_connect(results, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      self->on_connect(ec);
    });
  }

  void on_connect(beast::error_code ec) {
    if (ec) return finish(ec, "connect to " + opt_.url.origin() + ": " + ec.message());
    // Log lines are small writes: do not let Nagle hold a request's tail.
    beast::error_code ignored;
    lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (!tls_) {
      connected_ = true;
      return write();
    }
    SSL* ssl = tls_->native_handle();
    if (!opt_.url.host_is_ip) {
      // SNI: virtual hosts and most proxies pick the certificate by it.
      SSL_set_tlsext_host_name(ssl, opt_.url.host.c_str());
    }
    if (!opt_.tls_insecure) {
      // Hostname (or IP address) verification by OpenSSL during the
      // handshake, against the certificate's subjectAltName.
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int ok = opt_.url.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, opt_.url.host.c_str())
                                         : X509_VERIFY_PARAM_set1_host(param, opt_.url.host.c_str(), 0);
      if (ok != 1) return finish(asio::error::invalid_argument, "TLS: cannot set the expected host name");
    }
    lowest().expires_after(opt_.timeout);
    tls_->async_handshake(ssl::stream_base::client,
                          [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      const long verify = SSL_get_verify_result(tls_->native_handle());
      std::string why = "TLS handshake with " + opt_.url.origin() + " failed: ";
      if (verify != X509_V_OK) {
        why += std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify) +
               (opt_.ca_file ? " (CA file " + *opt_.ca_file + ")" : " (system CAs; set LOGSHIP_HTTP_CA_FILE?)");
      } else {
        why += ec.message();
      }
      return finish(ec, why);
    }
    connected_ = true;
    write();
  }

  void write() {
    lowest().expires_after(opt_.timeout);
    with_stream([this](auto& stream) {
      bhttp::async_write(stream, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->on_write(ec);
      });
    });
  }

  void on_write(beast::error_code ec) {
    if (ec) {
      // A server that refuses a body early (413 from a proxy's size limit)
      // may answer and close while we are still writing: the write fails,
      // but its answer is waiting to be read. Read it before giving up.
      if (!write_error_ && (ec == asio::error::broken_pipe || ec == asio::error::connection_reset)) {
        write_error_ = ec;
        return read();
      }
      return finish(ec, "send to " + opt_.url.origin() + ": " + ec.message());
    }
    read();
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxResponseBody);
    lowest().expires_after(opt_.timeout);
    with_stream([this](auto& stream) {
      bhttp::async_read(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->on_read(ec);
      });
    });
  }

  void on_read(beast::error_code ec) {
    if (ec && write_error_) {
      ec = write_error_;
      return finish(ec, "send to " + opt_.url.origin() + ": " + ec.message());
    }
    if (ec) return finish(ec, "response from " + opt_.url.origin() + ": " + ec.message());
    if (write_error_) close();  // answered, but the connection is broken
    auto& res = parser_->get();
    Reply reply;
    reply.status = res.result_int();
    if (auto it = res.find(bhttp::field::retry_after); it != res.end()) reply.retry_after = std::string(it->value());
    reply.body = std::move(res.body());
    reply.request_body = std::move(req_.body());
    if (!res.keep_alive()) close();
    lowest().expires_never();
    auto cb = std::move(cb_);
    cb(std::move(reply));
  }

  void finish(beast::error_code ec, std::string why) {
    Reply reply;
    reply.ec = ec;
    reply.timeout = ec == beast::error::timeout;
    if (reply.timeout) why += " (no answer within LOGSHIP_HTTP_TIMEOUT_MS)";
    reply.error = std::move(why);
    const bool early = !parser_ || !parser_->got_some();
    reply.stale = reused_ && early &&
                  (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                   ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
    reply.request_body = std::move(req_.body());
    close();
    auto cb = std::move(cb_);
    if (cb) cb(std::move(reply));
  }

  ssl::context* tls_ctx_;
  const HttpSinkOptions& opt_;
  tcp::resolver resolver_;
  asio::io_context& ioc_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  Callback cb_;
  bool connected_ = false;
  bool reused_ = false;
  beast::error_code write_error_;  ///< the write failed; a response may still be readable
};

/// One batch held by the sink.
struct Job {
  BatchPtr batch;
  uint32_t parts = 0;  ///< requests of this batch not finished yet
  bool failed = false;  ///< a part gave up (max_attempts): report kRetry
  std::string error;
};

/// One request: some records of a job, encoded and compressed once and
/// kept for retries.
struct Request {
  Job* job = nullptr;
  RecordSelection records = RecordSelection::range(0, 0);
  std::string body;
  bool encoded = false;
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
        rng_(std::random_device{}()) {
    limit_.store(current_limit(), std::memory_order_relaxed);
  }

  ~Impl() { stop(); }

  [[nodiscard]] Result<void> setup_tls() {
    if (!opt_.url.tls) return {};
    SSL_CTX* ctx = tls_ctx_.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    beast::error_code ec;
    if (opt_.tls_insecure) {
      tls_ctx_.set_verify_mode(ssl::verify_none);
      log::warn(kLog, "LOGSHIP_HTTP_TLS_INSECURE=true: the server's certificate and name are NOT verified",
                {{"url", opt_.url.origin()}});
    } else {
      tls_ctx_.set_verify_mode(ssl::verify_peer);
      if (opt_.ca_file) {
        tls_ctx_.load_verify_file(*opt_.ca_file, ec);
        if (ec) return fail(Errc::kInvalid, "LOGSHIP_HTTP_CA_FILE: cannot load " + *opt_.ca_file + ": " + ec.message());
      } else {
        tls_ctx_.set_default_verify_paths(ec);
        if (ec) return fail(Errc::kInvalid, "https: cannot load the system CA certificates: " + ec.message());
      }
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
                static_cast<double>(encoder_.timestamps_replaced())));
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
      jobs_.push_back(Job{.batch = std::move(b), .parts = 1, .failed = false, .error = {}});
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
    conn->exchange(std::move(raw->body), format_info(opt_.format).content_type,
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
      return retry_later(std::move(req), reply.error, std::nullopt);
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
        return retry_later(std::move(req), "HTTP " + std::to_string(status) + " from " + opt_.url.origin() + ": " +
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
                  {{"error", bulk.error().message}, {"suppressed", bulk_log_.suppressed}});
        bulk_log_.suppressed = 0;
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
    retry_later(std::move(retry), "elasticsearch: " + std::to_string(again.size()) + " items rejected with " +
                                      std::to_string(bulk->failed.front().status),
                std::nullopt);
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
                  {"suppressed", reject_log_.suppressed}});
      reject_log_.suppressed = 0;
    }
    return true;
  }

  void retry_later(RequestPtr req, const std::string& error, std::optional<std::chrono::milliseconds> after) {
    ++req->attempt;
    mark_failing(error);
    if (opt_.max_attempts != 0 && req->attempt >= opt_.max_attempts) {
      return give_up(std::move(req), error);
    }
    retries_.fetch_add(1, std::memory_order_relaxed);
    const auto delay = after ? std::min(*after, kMaxRetryAfter)
                             : backoff_delay(req->attempt, rng_, opt_.retry_base, opt_.retry_cap);
    if (fail_log_.allow(Clock::now())) {
      log::warn(kLog, "request failed; retrying",
                {{"error", error},
                 {"attempt", req->attempt},
                 {"delay_ms", static_cast<int64_t>(delay.count())},
                 {"suppressed", fail_log_.suppressed}});
      fail_log_.suppressed = 0;
    }
    // The request keeps its slot while it waits (see http_sink.h).
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

  void give_up(RequestPtr req, const std::string& error) {
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
      BatchPtr batch = std::move(job->batch);
      for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
        if (&*it == job) {
          jobs_.erase(it);
          break;
        }
      }
      listener_->on_delivered(std::move(batch), status, error);
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
  std::mt19937_64 rng_;
  std::string raw_;         ///< uncompressed body scratch
  std::string compressed_;  ///< compressed body scratch
  std::list<Job> jobs_;
  std::deque<RequestPtr> queue_;     ///< waiting for a slot
  std::list<RequestPtr> active_;     ///< on a connection
  std::list<RequestPtr> waiting_;    ///< backing off (holding a slot)
  std::vector<std::shared_ptr<Connection>> idle_;
  uint32_t slots_ = 0;
  RateLimit fail_log_;
  RateLimit reject_log_;
  RateLimit bulk_log_;

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
