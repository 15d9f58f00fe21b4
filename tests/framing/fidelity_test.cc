// Input fidelity (issue 10): validated docker lines, per-line detection,
// partials that expire, empty lines, legacy CRI, docker attrs, timestamp
// normalisation, counters of odd input.

#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>

#include "agent/core/log.h"
#include "parsers/framing/framer.h"
#include "tests/fakes/collecting_handler.h"

using namespace logship::framing;
using logship::testing::CollectingHandler;
using logship::testing::feed;

namespace {

const char* kRead = "2026-12-01T00:00:00.000000000Z";

std::string cri(const char* stream, const char* tag, const std::string& payload,
                const char* ts = "2026-11-26T23:08:04.000000001Z") {
  return std::string(ts) + " " + stream + " " + tag + " " + payload + "\n";
}

std::string docker(const std::string& log, const char* stream = "stdout", const char* time = "2026-11-26T23:08:05Z") {
  return R"({"log":")" + log + R"(","stream":")" + stream + R"(","time":")" + time + "\"}\n";
}

struct Fixture {
  explicit Fixture(Format format, TimestampFormat ts = TimestampFormat::kVerbatim, size_t max = 1 << 20) {
    FramerOptions o;
    o.format = format;
    o.max_record_bytes = max;
    o.timestamp_format = ts;
    o.counters = &counters;
    o.clock = [this] { return now; };
    o.path = "/var/log/pods/x/c/0.log";
    framer = make_framer(o);
    framer->set_read_time(kRead);
  }
  uint64_t count(MalformedFormat f, MalformedReason r) const { return counters.get(f, r); }

  MalformedCounters counters;
  SteadyTime now{std::chrono::seconds(100)};
  FramerPtr framer;
  CollectingHandler h;
};

}  // namespace

TEST_CASE("docker: a line with an invalid time ships alone as text, never glued", "[framing][fidelity]") {
  for (Format mode : {Format::kDocker, Format::kAuto}) {
    Fixture x(mode);
    const std::string bad = R"({"log":"Hello world","stream":"stdout","time":"qwerty"})" "\n";
    feed(*x.framer, x.h, docker("one\\n") + bad + docker("two\\n", "stdout", "2026-11-26T23:08:06Z"));
    REQUIRE(x.h.frames.size() == 3);
    CHECK(x.h.frames[0].payload == "one");
    CHECK(x.h.frames[1].payload == R"({"log":"Hello world","stream":"stdout","time":"qwerty"})");
    CHECK(x.h.frames[1].ts == kRead);
    CHECK(x.h.frames[1].stream.empty());
    CHECK(x.h.frames[2].payload == "two");
    CHECK(x.h.frames[2].ts == "2026-11-26T23:08:06Z");
    CHECK(x.count(MalformedFormat::kDocker, MalformedReason::kBadTimestamp) == 1);
  }
}

TEST_CASE("docker: log and stream must be strings, time present", "[framing][fidelity]") {
  Fixture x(Format::kDocker);
  feed(*x.framer, x.h,
       docker("par") + R"({"log":1,"stream":"stdout","time":"2026-11-26T23:08:05Z"})" "\n" +
           R"({"log":"x","stream":7,"time":"2026-11-26T23:08:05Z"})" "\n" +
           R"({"log":"x","stream":"stdout"})" "\n" + docker("t\\n"));
  REQUIRE(x.h.frames.size() == 4);
  CHECK(x.h.frames[0].payload == R"({"log":1,"stream":"stdout","time":"2026-11-26T23:08:05Z"})");
  CHECK(x.h.frames[1].payload == R"({"log":"x","stream":7,"time":"2026-11-26T23:08:05Z"})");
  CHECK(x.h.frames[2].payload == R"({"log":"x","stream":"stdout"})");
  // The partial "par" was neither broken nor joined by the bad lines.
  CHECK(x.h.frames[3].payload == "part");
  CHECK_FALSE(x.h.frames[3].partial);
  CHECK(x.count(MalformedFormat::kDocker, MalformedReason::kBadEnvelope) == 2);
  CHECK(x.count(MalformedFormat::kDocker, MalformedReason::kBadTimestamp) == 1);
}

