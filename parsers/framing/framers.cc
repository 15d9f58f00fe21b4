// The line framer: CRI, docker json-file, raw, and per-line auto-detection.
//
// With Format::kAuto every line is classified on its own (CRI prefix, docker
// envelope, else text), so mixed files and files whose first line is torn
// work. Partial lines are joined per (format, stream): a line of another
// format, or a text line, between two partials neither joins nor breaks
// them. Partials that wait longer than the partial timeout are shipped by
// expire(), marked partial. Records that fit on one line are passed through
// as views into the reader's buffer, without a copy.

#include <algorithm>
#include <array>

#include "agent/core/log.h"
#include "parsers/framing/cri_prefix.h"
#include "parsers/framing/docker_line.h"
#include "parsers/framing/framer.h"
#include "parsers/framing/partial_join.h"
#include "parsers/framing/timestamps.h"

namespace logship::framing {
namespace {

// Join slots: (format, stream).
constexpr size_t kCriJoins = 0;
constexpr size_t kDockerJoins = 2;
constexpr size_t kJoinSlots = 4;

size_t stream_index(std::string_view stream) { return stream == "stderr" ? 1 : 0; }
std::string_view stream_name(size_t slot) { return slot % 2 == 1 ? "stderr" : "stdout"; }

MalformedFormat label(Format f) {
  switch (f) {
    case Format::kCri: return MalformedFormat::kCri;
    case Format::kDocker: return MalformedFormat::kDocker;
    case Format::kRaw: return MalformedFormat::kRaw;
    case Format::kAuto: break;
  }
  return MalformedFormat::kAuto;
}

class LineFramer final : public Framer {
 public:
  explicit LineFramer(const FramerOptions& o)
      : mode_(o.format),
        max_(o.max_record_bytes),
        timeout_(o.partial_timeout),
        clock_(o.clock),
        counters_(o.counters != nullptr ? o.counters : &own_counters_),
        path_(o.path),
        shaper_(o.timestamp_format) {}

  void on_line(const Line& line, FrameHandler& handler) override {
    if (resume_check_) confirm_resume(line.text);
    // Partials that waited too long go first, even if the caller only calls
    // expire() when the file is idle: a busy other stream does not keep
    // them (and the checkpoint) waiting.
    if (pending_ > 0) expire(now(), line.begin, handler);
    if (mode_ == Format::kRaw) {
      // Forced raw keeps its meaning: every line a record, empty ones too.
      last_ = Format::kRaw;
      emit_text(line, "stdout", handler);
      return;
    }
    if (strip_cr(line.text).empty()) {
      note(label(mode_), MalformedReason::kEmptyLine, line.begin);
      return;
    }
    if (mode_ != Format::kDocker && try_cri(line, handler)) return;
    if (mode_ != Format::kCri && try_docker(line, handler)) return;
    if (mode_ == Format::kCri) {
      note(MalformedFormat::kCri, MalformedReason::kNoPrefix, line.begin);
      emit_text(line, {}, handler);
      return;
    }
    // Auto: plain text. A file that had container lines has no business
    // with text lines: count them, and ship them without a stream.
    if (looks_like_torn_docker(strip_cr(line.text))) {
      note(MalformedFormat::kDocker, MalformedReason::kTorn, line.begin);
      emit_text(line, {}, handler);
      return;
    }
    if (seen_container_) {
      note(MalformedFormat::kAuto, MalformedReason::kUnframed, line.begin);
      emit_text(line, {}, handler);
      return;
    }
    last_ = Format::kRaw;
    emit_text(line, "stdout", handler);
  }

  void finish(uint64_t end_offset, FrameHandler& handler) override {
    // Older partials first so records keep file order.
    while (const PartialJoin* j = oldest()) {
      const size_t slot = static_cast<size_t>(j - joins_.data());
      note(slot < kDockerJoins ? MalformedFormat::kCri : MalformedFormat::kDocker, MalformedReason::kPartialFlushed,
           j->begin);
      emit_join(slot, end_offset, true, handler);
    }
  }

