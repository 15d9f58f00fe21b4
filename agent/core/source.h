#pragma once
// The Source interface: where records come from (tailed files, standard
// input). A source reads, frames, and hands records and resume positions to
// a SourceOutput (the pipeline: processors -> encoder -> batcher); later,
// once the delivery tracker knows those records were acknowledged, it asks
// the source to make the positions durable (commit).
//
//   worker thread:  Source::run -> SourceOutput::on_record / on_position
//   tracker thread: Source::commit (acknowledged positions, in batch order)
//
// No third-party types; positions are FilePosition (agent/core/batch.h).

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "agent/core/batch.h"
#include "agent/core/record.h"
#include "agent/core/result.h"

namespace logship {

/// Implemented by the pipeline. Called only from the thread running
/// Source::run.
class SourceOutput {
 public:
  virtual ~SourceOutput() = default;

  /// Source `id` was opened. `recently_written`: the file changed in the last
  /// minute, so its pod may be new (worth a short wait for its metadata).
  virtual void on_source_opened(uint32_t id, const std::string& path, bool recently_written) = 0;
  /// One framed record of source `id`; the output sets record.source.
  virtual void on_record(uint32_t id, Record& record) = 0;
  /// Source `position.file_id` may resume at `position.offset` once every
  /// record emitted before this call is delivered.
  virtual void on_position(const FilePosition& position) = 0;
  /// Nothing more will come from source `id` for now (end of file in
  /// oneshot, rotation or deletion done, closed to make room): whatever the
  /// output holds for it is flushed. `position` is its final resume point.
  virtual void on_source_closed(uint32_t id, const FilePosition& position) = 0;
  /// Called regularly while the source runs (also while idle), for
  /// heartbeats, batch ages and processor deadlines.
  virtual void on_tick() = 0;
  /// The earliest time the output needs an on_tick call.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point next_deadline() const = 0;
  /// True when the source should stop reading (stop requested or a delivery
  /// failed for good).
  [[nodiscard]] virtual bool should_stop() const = 0;
};

class Source {
 public:
  virtual ~Source() = default;

  /// Reads until end of input (oneshot, stdin) or until out.should_stop()
  /// (follow). Runs on the calling thread. An error if some input could not
  /// be read (everything else was still read).
  [[nodiscard]] virtual Result<void> run(SourceOutput& out) = 0;

  /// Makes acknowledged positions durable. Called from the delivery
  /// tracker's thread, in batch order, never concurrently with itself.
  [[nodiscard]] virtual Result<void> commit(std::span<const FilePosition> positions) = 0;

  /// Wakes a run() blocked waiting for input (a stop was requested). Any thread.
  virtual void wake() = 0;

  /// Whether positions mean anything (false for a stream such as stdin).
  [[nodiscard]] virtual bool checkpointed() const { return true; }
};

}  // namespace logship
