#pragma once
// Private to the HTTP sink: the threads that encode and compress request
// bodies, so the sink's I/O thread only writes ready bytes and reads
// replies. Encoding a 1 MiB batch and compressing it takes milliseconds
// (gzip most); on the I/O thread that time stalled every connection, and
// one I/O thread capped the sink at one core's compression speed.
//
// Why threads of the sink rather than the caller of Sink::send: the
// pipeline serialises send() (one call at a time, under its own lock), so
// compressing there would serialise every encode worker behind one lock and
// stall the batcher; and the sink needs bodies the pipeline never asks for
// (the halves of a request split after a 413, Elasticsearch items sent
// again), which must not be compressed on the I/O thread either.
//
// Each thread owns its Encoder, its Compressor (one libdeflate compressor
// or ZSTD_CCtx, reused for every body) and its scratch buffers. A body is
// copied out of the compress-bound scratch at its real size, so a body kept
// for a retry pins only its own bytes.
//
// A task reads its Batch while it runs; the sink must not report (release)
// a batch whose task has not called back (HttpSink::Impl counts them per
// job). stop() drops tasks not started and joins: after it returns, no
// callback runs.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/batch.h"
#include "agent/core/result.h"
#include "sinks/codec/compressor.h"
#include "sinks/http/formats.h"

namespace logship::sinks::http::detail {

/// What a task produced.
struct EncodedBody {
  Result<void> status;  ///< an error only if encoding or compression failed (cannot happen with valid state)
  std::string body;     ///< compressed, at its real size
  size_t raw_size = 0;  ///< uncompressed body size
};

class BodyWorkers {
 public:
  /// Called on a worker thread when a task is done; it must only hand the
  /// result over (post it to the I/O thread), not block.
  using Done = std::function<void(EncodedBody&&)>;

  BodyWorkers(HttpFormat format, std::string index_template, codec::Codec codec, unsigned threads);
  ~BodyWorkers();
  BodyWorkers(const BodyWorkers&) = delete;
  BodyWorkers& operator=(const BodyWorkers&) = delete;

  [[nodiscard]] unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

  /// Queues the encoding of `records` of `batch`; `done` gets the body.
  /// Tasks start in submission order.
  void submit(const Batch& batch, RecordSelection records, Done done);

  /// Drops the tasks not started, waits for the running ones (their `done`
  /// is called) and joins. Idempotent.
  void stop();

  /// Threads for a process that may use `cpus` CPUs: one per CPU, 1 to 4.
  /// Compression is most of the sink's CPU (gzip about 60% of the whole
  /// process at level 1), so it must be able to use every core the
  /// pipeline's workers leave idle; an idle thread costs nothing.
  [[nodiscard]] static unsigned default_threads(unsigned cpus);

 private:
  struct Task {
    const Batch* batch;
    RecordSelection records;
    Done done;
  };
  void run();

  HttpFormat format_;
  std::string index_template_;
  codec::Codec codec_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace logship::sinks::http::detail
