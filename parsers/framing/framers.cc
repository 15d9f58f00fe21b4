// CRI, docker json-file and raw framers, and format auto-detection.
//
// The three share the partial-line joining logic (PartialJoin): a record
// split over several lines of one stream is rebuilt in a per-stream buffer,
// capped at max_record_bytes. Records that fit on one line are passed
// through as views into the reader's buffer, without a copy.

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "parsers/framing/cri_prefix.h"
#include "parsers/framing/framer.h"
#include "parsers/json/json_string.h"
#include "parsers/json/payload_parser.h"

namespace logship::framing {
namespace {

static_assert(json::kPadding >= simdjson::SIMDJSON_PADDING);

// Join buffer capacity kept per stream between records.
constexpr size_t kKeepJoinCapacity = 64 << 10;

/// One docker-line parser per thread, shared by every docker file that thread
/// reads: a parser keeps buffers sized to the longest line it has seen, too
/// much to keep per file when following thousands of files.
simdjson::dom::parser& docker_line_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::string_view strip_cr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

/// Cuts `s` to at most `max` bytes on a UTF-8 boundary; sets `cut` if it did.
std::string_view cap(std::string_view s, size_t max, bool& cut) {
  if (s.size() <= max) return s;
  cut = true;
  return s.substr(0, json::utf8_cut(s, max));
}

/// One stream's record being rebuilt from partial lines.
struct PartialJoin {
  bool active = false;
  bool truncated = false;
  bool full = false;      // reached the cap: further chunks are discarded
  uint64_t begin = 0;     // file offset of the record's first line
  std::string ts;         // timestamp of the first chunk
  std::string text;

  void start(uint64_t offset, std::string_view first_ts) {
    active = true;
    truncated = false;
    full = false;
    begin = offset;
    ts.assign(first_ts);
    text.clear();
  }

  void append(std::string_view chunk, bool chunk_cut, size_t max) {
    truncated |= chunk_cut;
    if (full) return;
    const size_t room = max - text.size();
    if (chunk.size() <= room) {
      text.append(chunk);
      return;
    }
    // Cut where the record would exceed the cap, on a character boundary
    // of the joined text (a chunk boundary may split a character).
    text.append(chunk.substr(0, room));
    text.resize(json::utf8_cut(text, max));
    truncated = true;
    full = true;
  }

  /// The joined record, padded for in-place JSON parsing.
  std::string_view finish() {
    active = false;
    text.reserve(text.size() + json::kPadding);
    return strip_cr(text);
  }
};

/// Shared state of the line framers: two streams' partial joins.
class JoiningFramer : public Framer {
 public:
  explicit JoiningFramer(size_t max_record_bytes) : max_(max_record_bytes) {}

  uint64_t safe_offset(uint64_t consumed) const override {
    uint64_t safe = consumed;
    for (const PartialJoin& j : joins_) {
      if (j.active) safe = std::min(safe, j.begin);
    }
    return safe;
  }

  void finish(uint64_t end_offset, FrameHandler& handler) override {
    // Emit older partials first so records keep file order.
    std::array<size_t, 2> order{0, 1};
    if (joins_[1].active && (!joins_[0].active || joins_[1].begin < joins_[0].begin)) {
      order = {1, 0};
    }
    for (size_t idx : order) {
      if (joins_[idx].active) emit_join(idx, end_offset, handler);
    }
  }

 protected:
  static size_t stream_index(std::string_view stream) { return stream == "stderr" ? 1 : 0; }
  static std::string_view stream_name(size_t idx) { return idx == 1 ? "stderr" : "stdout"; }

  /// One framed chunk of stream `idx`: a partial (more follows) or the last
  /// piece of a record.
  void on_chunk(const Line& line, std::string_view ts, size_t idx, std::string_view chunk,
                bool partial, FrameHandler& handler) {
    PartialJoin& join = joins_[idx];
    if (!partial && !join.active) {
      // Whole record on one line: pass the reader's bytes through.
      bool cut = line.cut;
      Frame f;
      f.ts = ts;
      f.stream = stream_name(idx);
      f.payload = strip_cr(cap(chunk, max_, cut));
      f.truncated = cut;
      f.commit_offset = safe_offset(line.end);
      handler.on_frame(f);
      return;
    }
    if (!join.active) join.start(line.begin, ts);
    join.append(chunk, line.cut, max_);
    if (!partial) emit_join(idx, line.end, handler);
  }

  void emit_join(size_t idx, uint64_t end, FrameHandler& handler) {
    PartialJoin& join = joins_[idx];
    Frame f;
    f.ts = join.ts;
    f.stream = stream_name(idx);
    f.truncated = join.truncated;
    f.payload = join.finish();
    f.commit_offset = safe_offset(end);
    handler.on_frame(f);
    // Thousands of followed files may each have joined one big record once;
    // do not keep that much memory per file.
    if (join.text.capacity() > kKeepJoinCapacity) std::string().swap(join.text);
  }

