// Resuming at a checkpoint: Framer::resume_after / FileReader::resume_at
// (issue 12, "a torn fragment after restart"), and the commit offset of a
// joined record whose last line the reader cut.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <set>
#include <string>

#include "agent/tail/file_reader.h"
#include "parsers/framing/framer.h"
#include "tests/fakes/collecting_handler.h"
#include "tests/fakes/temp_dir.h"

using namespace logship::framing;
using logship::testing::CollectingHandler;

namespace {

constexpr size_t kNoLineLimit = std::numeric_limits<size_t>::max();

std::string cri(const char* ts, const char* stream, const char* tag, const std::string& payload) {
  return std::string(ts) + " " + stream + " " + tag + " " + payload + "\n";
}

std::string docker(const char* stream, const std::string& log) {
  return "{\"log\":\"" + log + "\",\"stream\":\"" + stream + "\",\"time\":\"2026-11-26T23:08:04.1Z\"}\n";
}

/// Feeds the lines of `text` in [from, to), with file offsets.
void feed_from_until(Framer& framer, FrameHandler& handler, const std::string& text, size_t from, size_t to) {
  std::string padded = text;
  padded.append(logship::json::kPadding, '\0');
  const std::string_view all(padded.data(), text.size());
  size_t pos = from;
  while (pos < to) {
    const size_t nl = all.find('\n', pos);
    REQUIRE(nl != std::string_view::npos);
    framer.on_line({all.substr(pos, nl - pos), pos, nl + 1, false}, handler);
    pos = nl + 1;
  }
}

/// Feeds the lines of `text` from `from` on, then finish().
void feed_from(Framer& framer, FrameHandler& handler, const std::string& text, size_t from) {
  feed_from_until(framer, handler, text, from, text.size());
  framer.finish(text.size(), handler);
}

// The file: two interleaved partial records, then a whole one.
const std::string kL1 = cri("2026-11-26T23:08:04.2Z", "stdout", "P", "{\"part\":\"A-");
const std::string kL2 = cri("2026-11-26T23:08:04.3Z", "stderr", "P", "B-");
const std::string kL3 = cri("2026-11-26T23:08:04.4Z", "stdout", "F", "C\"}");
const std::string kL4 = cri("2026-11-26T23:08:04.5Z", "stderr", "F", "D");
const std::string kL5 = cri("2026-11-26T23:08:04.6Z", "stdout", "F", "next");

}  // namespace

TEST_CASE("resume inside interleaved CRI partials skips the delivered record's rest", "[framing]") {
  const std::string file = kL1 + kL2 + kL3 + kL4 + kL5;
  CollectingHandler whole;
  feed_from(*make_framer(Format::kCri, 1 << 20), whole, file, 0);
  REQUIRE(whole.frames.size() == 3);
  CHECK(whole.frames[0].payload == "{\"part\":\"A-C\"}");
  // Held back by the stderr partial: the checkpoint is inside the stdout record.
  const uint64_t x = whole.frames[0].commit_offset;
  REQUIRE(x == kL1.size());

  for (const Format format : {Format::kCri, Format::kAuto}) {
    auto f = make_framer(format, 1 << 20);
    f->resume_after(std::string_view(file).substr(0, x), /*from_file_start=*/true, kNoLineLimit);
    CollectingHandler h;
    feed_from(*f, h, file, x);
    // Not `C"}` as a record of its own: the stderr record, then the next stdout one.
    REQUIRE(h.frames.size() == 2);
    CHECK(h.frames[0].payload == "B-D");
    CHECK(h.frames[0].stream == "stderr");
    CHECK(h.frames[1].payload == "next");
    CHECK(h.frames[1].stream == "stdout");
    CHECK(f->counters().get(MalformedFormat::kCri, MalformedReason::kResumeSkipped) == 1);
  }
}

