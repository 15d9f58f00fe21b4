// HttpSink's public face and the Impl's Sink API: TLS setup, start, taking
// batches in on the I/O thread, stop and shutdown. The rest of the Impl is
// in the files http_sink_impl.h lists.
#include "sinks/http/http_sink.h"

#include <openssl/ssl.h>
#include <pthread.h>

#include <algorithm>

#include <boost/asio/post.hpp>

#include "agent/core/log.h"
#include "agent/net/tls_verify.h"
#include "agent/core/cpu_count.h"
#include "sinks/http/http_sink_impl.h"

namespace logship::sinks::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;

}  // namespace

HttpSink::Impl::Impl(HttpSinkOptions options)
    : opt_(std::move(options)),
      aimd_(1, opt_.adaptive_max, 1),
      dead_letter_(opt_.dead_letter_path),
      item_backoff_(Backoff::Options{.initial = opt_.retry_base, .max = opt_.retry_cap}) {
  limit_.store(current_limit(), std::memory_order_relaxed);
}

HttpSink::Impl::~Impl() { stop(); }

Result<void> HttpSink::Impl::setup_tls() {
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

Result<void> HttpSink::Impl::start(DeliveryListener& listener) {
  listener_ = &listener;
  workers_.emplace(opt_.format, opt_.index_template, opt_.codec,
                   opt_.encode_threads != 0 ? opt_.encode_threads
                                            : detail::BodyWorkers::default_threads(detect_usable_cpus()));
  work_.emplace(ioc_.get_executor());
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "http-io");
    ioc_.run();
  });
  log::info(kLog, "http sink started",
            {{"url", opt_.url.origin() + opt_.url.target},
             {"format", to_string(opt_.format)},
             {"compression", opt_.codec == codec::Codec::kNone ? std::string_view("none")
                                                               : codec::content_encoding(opt_.codec)},
             {"concurrency", opt_.concurrency == 0 ? std::string("adaptive") : std::to_string(opt_.concurrency)},
             {"encode_threads", workers_->threads()}});
  return {};
}

void HttpSink::Impl::send(BatchPtr batch) {
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

void HttpSink::Impl::stop() {
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
  encoding_.clear();
  waiting_.clear();
  queue_.clear();
  idle_.clear();
}

std::optional<std::string> HttpSink::Impl::unavailable_reason() const {
  std::lock_guard lock(reason_mu_);
  if (failing_.empty()) return std::nullopt;
  return failing_;
}

// ---- I/O thread -------------------------------------------------------------

void HttpSink::Impl::take_incoming() {
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
    jobs_.emplace_back();
    jobs_.back().batch = std::move(b);
    jobs_.back().parts = 1;
    queue_.push_back(new_request(&jobs_.back(), RecordSelection::range(0, count)));
  }
  pump();
}

void HttpSink::Impl::shutdown() {
  stopping_ = true;
  // First: no encoding task may read a batch once it is reported below
  // (their results, posted here, are dropped: stopping_ is set).
  if (workers_) workers_->stop();
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
size_t HttpSink::reserved_memory() const { return impl_->reserved_memory(); }
void HttpSink::collect_metrics(const std::function<void(const MetricSample&)>& emit) const {
  impl_->collect_metrics(emit);
}

}  // namespace logship::sinks::http