  /// A line that does not follow the format: shipped whole as text.
  void emit_unframed(const Line& line, FrameHandler& handler) {
    bool cut = line.cut;
    Frame f;
    f.payload = strip_cr(cap(line.text, max_, cut));
    f.truncated = cut;
    f.commit_offset = safe_offset(line.end);
    handler.on_frame(f);
  }

  size_t max_;
  std::array<PartialJoin, 2> joins_;
};

class CriFramer final : public JoiningFramer {
 public:
  using JoiningFramer::JoiningFramer;

  void on_line(const Line& line, FrameHandler& handler) override {
    CriPrefix p;
    if (!parse_cri_prefix(line.text, p)) {
      emit_unframed(line, handler);
      return;
    }
    on_chunk(line, p.ts, stream_index(p.stream), p.payload, p.partial, handler);
  }

  Format format() const override { return Format::kCri; }
};

class DockerFramer final : public JoiningFramer {
 public:
  using JoiningFramer::JoiningFramer;

  void on_line(const Line& line, FrameHandler& handler) override {
    simdjson::dom::element doc;
    std::string_view log, stream, time;
    // The reader guarantees padding after every line, so parse in place.
    if (docker_line_parser().parse(line.text.data(), line.text.size(), false).get(doc) != simdjson::SUCCESS ||
        doc["log"].get_string().get(log) != simdjson::SUCCESS) {
      emit_unframed(line, handler);
      return;
    }
    if (doc["stream"].get_string().get(stream) != simdjson::SUCCESS) stream = "stdout";
    if (doc["time"].get_string().get(time) != simdjson::SUCCESS) time = {};
    const bool partial = log.empty() || log.back() != '\n';
    if (!partial) log.remove_suffix(1);
    // The unescaped strings live in the parser's buffer, reused by the next
    // parse; copy them (with padding) for the frame's lifetime.
    time_.assign(time);
    text_.assign(log);
    text_.reserve(text_.size() + json::kPadding);
    on_chunk(line, time_, stream_index(stream), text_, partial, handler);
    if (text_.capacity() > kKeepJoinCapacity) std::string().swap(text_);
  }

  Format format() const override { return Format::kDocker; }

 private:
  std::string time_;
  std::string text_;
};

class RawFramer final : public Framer {
 public:
  explicit RawFramer(size_t max_record_bytes) : max_(max_record_bytes) {}

  void on_line(const Line& line, FrameHandler& handler) override {
    bool cut = line.cut;
    Frame f;
    f.ts = read_time_;
    f.stream = "stdout";
    f.payload = strip_cr(cap(line.text, max_, cut));
    f.truncated = cut;
    f.commit_offset = line.end;
    handler.on_frame(f);
  }
  void finish(uint64_t, FrameHandler&) override {}
  uint64_t safe_offset(uint64_t consumed) const override { return consumed; }
  void set_read_time(std::string_view ts) override { read_time_.assign(ts); }
  Format format() const override { return Format::kRaw; }

 private:
  size_t max_;
  std::string read_time_;
};

/// Decides the format from the first line, then delegates.
class AutoFramer final : public Framer {
 public:
  explicit AutoFramer(size_t max_record_bytes) : max_(max_record_bytes) {}

  void on_line(const Line& line, FrameHandler& handler) override {
    if (!inner_) {
      inner_ = make_framer(detect_format(line.text), max_);
      inner_->set_read_time(read_time_);
    }
    inner_->on_line(line, handler);
  }
  void finish(uint64_t end, FrameHandler& handler) override {
    if (inner_) inner_->finish(end, handler);
  }
  uint64_t safe_offset(uint64_t consumed) const override {
    return inner_ ? inner_->safe_offset(consumed) : consumed;
  }
  void set_read_time(std::string_view ts) override {
    if (inner_) {
      inner_->set_read_time(ts);
    } else {
      read_time_.assign(ts);
    }
  }
  Format format() const override { return inner_ ? inner_->format() : Format::kAuto; }

 private:
  size_t max_;
  std::string read_time_;
  FramerPtr inner_;
};

}  // namespace

Format detect_format(std::string_view first_line) {
  std::string_view line = strip_cr(first_line);
  CriPrefix p;
  if (parse_cri_prefix(line, p)) return Format::kCri;
  if (!line.empty() && line.front() == '{') {
    // Runs once per file: a throwaway parser and padded copy are fine here.
    simdjson::dom::parser parser;
    simdjson::padded_string padded(line);
    simdjson::dom::element doc;
    std::string_view log;
    if (parser.parse(padded).get(doc) == simdjson::SUCCESS &&
        doc["log"].get_string().get(log) == simdjson::SUCCESS) {
      return Format::kDocker;
    }
  }
  return Format::kRaw;
}

FramerPtr make_framer(Format format, size_t max_record_bytes) {
  switch (format) {
    case Format::kCri: return std::make_unique<CriFramer>(max_record_bytes);
    case Format::kDocker: return std::make_unique<DockerFramer>(max_record_bytes);
    case Format::kRaw: return std::make_unique<RawFramer>(max_record_bytes);
    case Format::kAuto: break;
  }
  return std::make_unique<AutoFramer>(max_record_bytes);
}

}  // namespace logship::framing
