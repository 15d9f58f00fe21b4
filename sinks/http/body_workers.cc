#include "sinks/http/body_workers.h"

#include <pthread.h>

#include <algorithm>
#include <optional>

namespace logship::sinks::http::detail {

BodyWorkers::BodyWorkers(HttpFormat format, std::string index_template, codec::Codec codec, unsigned threads)
    : format_(format), index_template_(std::move(index_template)), codec_(codec) {
  threads = std::max(1u, threads);
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

BodyWorkers::~BodyWorkers() { stop(); }

unsigned BodyWorkers::default_threads(unsigned cpus) { return std::clamp(cpus, 1u, 4u); }

void BodyWorkers::submit(const Batch& batch, RecordSelection records, Done done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // the sink is shutting down: its batches are reported as they are
    tasks_.push_back(Task{&batch, std::move(records), std::move(done)});
  }
  cv_.notify_one();
}

void BodyWorkers::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    tasks_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void BodyWorkers::run() {
  // Named for top -H and perf report --sort comm.
  pthread_setname_np(pthread_self(), "http-encode");
  // Per thread, reused for every body: the format's encoder, the
  // compressor's context, the uncompressed body and the compress-bound
  // scratch.
  Encoder encoder(format_, index_template_);
  codec::CompressorPtr compressor = codec::make_compressor(codec_);
  std::string raw;
  std::string scratch;
  for (;;) {
    std::optional<Task> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping
      task.emplace(std::move(tasks_.front()));
      tasks_.pop_front();
    }
    const Batch& batch = *task->batch;
    EncodedBody out;
    // A whole batch in NDJSON is its own body: compressed from the batch's
    // bytes, never copied first (the common, hot case).
    const bool as_is = format_ == HttpFormat::kNdjson && task->records.whole(batch.record_count());
    if (!as_is) out.status = encoder.encode(batch, task->records, raw);
    const std::string_view in = as_is ? std::string_view(batch.data()) : std::string_view(raw);
    if (out.status) out.status = compressor->compress(in, scratch);
    if (out.status) {
      out.body.assign(scratch);
      out.raw_size = in.size();
    }
    // Keep the scratch buffers from pinning the largest body ever seen.
    if (raw.capacity() > (8u << 20)) std::string().swap(raw);
    if (scratch.capacity() > (8u << 20)) std::string().swap(scratch);
    task->done(std::move(out));
  }
}

}  // namespace logship::sinks::http::detail
