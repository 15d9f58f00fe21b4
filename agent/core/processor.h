#pragma once
// The processor stage: between framing and encoding, each record passes a
// chain of processors that may keep it, change it, drop it, or hold it to
// merge it with the records after it (multiline).
//
//   source -> framer -> [processor chain per source] -> encoder -> batcher
//
// A chain is built per source (file or stdin) by a ProcessorFactory, so a
// processor may hold per-file state (a multiline group, a token bucket) and
// may configure itself from the source (pod annotations override settings).
//
// Threading: a chain belongs to one source and is driven by the one worker
// thread that reads that source. Factories are shared and must be
// thread-safe (const).
//
// Checkpoints: a record that is dropped still moves its file's checkpoint
// (the drop is deliberate). A processor that holds records reports the
// commit offset of the oldest one it holds through held_offset(), and the
// source never commits past it, so a restart never splits a held group.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "agent/core/record.h"

namespace logship {

/// Where a processor hands the records it lets through (the next processor,
/// or the encoder at the end of the chain).
class RecordEmitter {
 public:
  virtual ~RecordEmitter() = default;
  virtual void emit(const Record& record) = 0;
};

/// Why held records are being flushed.
enum class FlushReason : uint8_t {
  kTimeout,   ///< deadline() passed with no new record
  kEndOfFile, ///< oneshot end of file, rotation or deletion: nothing more will come
  kShutdown,  ///< the agent is stopping
};

class Processor {
 public:
  virtual ~Processor() = default;

  /// Short name for logs and metrics ("multiline", "redact", ...).
  [[nodiscard]] virtual std::string_view name() const = 0;

  /// Takes one record; emits zero or more records through `next`. A changed
  /// record points its payload at bytes the processor owns, valid until the
  /// next call on this processor.
  virtual void process(const Record& record, RecordEmitter& next) = 0;

  /// Emits whatever is held. Called when deadline() passes, at end of file
  /// and at shutdown.
  virtual void flush(FlushReason reason, RecordEmitter& next) {
    (void)reason;
    (void)next;
  }

  /// When held records should be flushed if no record arrives before then.
  [[nodiscard]] virtual std::optional<std::chrono::steady_clock::time_point> deadline() const {
    return std::nullopt;
  }

  /// Commit offset of the oldest record held (not yet emitted), or nullopt
  /// when nothing is held.
  [[nodiscard]] virtual std::optional<uint64_t> held_offset() const { return std::nullopt; }
};

using ProcessorPtr = std::unique_ptr<Processor>;

/// Builds a source's processor. May return null: this source needs none
/// (e.g. multiline is off for its pod).
class ProcessorFactory {
 public:
  virtual ~ProcessorFactory() = default;
  [[nodiscard]] virtual ProcessorPtr create(const SourceInfo& source) const = 0;
};

using ProcessorFactories = std::vector<std::shared_ptr<const ProcessorFactory>>;

}  // namespace logship