TEST_CASE("auto: a torn first line does not fix the format for life", "[framing][fidelity]") {
  Fixture x(Format::kAuto);
  const std::string torn = R"(rld\n","stream":"stdout","time":"2026-11-26T23:08:04.1Z"})" "\n";
  feed(*x.framer, x.h, torn + docker("next\\n") + docker("err\\n", "stderr"));
  REQUIRE(x.h.frames.size() == 3);
  CHECK(x.h.frames[0].payload == torn.substr(0, torn.size() - 1));
  CHECK(x.h.frames[0].stream.empty());
  CHECK(x.h.frames[1].payload == "next");
  CHECK(x.h.frames[1].stream == "stdout");
  CHECK(x.h.frames[1].ts == "2026-11-26T23:08:05Z");
  CHECK(x.h.frames[2].payload == "err");
  CHECK(x.h.frames[2].stream == "stderr");
  CHECK(x.framer->format() == Format::kDocker);
  CHECK(x.count(MalformedFormat::kDocker, MalformedReason::kTorn) == 1);
}

TEST_CASE("forced docker: a torn line is counted as torn, as under auto", "[framing][fidelity]") {
  Fixture x(Format::kDocker);
  const std::string torn = R"(rld\n","stream":"stdout","time":"2026-11-26T23:08:04.1Z"})" "\n";
  feed(*x.framer, x.h, torn + docker("next\\n") + "not json at all\n");
  REQUIRE(x.h.frames.size() == 3);
  CHECK(x.h.frames[0].payload == torn.substr(0, torn.size() - 1));
  CHECK(x.h.frames[1].payload == "next");
  CHECK(x.count(MalformedFormat::kDocker, MalformedReason::kTorn) == 1);
  CHECK(x.count(MalformedFormat::kDocker, MalformedReason::kBadEnvelope) == 1);
}

TEST_CASE("auto: CRI and docker lines mixed in one file (container_mix)", "[framing][fidelity]") {
  Fixture x(Format::kAuto);
  feed(*x.framer, x.h,
       cri("stdout", "F", "cri one") + docker("docker one\\n", "stderr") + cri("stderr", "P", "cri pa") +
           docker("docker pa") + cri("stderr", "F", "rt") + docker("rt\\n") + "plain text\n");
  REQUIRE(x.h.frames.size() == 5);
  CHECK(x.h.frames[0].payload == "cri one");
  CHECK(x.h.frames[1].payload == "docker one");
  CHECK(x.h.frames[1].stream == "stderr");
  // Partials of one format are not joined by a line of the other format.
  CHECK(x.h.frames[2].payload == "cri part");
  CHECK(x.h.frames[2].stream == "stderr");
  CHECK(x.h.frames[3].payload == "docker part");
  CHECK(x.h.frames[3].stream == "stdout");
  // Text in a container file is shipped and counted.
  CHECK(x.h.frames[4].payload == "plain text");
  CHECK(x.h.frames[4].ts == kRead);
  CHECK(x.count(MalformedFormat::kAuto, MalformedReason::kUnframed) == 1);
}

TEST_CASE("auto: plain-text files and application JSON stay text, uncounted", "[framing][fidelity]") {
  Fixture x(Format::kAuto);
  feed(*x.framer, x.h, "hello\n{\"msg\":\"app\",\"logger\":\"x\"}\nERROR stdout closed\n");
  REQUIRE(x.h.frames.size() == 3);
  CHECK(x.h.frames[1].payload == "{\"msg\":\"app\",\"logger\":\"x\"}");
  CHECK(x.h.frames[2].stream == "stdout");
  CHECK(x.h.frames[2].ts == kRead);
  x.counters.for_each([](std::string_view, std::string_view, uint64_t) { FAIL("nothing should be counted"); });
}