TEST_CASE("resume: the window's first line only counts at the file's start", "[framing]") {
  const std::string file = kL1 + kL2 + kL3 + kL4 + kL5;
  const size_t x = kL1.size();
  const std::string_view preceding = std::string_view(file).substr(0, x);
  {
    // The window may begin mid-line: its first line tells nothing, stdout starts fresh.
    auto f = make_framer(Format::kCri, 1 << 20);
    f->resume_after(preceding, /*from_file_start=*/false, kNoLineLimit);
    CollectingHandler h;
    feed_from(*f, h, file, x);
    REQUIRE(h.frames.size() == 3);
    CHECK(h.frames[0].payload == "C\"}");
    CHECK(h.frames[1].payload == "B-D");
    CHECK(h.frames[2].payload == "next");
  }
  {
    // From the file's start it is a whole line: stdout's record began before x.
    auto f = make_framer(Format::kCri, 1 << 20);
    f->resume_after(preceding, /*from_file_start=*/true, kNoLineLimit);
    CollectingHandler h;
    feed_from(*f, h, file, x);
    REQUIRE(h.frames.size() == 2);
    CHECK(h.frames[0].payload == "B-D");
    CHECK(h.frames[1].payload == "next");
    CHECK(f->counters().get(MalformedFormat::kCri, MalformedReason::kResumeSkipped) == 1);
  }
}

TEST_CASE("resume after finished records skips nothing", "[framing]") {
  const std::string file = kL1 + kL2 + kL3 + kL4 + kL5;
  const size_t x = (kL1 + kL2 + kL3 + kL4).size();
  auto f = make_framer(Format::kCri, 1 << 20);
  f->resume_after(std::string_view(file).substr(0, x), true, kNoLineLimit);
  CollectingHandler h;
  feed_from(*f, h, file, x);
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].payload == "next");
  CHECK(f->counters().get(MalformedFormat::kCri, MalformedReason::kResumeSkipped) == 0);
}

TEST_CASE("resume inside interleaved docker partials skips the delivered record's rest", "[framing]") {
  const std::string file =
      docker("stdout", "A-") + docker("stderr", "B-") + docker("stdout", "C\\n") + docker("stderr", "D\\n");
  CollectingHandler whole;
  feed_from(*make_framer(Format::kDocker, 1 << 20), whole, file, 0);
  REQUIRE(whole.frames.size() == 2);
  const uint64_t x = whole.frames[0].commit_offset;
  REQUIRE(x == docker("stdout", "A-").size());
  for (const Format format : {Format::kDocker, Format::kAuto}) {
    auto f = make_framer(format, 1 << 20);
    f->resume_after(std::string_view(file).substr(0, x), true, kNoLineLimit);
    CollectingHandler h;
    feed_from(*f, h, file, x);
    REQUIRE(h.frames.size() == 1);
    CHECK(h.frames[0].payload == "B-D");
    CHECK(f->counters().get(MalformedFormat::kDocker, MalformedReason::kResumeSkipped) == 1);
  }
}

TEST_CASE("auto: resume_after remembers that the file had container lines", "[framing]") {
  const std::string file = kL5 + "plain text\n";
  CollectingHandler whole;
  feed_from(*make_framer(Format::kAuto, 1 << 20), whole, file, 0);
  auto f = make_framer(Format::kAuto, 1 << 20);
  f->resume_after(std::string_view(file).substr(0, kL5.size()), true, kNoLineLimit);
  CollectingHandler h;
  feed_from(*f, h, file, kL5.size());
  REQUIRE(h.frames.size() == 1);
  REQUIRE(whole.frames.size() == 2);
  CHECK(h.frames[0].stream == whole.frames[1].stream);  // unframed text: no stream, as in the whole read
  CHECK(h.frames[0].stream.empty());
}

TEST_CASE("a joined record whose last line was cut commits its start, not its inside", "[framing]") {
  auto f = make_framer(Format::kCri, 1 << 20);
  CollectingHandler h;
  std::string p = cri("2026-11-26T23:08:04.2Z", "stdout", "P", "head-");
  std::string last = "2026-11-26T23:08:04.3Z stdout F " + std::string(100, 'x');
  p.append(logship::json::kPadding, '\0');
  last.append(logship::json::kPadding, '\0');
  const uint64_t p_len = p.size() - logship::json::kPadding;
  f->on_line({std::string_view(p.data(), p_len - 1), 0, p_len, false}, h);
  // The reader cut the F line: end == begin, the rest is still being skipped.
  f->on_line({std::string_view(last.data(), 60), p_len, p_len, true}, h);
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].payload == "head-" + std::string(60 - 32, 'x'));
  CHECK(h.frames[0].truncated);
  // Not p_len (inside the record: a restart would ship the F line alone).
  CHECK(h.frames[0].commit_offset == 0);
}

