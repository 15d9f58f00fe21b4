#include <catch2/catch.hpp>

#include "parsers/framing/framer.h"
#include "tests/fakes/collecting_handler.h"

using namespace logship::framing;
using logship::testing::CollectingHandler;
using logship::testing::feed;

namespace {
const char* kTs = "2026-11-26T23:08:04.000000001Z";
std::string cri(const char* stream, const char* tag, const std::string& payload) {
  return std::string(kTs) + " " + stream + " " + tag + " " + payload + "\n";
}
}  // namespace

TEST_CASE("CRI: one record per F line, offsets at line ends", "[framing]") {
  auto f = make_framer(Format::kCri, 1 << 20);
  CollectingHandler h;
  const std::string a = cri("stdout", "F", "{\"msg\":\"a\"}");
  const std::string b = cri("stderr", "F", "plain b");
  feed(*f, h, a + b);
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0].payload == "{\"msg\":\"a\"}");
  CHECK(h.frames[0].stream == "stdout");
  CHECK(h.frames[0].ts == kTs);
  CHECK(h.frames[0].commit_offset == a.size());
  CHECK(h.frames[1].payload == "plain b");
  CHECK(h.frames[1].stream == "stderr");
  CHECK(h.frames[1].commit_offset == a.size() + b.size());
}

TEST_CASE("CRI: partials join per stream; checkpoint waits for the oldest partial", "[framing]") {
  auto f = make_framer(Format::kCri, 1 << 20);
  CollectingHandler h;
  const std::string l1 = cri("stdout", "P", "{\"msg\":\"he");
  const std::string l2 = cri("stderr", "F", "err line");
  const std::string l3 = cri("stdout", "P", "llo ");
  const std::string l4 = cri("stdout", "F", "world\"}");
  feed(*f, h, l1 + l2 + l3 + l4);
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0].payload == "err line");
  // The stdout record that started at 0 is still open: resuming after the
  // stderr line would lose its first chunk.
  CHECK(h.frames[0].commit_offset == 0);
  CHECK(h.frames[1].payload == "{\"msg\":\"hello world\"}");
  CHECK(h.frames[1].stream == "stdout");
  CHECK(h.frames[1].ts == kTs);
  CHECK(h.frames[1].commit_offset == (l1 + l2 + l3 + l4).size());
  CHECK(f->safe_offset(999) == 999);
}

TEST_CASE("CRI: malformed lines ship as text with the read time, no stream", "[framing]") {
  auto f = make_framer(Format::kCri, 1 << 20);
  f->set_read_time("2026-11-26T00:00:00.000000000Z");
  CollectingHandler h;
  feed(*f, h, "garbage here\r\n" + cri("stdout", "F", "ok"));
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0].payload == "garbage here");
  CHECK(h.frames[0].ts == "2026-11-26T00:00:00.000000000Z");
  CHECK(h.frames[0].stream.empty());
  CHECK(h.frames[1].payload == "ok");
}

TEST_CASE("CRI: trailing CR removed; final line without newline emitted at finish", "[framing]") {
  auto f = make_framer(Format::kCri, 1 << 20);
  CollectingHandler h;
  feed(*f, h, cri("stdout", "F", "windows\r") + std::string(kTs) + " stdout F last");
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0].payload == "windows");
  CHECK(h.frames[1].payload == "last");
}

TEST_CASE("CRI: unfinished partial is emitted at finish", "[framing]") {
  auto f = make_framer(Format::kCri, 1 << 20);
  CollectingHandler h;
  const std::string l1 = cri("stdout", "P", "part one ");
  feed(*f, h, l1 + cri("stdout", "P", "part two"));
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].payload == "part one part two");
  CHECK_FALSE(h.frames[0].truncated);
}

TEST_CASE("CRI: records over the limit are cut and marked, never dropped", "[framing]") {
  auto f = make_framer(Format::kCri, 10);
  CollectingHandler h;
  feed(*f, h,
       cri("stdout", "F", "0123456789abcdef") + cri("stdout", "P", "01234") + cri("stdout", "P", "56789xyz") +
           cri("stdout", "F", "more") + cri("stdout", "F", "short"));
  REQUIRE(h.frames.size() == 3);
  CHECK(h.frames[0].payload == "0123456789");
  CHECK(h.frames[0].truncated);
  CHECK(h.frames[1].payload == "0123456789");
  CHECK(h.frames[1].truncated);
  CHECK(h.frames[2].payload == "short");
  CHECK_FALSE(h.frames[2].truncated);
}