TEST_CASE("forced formats: a non-matching line is text, counted", "[framing][fidelity]") {
  Fixture c(Format::kCri);
  feed(*c.framer, c.h, docker("d\\n") + cri("stdout", "F", "c"));
  REQUIRE(c.h.frames.size() == 2);
  CHECK(c.h.frames[0].payload == docker("d\\n").substr(0, docker("d\\n").size() - 1));
  CHECK(c.count(MalformedFormat::kCri, MalformedReason::kNoPrefix) == 1);

  Fixture d(Format::kDocker);
  feed(*d.framer, d.h, cri("stdout", "F", "c") + "{\"app\":1}\n" + docker("d\\n"));
  REQUIRE(d.h.frames.size() == 3);
  CHECK(d.h.frames[0].payload == cri("stdout", "F", "c").substr(0, cri("stdout", "F", "c").size() - 1));
  CHECK(d.h.frames[2].payload == "d");
  CHECK(d.count(MalformedFormat::kDocker, MalformedReason::kBadEnvelope) == 2);
}

TEST_CASE("CRI: a CRI-shaped line with an invalid time is text with the read time", "[framing][fidelity]") {
  Fixture x(Format::kAuto);
  feed(*x.framer, x.h, cri("stdout", "F", "x", "2026-13-45T99:00:00Z") + cri("stdout", "F", "y"));
  REQUIRE(x.h.frames.size() == 2);
  CHECK(x.h.frames[0].ts == kRead);
  CHECK(x.h.frames[0].payload == "2026-13-45T99:00:00Z stdout F x");
  CHECK(x.h.frames[1].ts == "2026-11-26T23:08:04.000000001Z");
  CHECK(x.count(MalformedFormat::kCri, MalformedReason::kBadTimestamp) == 1);
}

TEST_CASE("partials expire after the timeout, marked partial", "[framing][fidelity]") {
  Fixture x(Format::kCri);
  const std::string p1 = cri("stdout", "P", "prompt> ");
  const std::string full = cri("stderr", "F", "other");
  feed(*x.framer, x.h, p1 + full, /*finish=*/false);
  REQUIRE(x.h.frames.size() == 1);
  CHECK(x.h.frames[0].commit_offset == 0);  // held back by the partial
  REQUIRE(x.framer->pending_since());
  CHECK(*x.framer->pending_since() == x.now);
  REQUIRE(x.framer->partial_deadline());
  CHECK(*x.framer->partial_deadline() == x.now + std::chrono::milliseconds(5000));

  const uint64_t consumed = p1.size() + full.size();
  CHECK(x.framer->expire(x.now + std::chrono::milliseconds(4999), consumed, x.h) == 0);
  CHECK(x.h.frames.size() == 1);
  CHECK(x.framer->expire(x.now + std::chrono::milliseconds(5000), consumed, x.h) == 1);
  REQUIRE(x.h.frames.size() == 2);
  CHECK(x.h.frames[1].payload == "prompt> ");
  CHECK(x.h.frames[1].partial);
  CHECK(x.h.frames[1].stream == "stdout");
  CHECK(x.h.frames[1].commit_offset == consumed);
  CHECK(x.framer->safe_offset(consumed) == consumed);
  CHECK_FALSE(x.framer->pending_since());
  CHECK(x.count(MalformedFormat::kCri, MalformedReason::kPartialExpired) == 1);
}

TEST_CASE("expiry waits from the last chunk; docker chunk without newline expires", "[framing][fidelity]") {
  Fixture x(Format::kDocker);
  const std::string a = docker("user@host$ ");
  feed(*x.framer, x.h, a, false);
  x.now += std::chrono::milliseconds(3000);
  const std::string b = docker("ls");
  x.framer->on_line({std::string(b + std::string(64, '\0')).substr(0, b.size() - 1), a.size(), a.size() + b.size()},
                    x.h);
  CHECK(x.framer->expire(x.now + std::chrono::milliseconds(4000), a.size() + b.size(), x.h) == 0);
  CHECK(x.framer->expire(x.now + std::chrono::milliseconds(5000), a.size() + b.size(), x.h) == 1);
  REQUIRE(x.h.frames.size() == 1);
  CHECK(x.h.frames[0].payload == "user@host$ ls");
  CHECK(x.h.frames[0].partial);
  CHECK(x.count(MalformedFormat::kDocker, MalformedReason::kPartialExpired) == 1);
}

