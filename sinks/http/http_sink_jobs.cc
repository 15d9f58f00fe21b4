// What becomes of a request and its batch, on the I/O thread: delivered,
// written to the dead-letter file, failed back to the pipeline (which owns
// retries; later batches are held back so they cannot overtake it), or, for
// Elasticsearch items a 2xx _bulk answer rejected, sent again from here.
#include "agent/core/log.h"
#include "sinks/http/http_sink_impl.h"

namespace logship::sinks::http {
namespace {

namespace beast = boost::beast;

}  // namespace

void HttpSink::Impl::reject(RequestPtr req, unsigned status, const std::string& why) {
  const RecordSelection& records = req->records;
  std::vector<std::string_view> lines;
  lines.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) lines.push_back(req->job->batch->record(records[i]));
  write_dead_letters(*req->job, lines, status, why);
  finish(std::move(req));
}

/// Appends to the dead-letter file; false (job failed) if that fails.
bool HttpSink::Impl::write_dead_letters(Job& job, const std::vector<std::string_view>& lines, unsigned status,
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
void HttpSink::Impl::fail_request(RequestPtr req, const std::string& error,
                                  std::optional<std::chrono::milliseconds> after) {
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
void HttpSink::Impl::resend_items_later(RequestPtr req, const std::string& error) {
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
void HttpSink::Impl::hold_later_batches(const Job* failing, const std::string& error) {
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
    it = queue_.erase(it);  // with its body, if it had one
    job->failed = true;
    job->error = held_error_;
    job->retry_after.reset();
    if (job->encoding > 0) {
      // An encoding task still reads its batch: it goes back when the
      // task is done (on_encoded).
      job->returning = true;
      continue;
    }
    report_job(job);
  }
}

void HttpSink::Impl::give_up(RequestPtr req, const std::string& error) {
  hold_later_batches(req->job, error);
  req->job->failed = true;
  req->job->error = error;
  finish(std::move(req));
}

/// A request is done (delivered, dead-lettered or given up): frees its
/// slot, and reports its batch when it was the batch's last part.
void HttpSink::Impl::finish(RequestPtr req) {
  Job* job = req->job;
  req.reset();
  --slots_;
  in_flight_.store(slots_, std::memory_order_relaxed);
  if (--job->parts == 0) {
    // A part may still be encoding (a 413 half whose sibling was rejected
    // alone cannot, but the batch must never be released under a task).
    if (job->encoding > 0) job->returning = true;
    else report_job(job);
  }
  pump();
}

/// Reports a job's batch (kOk, or kRetry with its error and hint) and
/// forgets the job.
void HttpSink::Impl::report_job(Job* job) {
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

void HttpSink::Impl::mark_failing(const std::string& error) {
  std::lock_guard lock(reason_mu_);
  failing_ = "http endpoint failing: " + error;
}

void HttpSink::Impl::mark_healthy() {
  std::lock_guard lock(reason_mu_);
  if (!failing_.empty()) {
    log::info(kLog, "http endpoint answering again", {{"url", opt_.url.origin()}});
    failing_.clear();
  }
}

}  // namespace logship::sinks::http