TEST_CASE("CRI: a cut never splits a UTF-8 character", "[framing]") {
  auto f = make_framer(Format::kCri, 5);
  CollectingHandler h;
  feed(*f, h, cri("stdout", "F", "abcd\xc3\xa9z"));  // 'é' would straddle byte 5
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].payload == "abcd");
  CHECK(h.frames[0].truncated);
}

TEST_CASE("docker: log unescaped, newline stripped, partials joined", "[framing]") {
  auto f = make_framer(Format::kDocker, 1 << 20);
  CollectingHandler h;
  const std::string l1 = R"({"log":"{\"msg\":\"hi\"}\n","stream":"stdout","time":"2026-11-26T23:08:04.5Z"})" "\n";
  const std::string l2 = R"({"log":"long par","stream":"stderr","time":"2026-11-26T23:08:05Z"})" "\n";
  const std::string l3 = R"({"log":"t\tdone\r\n","stream":"stderr","time":"2026-11-26T23:08:06Z"})" "\n";
  feed(*f, h, l1 + l2 + l3);
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0].payload == "{\"msg\":\"hi\"}");
  CHECK(h.frames[0].ts == "2026-11-26T23:08:04.5Z");
  CHECK(h.frames[0].stream == "stdout");
  CHECK(h.frames[0].commit_offset == l1.size());
  CHECK(h.frames[1].payload == "long part\tdone");
  CHECK(h.frames[1].stream == "stderr");
  CHECK(h.frames[1].ts == "2026-11-26T23:08:05Z");
}

TEST_CASE("docker: invalid JSON lines ship as text", "[framing]") {
  auto f = make_framer(Format::kDocker, 1 << 20);
  CollectingHandler h;
  feed(*f, h, "{\"log\":\"unterminated\n{\"nolog\":1}\n");
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0].payload == "{\"log\":\"unterminated");
  CHECK(h.frames[1].payload == "{\"nolog\":1}");
  CHECK(h.frames[1].ts.empty());
}

TEST_CASE("raw: every line a record with the read time, stdout", "[framing]") {
  auto f = make_framer(Format::kRaw, 1 << 20);
  f->set_read_time("2026-11-26T00:00:00.000000000Z");
  CollectingHandler h;
  feed(*f, h, "one\n\ntwo\r\nthree");
  REQUIRE(h.frames.size() == 4);
  CHECK(h.frames[0].payload == "one");
  CHECK(h.frames[1].payload.empty());
  CHECK(h.frames[2].payload == "two");
  CHECK(h.frames[3].payload == "three");
  CHECK(h.frames[3].ts == "2026-11-26T00:00:00.000000000Z");
  CHECK(h.frames[3].stream == "stdout");
}

TEST_CASE("auto: detects each format from the first line", "[framing]") {
  CHECK(detect_format("2026-11-26T23:08:04Z stdout F x") == Format::kCri);
  CHECK(detect_format(R"({"log":"x\n","stream":"stdout","time":"2026-11-26T23:08:04Z"})") == Format::kDocker);
  CHECK(detect_format(R"({"log":"x\n","stream":"stdout","time":"t"})") == Format::kRaw);
  CHECK(detect_format(R"({"msg":"app json"})") == Format::kRaw);
  CHECK(detect_format("hello") == Format::kRaw);

  auto f = make_framer(Format::kAuto, 1 << 20);
  CHECK(f->format() == Format::kAuto);
  CollectingHandler h;
  feed(*f, h, cri("stderr", "F", "x"));
  CHECK(f->format() == Format::kCri);
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].stream == "stderr");
}

TEST_CASE("cut lines from the reader are marked truncated", "[framing]") {
  auto f = make_framer(Format::kCri, 1 << 20);
  CollectingHandler h;
  std::string line = std::string(kTs) + " stdout F " + std::string(100, 'x');
  line.append(logship::json::kPadding, '\0');
  f->on_line({std::string_view(line.data(), 60), 0, 0, true}, h);
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].truncated);
  CHECK(h.frames[0].payload == std::string(60 - 40, 'x'));
  CHECK(h.frames[0].commit_offset == 0);
}
