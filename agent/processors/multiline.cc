#include "agent/processors/multiline.h"

#include <algorithm>

#include "agent/core/log.h"

namespace logship::processors {
namespace {

// Records promise 64 readable bytes after the payload (in-place JSON parsing).
constexpr size_t kPadding = 64;
constexpr char kEmptyPadded[kPadding] = {};
// Group buffer capacity kept between groups.
constexpr size_t kKeepCapacity = 64 << 10;

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

/// JSON records never join: the encoder's verdict when it has one, else the
/// shape ("{...}"), so an application's JSON line after a trace is not glued on.
bool is_json(const Record& r) {
  if (r.kind == PayloadKind::kJsonObject) return true;
  std::string_view p = r.payload;
  while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.remove_prefix(1);
  while (!p.empty() && (p.back() == ' ' || p.back() == '\t' || p.back() == '\r')) p.remove_suffix(1);
  return p.size() >= 2 && p.front() == '{' && p.back() == '}';
}

}  // namespace

MultilineProcessor::MultilineProcessor(const MultilineOptions& options, std::shared_ptr<MultilineStats> stats)
    : opt_(options), stats_(std::move(stats)) {
  if (!stats_) stats_ = std::make_shared<MultilineStats>();
}

size_t MultilineProcessor::slot(std::string_view stream) {
  if (stream == "stdout") return 0;
  if (stream == "stderr") return 1;
  return 2;
}

std::chrono::steady_clock::time_point MultilineProcessor::now() const {
  return opt_.clock ? opt_.clock() : std::chrono::steady_clock::now();
}

void MultilineProcessor::process(const Record& r, RecordEmitter& next) {
  const uint64_t resume = prev_commit_;
  prev_commit_ = r.commit_offset;
  const auto t = now();
  Group& g = groups_[slot(r.stream)];
  // Another stream's group whose time is up ends now, before this record
  // (flush(kTimeout) may come later than its deadline on a busy file).
  for (Group& other : groups_) {
    if (&other != &g && other.active && t - other.last >= opt_.timeout) {
      if (other.lines > 1) stats_->ended_by_timeout.fetch_add(1, std::memory_order_relaxed);
      end(other, next);
    }
  }
  if (is_json(r)) {
    if (g.active) end(g, next);
    forward(r, next);
    return;
  }
  if (g.active) {
    switch (continues(opt_.langs, r.payload, g.state)) {
      case Continuation::kMaybe:
        g.blanks.push_back({std::string(r.ts), r.commit_offset});
        g.last = t;
        return;
      case Continuation::kYes: {
        const size_t need = g.text.size() + g.blanks.size() + 1 + r.payload.size();
        if (need <= opt_.max_record_bytes) {
          append(g, r);
          g.last = t;
          return;
        }
        // The trace is cut here: it ships marked truncated, this line starts
        // the next group, nothing is dropped.
        g.truncated = true;
        stats_->ended_by_size.fetch_add(1, std::memory_order_relaxed);
        end(g, next);
        break;
      }
      case Continuation::kNo: end(g, next); break;
    }
  }
  if (is_blank(r.payload)) {
    forward(r, next);  // a blank line starts nothing
    return;
  }
  start(g, r, resume);
  g.last = t;
}

void MultilineProcessor::start(Group& g, const Record& r, uint64_t resume) {
  g.active = true;
  start_group(opt_.langs, r.payload, g.state);
  g.ts.assign(r.ts);
  g.stream.assign(r.stream);
  g.text.assign(r.payload);
  g.lines = 1;
  g.truncated = r.truncated;
  g.partial = r.partial;
  g.commit_offset = r.commit_offset;
  g.resume_offset = resume;
  g.source = r.source;
  g.blanks.clear();
}

void MultilineProcessor::append(Group& g, const Record& r) {
  // Blank lines held as "maybe" belong to the trace after all.
  g.text.append(g.blanks.size(), '\n');
  g.lines += g.blanks.size();
  g.blanks.clear();
  g.text += '\n';
  g.text.append(r.payload);
  ++g.lines;
  g.truncated |= r.truncated;
  g.partial |= r.partial;
  g.commit_offset = r.commit_offset;
}

void MultilineProcessor::emit(Group& g, RecordEmitter& next) {
  if (!g.active) return;
  g.active = false;
  if (g.lines > 1) {
    stats_->groups_joined.fetch_add(1, std::memory_order_relaxed);
    stats_->lines_joined.fetch_add(g.lines - 1, std::memory_order_relaxed);
  }
  g.text.reserve(g.text.size() + kPadding);
  Record out;
  out.ts = g.ts;
  out.stream = g.stream;
  out.payload = g.text;
  out.kind = PayloadKind::kText;
  out.truncated = g.truncated;
  out.partial = g.partial;
  out.commit_offset = g.commit_offset;
  out.source = g.source;
  forward(out, next);
  // Thousands of followed files may each have held one big trace once.
  if (g.text.capacity() > kKeepCapacity) std::string().swap(g.text);
}

void MultilineProcessor::emit_blanks(Group& g, RecordEmitter& next) {
  for (const Group::Blank& b : g.blanks) {
    Record out;
    out.ts = b.ts;
    out.stream = g.stream;
    out.payload = std::string_view(kEmptyPadded, 0);
    out.commit_offset = b.commit_offset;
    out.source = g.source;
    forward(out, next);
  }
  g.blanks.clear();
}

void MultilineProcessor::forward(const Record& r, RecordEmitter& next) {
  // Records leave in another order than the file's when a stream's group is
  // held while the other stream's lines go by: a record's commit offset
  // must not pass the start of a group still held, or committing it (once
  // it and everything emitted before it is delivered) would skip the group.
  const auto held = held_offset();
  if (!held || r.commit_offset <= *held) {
    next.emit(r);
    return;
  }
  Record clamped = r;
  clamped.commit_offset = *held;
  next.emit(clamped);
}

void MultilineProcessor::flush(FlushReason reason, RecordEmitter& next) {
  const auto t = now();
  while (true) {
    // Oldest group first, so records keep file order.
    Group* pick = nullptr;
    for (Group& g : groups_) {
      if (!g.active) continue;
      if (reason == FlushReason::kTimeout && t - g.last < opt_.timeout) continue;
      if (pick == nullptr || g.resume_offset < pick->resume_offset) pick = &g;
    }
    if (pick == nullptr) return;
    if (reason == FlushReason::kTimeout && pick->lines > 1) {
      stats_->ended_by_timeout.fetch_add(1, std::memory_order_relaxed);
    }
    end(*pick, next);
  }
}

std::optional<std::chrono::steady_clock::time_point> MultilineProcessor::deadline() const {
  std::optional<std::chrono::steady_clock::time_point> d;
  for (const Group& g : groups_) {
    if (g.active && (!d || g.last + opt_.timeout < *d)) d = g.last + opt_.timeout;
  }
  return d;
}

std::optional<uint64_t> MultilineProcessor::held_offset() const {
  std::optional<uint64_t> held;
  for (const Group& g : groups_) {
    if (g.active && (!held || g.resume_offset < *held)) held = g.resume_offset;
  }
  return held;
}

ProcessorPtr MultilineFactory::create(const SourceInfo& source) const {
  MultilineOptions o = opt_;
  if (source.annotations) {
    const auto it = source.annotations->find(std::string(kAnnotation));
    if (it != source.annotations->end()) {
      auto langs = parse_multiline(it->second);
      if (langs) {
        o.langs = *langs;
      } else {
        // The pod's setting is wrong, not the agent's: keep the configured rules.
        log::warn("multiline", "ignoring the pod's multiline annotation",
                  {{"namespace", source.namespace_name}, {"pod", source.pod}, {"error", langs.error()}});
      }
    }
  }
  if (o.langs == 0) return nullptr;
  return std::make_unique<MultilineProcessor>(o, stats_);
}

}  // namespace logship::processors
