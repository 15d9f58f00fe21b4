#include "agent/admin/progress.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace logship::admin;
using namespace std::chrono_literals;

namespace {

ProgressSample sample(std::chrono::nanoseconds elapsed, uint64_t bytes_read, uint64_t bytes_total = 1'000'000'000) {
  ProgressSample s;
  s.files_done = 3;
  s.files_total = 12;
  s.bytes_read = bytes_read;
  s.bytes_total = bytes_total;
  s.records = 1234567;
  s.retries = 2;
  s.elapsed = elapsed;
  return s;
}

struct Captured {
  std::vector<std::string> writes;
  std::vector<std::pair<ProgressStatus, bool>> json;
  ProgressReporter make(ProgressOutput output, ProgressReporter::Options options = {}) {
    return ProgressReporter(
        output, options, [this](std::string_view s) { writes.emplace_back(s); },
        [this](const ProgressStatus& st, bool done) { json.emplace_back(st, done); });
  }
};

}  // namespace

TEST_CASE("LOGSHIP_PROGRESS parses auto, off and json, case-insensitively") {
  CHECK(parse_progress_mode("auto").value() == ProgressMode::kAuto);
  CHECK(parse_progress_mode("OFF").value() == ProgressMode::kOff);
  CHECK(parse_progress_mode("Json").value() == ProgressMode::kJson);
  for (const char* bad : {"", "on", "jsonl", "auto "}) {
    const auto r = parse_progress_mode(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("LOGSHIP_PROGRESS") != std::string::npos);
    CHECK(r.error().message.find("auto, off, json") != std::string::npos);
  }
}

TEST_CASE("auto shows a terminal line on a terminal and JSON lines elsewhere") {
  CHECK(resolve_progress_output(ProgressMode::kAuto, true) == ProgressOutput::kTerminal);
  CHECK(resolve_progress_output(ProgressMode::kAuto, false) == ProgressOutput::kJson);
  CHECK(resolve_progress_output(ProgressMode::kJson, true) == ProgressOutput::kJson);
  CHECK(resolve_progress_output(ProgressMode::kOff, true) == ProgressOutput::kNone);
  CHECK(resolve_progress_output(ProgressMode::kOff, false) == ProgressOutput::kNone);
}

TEST_CASE("the line shows files, bytes, rate, records, retries and ETA") {
  // 250 MB of 1 GB in 10 s: 25 MB/s, 750 MB left: 30 s.
  const auto st = ProgressReporter::status_of(sample(10s, 250'000'000));
  CHECK(st.bytes_per_second == Approx(25e6));
  REQUIRE(st.eta.has_value());
  CHECK(st.eta->count() == 30);
  CHECK(render_progress_line(st) ==
        "files 3/12  bytes 238.4 MiB/953.7 MiB  25.0 MB/s  records 1234567  retries 2  ETA 30s");
}

TEST_CASE("ETA is unknown before anything is read, zero at the end, and formatted in m and h") {
  auto st = ProgressReporter::status_of(sample(0s, 0));
  CHECK_FALSE(st.eta.has_value());
  CHECK(render_progress_line(st).ends_with("ETA ?"));
  st = ProgressReporter::status_of(sample(5s, 1000, 1000));
  CHECK(st.eta->count() == 0);
  // 1 MB/s with 307 MB left: 5m07s; 7380 MB left: 2h03m.
  CHECK(render_progress_line(ProgressReporter::status_of(sample(1s, 1'000'000, 308'000'000))).ends_with("ETA 5m07s"));
  CHECK(render_progress_line(ProgressReporter::status_of(sample(1s, 1'000'000, 7'381'000'000)))
            .ends_with("ETA 2h03m"));
  CHECK(render_progress_line(ProgressReporter::status_of(sample(1s, 512, 900))).find("bytes 512 B/900 B") !=
        std::string::npos);
}

TEST_CASE("terminal: redrawn in place at most every interval, erased at the end") {
  Captured c;
  auto r = c.make(ProgressOutput::kTerminal, {.terminal_interval = 250ms, .json_interval = 10s});
  r.update(sample(0ms, 0));      // shown at once
  r.update(sample(100ms, 10));   // too soon
  r.update(sample(260ms, 20));   // shown
  r.update(sample(400ms, 30));   // too soon
  r.update(sample(520ms, 40));   // shown
  REQUIRE(c.writes.size() == 3);
  for (const auto& w : c.writes) {
    CHECK(w.starts_with("\r\x1b[K"));
    CHECK(w.find('\n') == std::string::npos);
    CHECK(w.find("files 3/12") != std::string::npos);
  }
  r.finish(sample(600ms, 50));
  REQUIRE(c.writes.size() == 4);
  CHECK(c.writes.back() == "\r\x1b[K");
  r.finish(sample(700ms, 50));  // idempotent
  r.update(sample(2s, 60));     // ignored after finish
  CHECK(c.writes.size() == 4);
  CHECK(c.json.empty());
}

TEST_CASE("terminal: nothing to erase when nothing was drawn") {
  Captured c;
  auto r = c.make(ProgressOutput::kTerminal);
  r.finish(sample(1s, 1));
  CHECK(c.writes.empty());
}

TEST_CASE("json: one line per interval and a final done line") {
  Captured c;
  auto r = c.make(ProgressOutput::kJson, {.terminal_interval = 250ms, .json_interval = 10s});
  for (int ms = 0; ms <= 25'000; ms += 200) r.update(sample(std::chrono::milliseconds(ms), ms * 1000ull));
  REQUIRE(c.json.size() == 2);  // at 10 s and 20 s
  CHECK(c.json[0].first.sample.elapsed == 10s);
  CHECK(c.json[1].first.sample.elapsed == 20s);
  CHECK_FALSE(c.json[0].second);
  r.finish(sample(25s, 1'000'000'000));
  REQUIRE(c.json.size() == 3);
  CHECK(c.json.back().second);
  CHECK(c.writes.empty());
}

TEST_CASE("off shows nothing") {
  Captured c;
  auto r = c.make(ProgressOutput::kNone);
  for (int s = 0; s < 30; ++s) r.update(sample(std::chrono::seconds(s), 1));
  r.finish(sample(30s, 1));
  CHECK(c.writes.empty());
  CHECK(c.json.empty());
}

TEST_CASE("the JSON progress line is a logship log line with numeric fields") {
  // Capture fd 2, where logship::log writes.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const int saved = ::dup(2);
  ::dup2(fds[1], 2);
  log_progress(ProgressReporter::status_of(sample(10s, 250'000'000)), false);
  log_progress(ProgressReporter::status_of(sample(40s, 1'000'000'000)), true);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  const auto nl = out.find('\n');
  REQUIRE(nl != std::string::npos);
  const std::string first = out.substr(0, nl);
  const std::string second = out.substr(nl + 1);
  CHECK(first.starts_with("{\"time\":"));
  CHECK(first.find("\"component\":\"progress\"") != std::string::npos);
  CHECK(first.find("\"msg\":\"backfill progress\"") != std::string::npos);
  CHECK(first.find("\"files_done\":3,\"files_total\":12") != std::string::npos);
  CHECK(first.find("\"bytes_per_second\":25000000") != std::string::npos);
  CHECK(first.find("\"eta_s\":30") != std::string::npos);
  CHECK(second.find("\"msg\":\"backfill done\"") != std::string::npos);
  CHECK(second.find("eta_s") == std::string::npos);
}
