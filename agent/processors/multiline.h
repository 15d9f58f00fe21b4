#pragma once
// The multiline processor: joins plain-text stack traces (Java, Python, Go,
// Ruby, Node, .NET) into one record, by the hand-written rules of
// multiline_rules.h.
//
// One group per stream (stdout, stderr, unknown): a line of the other stream
// in the middle of a trace neither joins nor ends it. Only text records join;
// a JSON record never does (it ends its stream's group). A group ends at the
// first line that does not continue it, when timeout passes with no new line
// (flush(kTimeout), deadline()), when the next line would push it past
// max_record_bytes (the group ships marked truncated, the line starts the
// next group: nothing is dropped), and at end of file/shutdown (flush).
//
// The joined payload keeps the lines separated by '\n'; ts, stream and
// source are the first line's; commit_offset is the last line's.
//
// Checkpoints: held_offset() is the commit offset of the record before the
// oldest held group's first line (resuming there re-reads the whole group),
// so a restart never splits a trace. See held_offset(). Records emitted
// while another stream's group is held carry a commit offset no further
// than that group's start, so the order of emission never matters.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/processor.h"
#include "agent/processors/multiline_rules.h"

namespace logship::processors {

/// Metrics, shared by every multiline processor of the agent.
struct MultilineStats {
  std::atomic<uint64_t> groups_joined{0};     ///< records made of two lines or more
  std::atomic<uint64_t> lines_joined{0};      ///< lines appended to a group (after its first)
  std::atomic<uint64_t> ended_by_timeout{0};  ///< joined groups shipped because no line came in time
  std::atomic<uint64_t> ended_by_size{0};     ///< groups shipped because the next line did not fit
};

struct MultilineOptions {
  LangSet langs = 0;                     ///< LOGSHIP_MULTILINE
  std::chrono::milliseconds timeout{1000};  ///< LOGSHIP_MULTILINE_TIMEOUT_MS
  size_t max_record_bytes = 1 << 20;     ///< LOGSHIP_MAX_RECORD_BYTES
  std::function<std::chrono::steady_clock::time_point()> clock;  ///< null: steady_clock::now
};

class MultilineProcessor final : public Processor {
 public:
  MultilineProcessor(const MultilineOptions& options, std::shared_ptr<MultilineStats> stats);

  std::string_view name() const override { return "multiline"; }
  void process(const Record& record, RecordEmitter& next) override;
  void flush(FlushReason reason, RecordEmitter& next) override;
  std::optional<std::chrono::steady_clock::time_point> deadline() const override;
  /// The commit offset of the record that came before the oldest held
  /// group's first line: committing it keeps the whole group to be re-read.
  /// (The held first line's own commit_offset would mark that line as
  /// delivered and lose it on restart.) Before any record passed ahead of a
  /// held group (the source's first record), 0: conservative.
  std::optional<uint64_t> held_offset() const override;

  [[nodiscard]] LangSet langs() const { return opt_.langs; }

 private:
  struct Group {
    bool active = false;
    TraceState state;
    std::string ts;
    std::string stream;
    std::string text;
    size_t lines = 0;
    bool truncated = false;
    bool partial = false;
    uint64_t commit_offset = 0;   // the last line's
    uint64_t resume_offset = 0;   // before the first line
    const SourceInfo* source = nullptr;
    std::chrono::steady_clock::time_point last{};
    // Blank lines that may belong to the group (kMaybe), not yet joined.
    struct Blank {
      std::string ts;
      uint64_t commit_offset;
    };
    std::vector<Blank> blanks;
  };

  static size_t slot(std::string_view stream);
  std::chrono::steady_clock::time_point now() const;
  void start(Group& g, const Record& r, uint64_t resume);
  void append(Group& g, const Record& r);
  void emit(Group& g, RecordEmitter& next);
  void emit_blanks(Group& g, RecordEmitter& next);
  void forward(const Record& r, RecordEmitter& next);
  void end(Group& g, RecordEmitter& next) {
    emit(g, next);
    emit_blanks(g, next);
  }

  MultilineOptions opt_;
  std::shared_ptr<MultilineStats> stats_;
  Group groups_[3];
  // Commit offset of the record before the current one (in input order):
  // the resume point of a group that starts at the current one.
  uint64_t prev_commit_ = 0;
};

/// Builds a multiline processor per source: the configured rules, or the
/// pod's `logship.io/multiline` annotation (same values) when it has one.
/// Returns null when the rules come out "off".
class MultilineFactory final : public ProcessorFactory {
 public:
  MultilineFactory(MultilineOptions options, std::shared_ptr<MultilineStats> stats)
      : opt_(std::move(options)), stats_(std::move(stats)) {}
  ProcessorPtr create(const SourceInfo& source) const override;
  [[nodiscard]] const MultilineStats& stats() const { return *stats_; }

  static constexpr std::string_view kAnnotation = "logship.io/multiline";

 private:
  MultilineOptions opt_;
  std::shared_ptr<MultilineStats> stats_;
};

}  // namespace logship::processors