TEST_CASE("finish flushes pending partials marked partial, oldest first", "[framing][fidelity]") {
  Fixture x(Format::kAuto);
  feed(*x.framer, x.h, docker("d-part", "stderr") + cri("stdout", "P", "c-part") + cri("stderr", "F", "done"));
  REQUIRE(x.h.frames.size() == 3);
  CHECK(x.h.frames[0].payload == "done");
  CHECK_FALSE(x.h.frames[0].partial);
  CHECK(x.h.frames[1].payload == "d-part");
  CHECK(x.h.frames[1].partial);
  CHECK(x.h.frames[2].payload == "c-part");
  CHECK(x.h.frames[2].partial);
  CHECK(x.count(MalformedFormat::kDocker, MalformedReason::kPartialFlushed) == 1);
  CHECK(x.count(MalformedFormat::kCri, MalformedReason::kPartialFlushed) == 1);
}

TEST_CASE("empty physical lines are skipped and counted; empty messages are records", "[framing][fidelity]") {
  for (Format mode : {Format::kAuto, Format::kCri}) {
    Fixture x(mode);
    const std::string all = cri("stdout", "F", "a") + "\n\r\n" + cri("stdout", "F", "");
    feed(*x.framer, x.h, all);
    REQUIRE(x.h.frames.size() == 2);
    CHECK(x.h.frames[0].payload == "a");
    CHECK(x.h.frames[1].payload.empty());
    CHECK(x.h.frames[1].stream == "stdout");
    CHECK(x.h.frames[1].commit_offset == all.size());
    CHECK(x.framer->safe_offset(all.size()) == all.size());
    CHECK(x.count(mode == Format::kAuto ? MalformedFormat::kAuto : MalformedFormat::kCri,
                  MalformedReason::kEmptyLine) == 2);
  }
}

TEST_CASE("legacy CRI lines without a P/F tag are framed", "[framing][fidelity]") {
  for (Format mode : {Format::kAuto, Format::kCri}) {
    Fixture x(mode);
    feed(*x.framer, x.h, "2016-10-06T00:17:09.669794202Z stdout The content of the log entry 1\n"
                         "2016-10-06T00:17:10.113242941Z stderr The content of the log entry 2\n");
    REQUIRE(x.h.frames.size() == 2);
    CHECK(x.h.frames[0].payload == "The content of the log entry 1");
    CHECK(x.h.frames[0].ts == "2016-10-06T00:17:09.669794202Z");
    CHECK(x.h.frames[1].stream == "stderr");
    CHECK_FALSE(x.h.frames[1].partial);
  }
}

TEST_CASE("docker attrs are carried as compact JSON, also on joined records", "[framing][fidelity]") {
  Fixture x(Format::kAuto);
  feed(*x.framer, x.h,
       R"({"log":"a\n","stream":"stdout","attrs":{ "tag" : "web", "env":"prod" },"time":"2026-11-26T23:08:05Z"})"
       "\n"
       R"({"log":"p1 ","stream":"stdout","attrs":{"tag":"web"},"time":"2026-11-26T23:08:05Z"})"
       "\n"
       R"({"log":"p2\n","stream":"stdout","attrs":{"tag":"web"},"time":"2026-11-26T23:08:06Z"})"
       "\n" +
           docker("no attrs\\n"));
  REQUIRE(x.h.frames.size() == 3);
  CHECK(x.h.frames[0].attrs == R"({"tag":"web","env":"prod"})");
  CHECK(x.h.frames[1].payload == "p1 p2");
  CHECK(x.h.frames[1].attrs == R"({"tag":"web"})");
  CHECK(x.h.frames[2].attrs.empty());
}