  uint64_t safe_offset(uint64_t consumed) const override {
    uint64_t safe = consumed;
    for (const PartialJoin& j : joins_) {
      if (j.active) safe = std::min(safe, j.begin);
    }
    return safe;
  }

  void set_read_time(std::string_view ts) override { read_time_.assign(ts); }
  Format format() const override { return last_; }

  std::optional<SteadyTime> pending_since() const override {
    std::optional<SteadyTime> since;
    for (const PartialJoin& j : joins_) {
      if (j.active && (!since || j.last < *since)) since = j.last;
    }
    return since;
  }

  std::optional<SteadyTime> partial_deadline() const override {
    const auto since = pending_since();
    if (!since) return std::nullopt;
    return *since + timeout_;
  }

  size_t expire(SteadyTime now, uint64_t consumed, FrameHandler& handler) override {
    size_t shipped = 0;
    while (true) {
      // Oldest-first among the expired ones, to keep file order.
      size_t pick = kJoinSlots;
      for (size_t s = 0; s < kJoinSlots; ++s) {
        const PartialJoin& j = joins_[s];
        if (j.active && now - j.last >= timeout_ && (pick == kJoinSlots || j.begin < joins_[pick].begin)) pick = s;
      }
      if (pick == kJoinSlots) return shipped;
      note(pick < kDockerJoins ? MalformedFormat::kCri : MalformedFormat::kDocker, MalformedReason::kPartialExpired,
           joins_[pick].begin);
      emit_join(pick, consumed, true, handler);
      ++shipped;
    }
  }

  const MalformedCounters& counters() const override { return *counters_; }

  void resume_after(std::string_view preceding, bool from_file_start, size_t max_line_bytes) override {
    skip_.fill(false);
    size_t pos = 0;
    if (!from_file_start) {
      // The first line began before the window: its head, and so its
      // format and flag, is unknown.
      const size_t nl = preceding.find('\n');
      if (nl == std::string_view::npos) return;
      pos = nl + 1;
    }
    std::string scratch;
    while (pos < preceding.size()) {
      size_t end = preceding.find('\n', pos);
      if (end == std::string_view::npos) end = preceding.size();  // a last line the reader's finish() delivered
      std::string_view text = preceding.substr(pos, end - pos);
      if (text.size() >= max_line_bytes) text = text.substr(0, max_line_bytes);  // as the reader cut it
      size_t slot = 0;
      bool partial = false;
      if (classify(text, scratch, slot, partial)) skip_[slot] = partial;
      pos = end + 1;
    }
    resume_check_ = std::find(skip_.begin(), skip_.end(), true) != skip_.end();
  }

 private:
  /// The first line at the resume offset X tells why a record that began
  /// before X was delivered. A checkpoint inside a pending record is only
  /// ever held back by another stream's partial that starts at X, so if the
  /// line at X is not a partial, or is one of that same stream, the record
  /// was shipped unfinished (expired or flushed) and the original read
  /// shipped what followed as records of their own: do the same, skip
  /// nothing for it.
  void confirm_resume(std::string_view first) {
    resume_check_ = false;
    std::string scratch;
    size_t slot = 0;
    bool partial = false;
    if (classify(first, scratch, slot, partial) && partial) {
      skip_[slot] = false;
    } else {
      skip_.fill(false);
    }
  }

  /// The join slot a line frames into and whether it is a partial, as
  /// on_line would decide; false for lines that never join (text, odd or
  /// empty lines). Resume only: copies docker lines for padding.
  bool classify(std::string_view text, std::string& scratch, size_t& slot, bool& partial) {
    if (mode_ == Format::kRaw || strip_cr(text).empty()) return false;
    if (mode_ != Format::kDocker) {
      CriPrefix p;
      if (parse_cri_prefix(text, p)) {
        if (!parse_rfc3339(p.ts)) return false;
        seen_container_ = true;
        slot = kCriJoins + stream_index(p.stream);
        partial = p.partial;
        return true;
      }
    }
    if (mode_ == Format::kCri || (mode_ == Format::kAuto && !looks_like_docker(text))) return false;
    scratch.assign(text);
    scratch.append(json::kPadding, '\0');
    DockerLine d;
    if (docker_.parse(std::string_view(scratch.data(), text.size()), d) != DockerVerdict::kOk) return false;
    seen_container_ = true;
    slot = kDockerJoins + stream_index(d.stream);
    partial = d.partial;
    return true;
  }