TEST_CASE("reader: resuming at every commit offset loses nothing and invents nothing", "[framing][tail]") {
  logship::testing::TempDir dir;
  const std::string path = dir.path + "/0.log";
  const std::string cut_last = cri("2026-11-26T23:08:04.7Z", "stdout", "F", std::string(200, 'y'));
  const std::string file = kL1 + kL2 + kL3 + kL4 + kL5 + kL1 + cut_last + kL4 + kL5;
  logship::testing::write_file(path, file);
  auto read_from = [&](uint64_t offset) {
    logship::tail::FileReader reader(64, 128);  // the 200-byte line is cut
    REQUIRE(reader.open(path));
    auto f = make_framer(Format::kAuto, 1 << 20);
    REQUIRE(reader.resume_at(offset, *f));
    CollectingHandler h;
    for (;;) {
      auto n = reader.read_some(*f, h);
      REQUIRE(n);
      if (*n == 0) break;
    }
    reader.finish(*f, h);
    return h.frames;
  };
  const auto whole = read_from(0);
  REQUIRE(whole.size() == 6);
  CHECK(whole[3].payload.starts_with("{\"part\":\"A-yyy"));
  CHECK(whole[3].commit_offset == (kL1 + kL2 + kL3 + kL4 + kL5).size());
  std::set<uint64_t> seen;
  for (size_t i = 0; i < whole.size(); ++i) {
    const uint64_t c = whole[i].commit_offset;
    if (c == 0 || !seen.insert(c).second) continue;
    const auto resumed = read_from(c);
    INFO("resumed at " << c << " after frame " << i);
    // Every frame after i again, possibly some before it (at-least-once), nothing else.
    REQUIRE(resumed.size() >= whole.size() - (i + 1));
    REQUIRE(resumed.size() <= whole.size());
    const size_t k = whole.size() - resumed.size();
    for (size_t j = 0; j < resumed.size(); ++j) {
      CHECK(resumed[j].payload == whole[k + j].payload);
      CHECK(resumed[j].stream == whole[k + j].stream);
    }
  }
}

TEST_CASE("resume after an expired partial ships what followed it, as the original read did", "[framing]") {
  const std::string more = cri("2026-11-26T23:08:04.3Z", "stdout", "P", "more-");
  for (const std::string& rest : {kL3 + kL5, more + kL3 + kL5}) {
    const std::string file = kL1 + rest;
    SteadyTime now{std::chrono::seconds(100)};
    FramerOptions o;
    o.format = Format::kCri;
    o.clock = [&now] { return now; };
    auto original = make_framer(o);
    CollectingHandler h;
    feed_from_until(*original, h, file, 0, kL1.size());
    now += std::chrono::seconds(10);
    REQUIRE(original->expire(now, kL1.size(), h) == 1);
    REQUIRE(h.frames.size() == 1);
    CHECK(h.frames[0].partial);
    const uint64_t x = h.frames[0].commit_offset;
    REQUIRE(x == kL1.size());
    feed_from(*original, h, file, x);
    REQUIRE(h.frames.size() == 3);

    // The line at x is not another stream's partial: the stdout record was
    // shipped unfinished, and its follow-up lines were records of their own.
    auto f = make_framer(Format::kCri, 1 << 20);
    f->resume_after(std::string_view(file).substr(0, x), true, kNoLineLimit);
    CollectingHandler r;
    feed_from(*f, r, file, x);
    REQUIRE(r.frames.size() == 2);
    CHECK(r.frames[0].payload == h.frames[1].payload);
    CHECK(r.frames[1].payload == "next");
    CHECK(f->counters().get(MalformedFormat::kCri, MalformedReason::kResumeSkipped) == 0);
  }
}