TEST_CASE("LOGSHIP_TIMESTAMP_FORMAT=utc normalises every ts", "[framing][fidelity]") {
  Fixture x(Format::kAuto, TimestampFormat::kUtc);
  feed(*x.framer, x.h,
       cri("stdout", "F", "crio", "2026-11-27T09:08:04.123456789+10:00") +
           cri("stdout", "F", "containerd", "2026-11-26T23:08:04.000000001Z") + docker("d\\n", "stdout", "2026-11-26T23:08:05.5Z") +
           cri("stdout", "P", "joined ", "2026-01-01T00:30:00-01:00") + cri("stdout", "F", "x") + "text\n");
  REQUIRE(x.h.frames.size() == 5);
  CHECK(x.h.frames[0].ts == "2026-11-26T23:08:04.123456789Z");
  CHECK(x.h.frames[1].ts == "2026-11-26T23:08:04.000000001Z");
  CHECK(x.h.frames[2].ts == "2026-11-26T23:08:05.500000000Z");
  CHECK(x.h.frames[3].ts == "2026-01-01T01:30:00.000000000Z");
  CHECK(x.h.frames[4].ts == kRead);

  Fixture v(Format::kAuto);
  feed(*v.framer, v.h, cri("stdout", "F", "crio", "2026-11-27T09:08:04.123456789+10:00"));
  REQUIRE(v.h.frames.size() == 1);
  CHECK(v.h.frames[0].ts == "2026-11-27T09:08:04.123456789+10:00");
}

TEST_CASE("counters are shared between framers and listed by label", "[framing][fidelity]") {
  MalformedCounters shared;
  for (int i = 0; i < 2; ++i) {
    FramerOptions o;
    o.counters = &shared;
    auto f = make_framer(o);
    CollectingHandler h;
    feed(*f, h, "\n");
    CHECK(&f->counters() == &shared);
  }
  int seen = 0;
  shared.for_each([&](std::string_view format, std::string_view reason, uint64_t v) {
    ++seen;
    CHECK(format == "auto");
    CHECK(reason == "empty_line");
    CHECK(v == 2);
  });
  CHECK(seen == 1);
}

TEST_CASE("an expired partial ships before the next line even without expire()", "[framing][fidelity]") {
  Fixture x(Format::kCri);
  const std::string p = cri("stdout", "P", "waiting");
  feed(*x.framer, x.h, p, false);
  x.now += std::chrono::milliseconds(6000);
  const std::string other = cri("stderr", "F", "busy");
  const std::string padded = other + std::string(64, '\0');
  x.framer->on_line({std::string_view(padded.data(), other.size() - 1), p.size(), p.size() + other.size()}, x.h);
  REQUIRE(x.h.frames.size() == 2);
  CHECK(x.h.frames[0].payload == "waiting");
  CHECK(x.h.frames[0].partial);
  CHECK(x.h.frames[0].commit_offset == p.size());
  CHECK(x.h.frames[1].payload == "busy");
  CHECK(x.h.frames[1].commit_offset == p.size() + other.size());
}

TEST_CASE("auto: an application's JSON with a log key but no stream is plain text", "[framing][fidelity]") {
  Fixture x(Format::kAuto);
  feed(*x.framer, x.h, "{\"log\":\"started\",\"level\":\"info\"}\n");
  REQUIRE(x.h.frames.size() == 1);
  CHECK(x.h.frames[0].payload == "{\"log\":\"started\",\"level\":\"info\"}");
  CHECK(x.h.frames[0].stream == "stdout");
  x.counters.for_each([](std::string_view, std::string_view, uint64_t) { FAIL("nothing should be counted"); });
}

TEST_CASE("odd lines are logged at debug level with file and offset, never content", "[framing][fidelity]") {
  // Capture stderr (the logger writes there) in a temporary file.
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  const int saved = ::dup(STDERR_FILENO);
  REQUIRE(::dup2(::fileno(tmp), STDERR_FILENO) >= 0);
  logship::log::set_level(logship::log::Level::kDebug);
  {
    Fixture x(Format::kCri);
    feed(*x.framer, x.h, cri("stdout", "F", "ok") + "secret-token-123\n");
  }
  logship::log::set_level(logship::log::Level::kInfo);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string logged;
  std::rewind(tmp);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) logged.append(buf, n);
  std::fclose(tmp);
  const std::string offset = std::to_string(cri("stdout", "F", "ok").size());
  CHECK(logged.find("\"path\":\"/var/log/pods/x/c/0.log\"") != std::string::npos);
  CHECK(logged.find("\"offset\":" + offset) != std::string::npos);
  CHECK(logged.find("\"reason\":\"no_prefix\"") != std::string::npos);
  CHECK(logged.find("secret-token") == std::string::npos);
}