  /// A CRI line: framed and true. A CRI-shaped line with a bad time:
  /// shipped as text, counted, true. Otherwise false.
  bool try_cri(const Line& line, FrameHandler& handler) {
    CriPrefix p;
    if (!parse_cri_prefix(line.text, p)) return false;
    const auto t = parse_rfc3339(p.ts);
    if (!t) {
      note(MalformedFormat::kCri, MalformedReason::kBadTimestamp, line.begin);
      emit_text(line, {}, handler);
      return true;
    }
    seen_container_ = true;
    last_ = Format::kCri;
    on_chunk(line, shaper_.shape(p.ts, *t), kCriJoins + stream_index(p.stream), p.payload, {}, p.partial, handler);
    return true;
  }

  bool try_docker(const Line& line, FrameHandler& handler) {
    if (mode_ == Format::kAuto && !looks_like_docker(line.text)) return false;
    DockerLine d;
    MalformedReason reason = MalformedReason::kBadEnvelope;
    const DockerVerdict verdict = docker_.parse(line.text, d);
    switch (verdict) {
      case DockerVerdict::kOk:
        seen_container_ = true;
        last_ = Format::kDocker;
        on_chunk(line, shaper_.shape(d.time, d.parsed_time), kDockerJoins + stream_index(d.stream), d.log, d.attrs,
                 d.partial, handler);
        return true;
      case DockerVerdict::kNotJson:
      case DockerVerdict::kNoLog:
      case DockerVerdict::kBadEnvelope:
        // Auto: without a string log and a stream it is an application's
        // own JSON line (which may well have a "log" key): plain text.
        if (mode_ == Format::kAuto) return false;
        // The same torn tail (not JSON: its head is gone) is counted as
        // torn whatever the mode.
        reason = verdict == DockerVerdict::kNotJson && looks_like_torn_docker(strip_cr(line.text))
                     ? MalformedReason::kTorn
                     : MalformedReason::kBadEnvelope;
        break;
      case DockerVerdict::kBadTimestamp: reason = MalformedReason::kBadTimestamp; break;
    }
    note(MalformedFormat::kDocker, reason, line.begin);
    emit_text(line, {}, handler);
    return true;
  }

  /// One framed chunk for join slot `slot`: a partial (more follows) or the
  /// last piece of a record.
  void on_chunk(const Line& line, std::string_view ts, size_t slot, std::string_view chunk, std::string_view attrs,
                bool partial, FrameHandler& handler) {
    if (skip_[slot]) {
      // The rest of a record delivered before the resume offset.
      if (!partial) skip_[slot] = false;
      note(slot < kDockerJoins ? MalformedFormat::kCri : MalformedFormat::kDocker, MalformedReason::kResumeSkipped,
           line.begin);
      return;
    }
    PartialJoin& join = joins_[slot];
    if (!partial && !join.active) {
      // Whole record on one line: pass the bytes through.
      bool cut = line.cut;
      Frame f;
      f.ts = ts;
      f.stream = stream_name(slot);
      f.payload = strip_cr(cap(chunk, max_, cut));
      f.truncated = cut;
      f.attrs = attrs;
      f.commit_offset = safe_offset(line.end);
      handler.on_frame(f);
      return;
    }
    if (!join.active) {
      join.start(line.begin, ts, attrs);
      ++pending_;
    }
    join.append(chunk, line.cut, max_);
    if (!partial) {
      // A cut last line has end == begin (the reader is still skipping its
      // rest): committing there would put the checkpoint inside this record,
      // and a restart would ship the last line alone. Commit the record's
      // start instead: a restart re-reads and re-ships it whole (a
      // duplicate, never a fragment). The next frame, read after the skip,
      // carries an offset past the line.
      emit_join(slot, line.cut ? join.begin : line.end, false, handler);
    } else {
      join.last = now();
    }
  }

