// One request's exchange with the endpoint, on the I/O thread: having its
// body encoded and compressed once by the encoding threads (never here),
// sending it on a keep-alive connection while a concurrency slot is free,
// and reading the reply. The reply's outcome
// (413 split, rejection, failure, _bulk item errors) is decided here and
// carried out by http_sink_jobs.cc.
#include <boost/asio/post.hpp>

#include "agent/core/log.h"
#include "sinks/http/http_sink_impl.h"
#include "sinks/http/retry_policy.h"

namespace logship::sinks::http {

using detail::kMinBulkBody;

/// Has the bodies of the first queued requests encoded, then starts queued
/// requests, in order, while slots are free and their bodies are ready.
void HttpSink::Impl::pump() {
  const uint32_t limit = current_limit();
  limit_.store(limit, std::memory_order_relaxed);
  // Encoded ahead: the requests the free slots take next, plus one per
  // encoding thread so a slot that frees finds a body ready. No more: each
  // body is memory, and the bound keeps the bodies the sink holds at the
  // concurrency limit plus the encoding threads, and their bytes (with the
  // ones being encoded, estimated) within opt_.body_budget. Bodies held
  // are in flight or ready to go, so the cap cannot stall the sink.
  size_t ahead = (slots_ < limit ? limit - slots_ : 0) + workers_->threads();
  for (auto it = queue_.begin(); it != queue_.end() && ahead > 0; ++it, --ahead) {
    if ((*it)->state != BodyState::kNone) continue;
    const size_t held =
        body_bytes_.load(std::memory_order_relaxed) + encoding_now_ * std::max<size_t>(last_body_size_, 1);
    if (opt_.body_budget != 0 && held > 0 && held >= opt_.body_budget) break;
    encode(**it);
  }
  while (!queue_.empty() && slots_ < limit && queue_.front()->state == BodyState::kReady) {
    RequestPtr req = std::move(queue_.front());
    queue_.pop_front();
    ++slots_;
    in_flight_.store(slots_, std::memory_order_relaxed);
    send_ready(std::move(req));
  }
}

HttpSink::Impl::RequestPtr HttpSink::Impl::new_request(Job* job, RecordSelection records) {
  auto req = std::make_unique<Request>();
  req->id = ++next_request_id_;
  req->job = job;
  req->records = std::move(records);
  return req;
}

/// Hands `req`'s body to the encoding threads; on_encoded() gets it back
/// on this thread.
void HttpSink::Impl::encode(Request& req) {
  req.state = BodyState::kEncoding;
  Job* job = req.job;
  ++job->encoding;
  ++encoding_now_;
  const uint64_t id = req.id;
  workers_->submit(*job->batch, req.records, [this, id, job](detail::EncodedBody&& body) {
    boost::asio::post(ioc_, [this, id, job, body = std::move(body)]() mutable {
      on_encoded(id, job, std::move(body));
    });
  });
}

void HttpSink::Impl::on_encoded(uint64_t id, Job* job, detail::EncodedBody&& encoded) {
  if (stopping_) return;  // shutdown() reported every job
  --job->encoding;
  --encoding_now_;
  last_body_size_ = encoded.body.size();
  if (job->returning) {
    // Its request was dropped (held back) or its batch finished while this
    // task read it: the batch can go now.
    if (job->encoding == 0) report_job(job);
    return;
  }
  RequestPtr slotted;  // a request that holds a slot already
  Request* req = nullptr;
  for (auto& r : queue_) {
    if (r->id == id) {
      req = r.get();
      break;
    }
  }
  if (req == nullptr) {
    for (auto it = encoding_.begin(); it != encoding_.end(); ++it) {
      if ((*it)->id == id) {
        slotted = std::move(*it);
        encoding_.erase(it);
        req = slotted.get();
        break;
      }
    }
  }
  if (req == nullptr) return pump();  // dropped meanwhile (its batch held back with other parts)
  if (!encoded.status) {
    // Cannot happen with valid state; never lose the batch over it.
    if (!slotted) {
      for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (it->get() == req) {
          slotted = std::move(*it);
          queue_.erase(it);
          break;
        }
      }
      ++slots_;  // finish() frees the slot a request holds
    }
    return give_up(std::move(slotted), "encoding the request failed: " + encoded.status.error().message);
  }
  bytes_raw_.fetch_add(encoded.raw_size, std::memory_order_relaxed);
  bytes_sent_.fetch_add(encoded.body.size(), std::memory_order_relaxed);
  body_bytes_.fetch_add(encoded.body.size(), std::memory_order_relaxed);
  req->body_gauge = &body_bytes_;
  req->body_counted = encoded.body.size();
  req->raw_size = encoded.raw_size;
  req->body = std::move(encoded.body);
  req->state = BodyState::kReady;
  if (slotted) return send_ready(std::move(slotted));
  pump();
}

/// Sends `req` (it holds a slot) once its body is ready.
void HttpSink::Impl::dispatch(RequestPtr req) {
  if (req->state == BodyState::kReady) return send_ready(std::move(req));
  if (req->state == BodyState::kNone) encode(*req);
  encoding_.push_back(std::move(req));
}

/// Sends `req` now: it holds a slot and its body.
void HttpSink::Impl::send_ready(RequestPtr req) {
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
      opt_.format == HttpFormat::kElasticsearch ? std::max(kMinBulkBody, raw->raw_size) : 0;
  conn->exchange(std::move(raw->body), format_info(opt_.format).content_type, success_cap,
                 [this, it, conn](Reply&& reply) { on_reply(it, conn, std::move(reply)); });
}

void HttpSink::Impl::on_reply(std::list<RequestPtr>::iterator it, const std::shared_ptr<Connection>& conn,
                              Reply&& reply) {
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
    return send_ready(std::move(req));
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
      if (opt_.format == HttpFormat::kElasticsearch) return on_bulk_reply(std::move(req), reply);
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
std::string HttpSink::Impl::summarize(const Reply& reply) {
  std::string out = reply.body.substr(0, 300);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (out.empty()) out = "(empty body)";
  return out;
}

void HttpSink::Impl::on_bulk_reply(RequestPtr req, const Reply& reply) {
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
  RequestPtr retry = new_request(req->job, req->records.subset(again));
  retry->attempt = req->attempt;
  log::debug(kLog, "elasticsearch items to retry", {{"items", static_cast<uint64_t>(again.size())}});
  // Same job, same slot: the finished request's part becomes this one.
  resend_items_later(std::move(retry), "elasticsearch: " + std::to_string(again.size()) +
                                           " items rejected with " + std::to_string(bulk->failed.front().status));
}

void HttpSink::Impl::split(RequestPtr req, const Reply& reply) {
  if (req->records.size() < 2) {
    // One record larger than the endpoint takes: it can never go.
    return reject(std::move(req), 413, "a single record is larger than the endpoint accepts: " + summarize(reply));
  }
  splits_.fetch_add(1, std::memory_order_relaxed);
  auto [first, second] = req->records.split();
  RequestPtr a = new_request(req->job, std::move(first));
  RequestPtr b = new_request(req->job, std::move(second));
  ++req->job->parts;  // one request became two
  log::info(kLog, "HTTP 413: splitting the request",
            {{"records", static_cast<uint64_t>(req->records.size())}});
  // The first half keeps this slot; the second queues first in line, so
  // with one slot the halves still go in order.
  queue_.push_front(std::move(b));
  dispatch(std::move(a));
}

}  // namespace logship::sinks::http