  void emit_join(size_t slot, uint64_t end, bool unfinished, FrameHandler& handler) {
    PartialJoin& join = joins_[slot];
    Frame f;
    f.ts = join.ts;
    f.stream = stream_name(slot);
    f.truncated = join.truncated;
    f.partial = unfinished;
    f.attrs = join.attrs;
    f.payload = join.finish();
    --pending_;
    f.commit_offset = safe_offset(end);
    handler.on_frame(f);
    // Thousands of followed files may each have joined one big record once;
    // do not keep that much memory per file.
    if (join.text.capacity() > kKeepJoinCapacity) std::string().swap(join.text);
  }

  /// A line shipped whole as text with the read time: it does not follow
  /// the format, or is plain text.
  void emit_text(const Line& line, std::string_view stream, FrameHandler& handler) {
    bool cut = line.cut;
    Frame f;
    f.ts = read_time_;
    f.stream = stream;
    f.payload = strip_cr(cap(line.text, max_, cut));
    f.truncated = cut;
    f.commit_offset = safe_offset(line.end);
    handler.on_frame(f);
  }

  SteadyTime now() const { return clock_ ? clock_() : std::chrono::steady_clock::now(); }

  const PartialJoin* oldest() const {
    const PartialJoin* best = nullptr;
    for (const PartialJoin& j : joins_) {
      if (j.active && (best == nullptr || j.begin < best->begin)) best = &j;
    }
    return best;
  }

  void note(MalformedFormat f, MalformedReason r, uint64_t offset) {
    counters_->add(f, r);
    // The file and offset only: never the line's content. Checked first so
    // a file full of odd lines builds no log fields at info level.
    if (log::enabled(log::Level::kDebug)) {
      log::debug("framing", "odd input line",
                 {{"path", path_}, {"offset", offset}, {"format", malformed_format_name(f)},
                  {"reason", malformed_reason_name(r)}});
    }
  }

  const Format mode_;
  const size_t max_;
  const std::chrono::milliseconds timeout_;
  const std::function<SteadyTime()> clock_;
  MalformedCounters own_counters_;
  MalformedCounters* counters_;
  const std::string path_;
  TimestampShaper shaper_;
  DockerLineParser docker_;
  std::array<PartialJoin, kJoinSlots> joins_;
  // Per join slot: after resume_after, skip this stream's lines up to and
  // including the one that ends the record begun before the resume offset.
  std::array<bool, kJoinSlots> skip_{};
  bool resume_check_ = false;  // confirm_resume() on the next line
  std::string read_time_;
  Format last_ = Format::kAuto;
  bool seen_container_ = false;
  size_t pending_ = 0;  // active joins
};

}  // namespace

Format detect_format(std::string_view line) {
  line = strip_cr(line);
  CriPrefix p;
  if (parse_cri_prefix(line, p)) return parse_rfc3339(p.ts) ? Format::kCri : Format::kRaw;
  if (looks_like_docker(line)) {
    // Not on the data path (framers classify lines themselves): a padded copy is fine.
    std::string padded(line);
    padded.append(json::kPadding, '\0');
    DockerLineParser parser;
    DockerLine d;
    if (parser.parse(std::string_view(padded.data(), line.size()), d) == DockerVerdict::kOk) return Format::kDocker;
  }
  return Format::kRaw;
}

FramerPtr make_framer(const FramerOptions& options) { return std::make_unique<LineFramer>(options); }

FramerPtr make_framer(Format format, size_t max_record_bytes) {
  FramerOptions o;
  o.format = format;
  o.max_record_bytes = max_record_bytes;
  return make_framer(o);
}

}  // namespace logship::framing
