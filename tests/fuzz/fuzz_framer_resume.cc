// File reader + every framer: resuming from any committed offset loses
// nothing and invents nothing.
//
// Input: byte 0 picks the format (auto, cri, docker, raw) and the record
// limit, byte 1 the reader's chunk and line limit; the rest is the file.
// The file is read whole once; then, for each distinct commit offset c a
// frame carried, it is read again from c with a fresh reader and framer of
// the configured format, positioned by FileReader::resume_at (which shows
// the framer the bytes before c): what the agent does after a restart. The
// resumed frames must be a subsequence of the whole read's frames (nothing
// invented) that contains every frame after i, the first frame whose commit
// offset is c (nothing lost). Frames before i may come again (at-least-once).
// Not a plain suffix: a partial flushed at the end is emitted after lines
// that began after it, and those come again after a resume past its start.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/tail/file_reader.h"
#include "parsers/framing/framer.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using logship::framing::Format;

struct Frame {
  std::string ts, stream, payload;
  bool truncated = false;
  uint64_t commit_offset = 0;
  bool operator==(const Frame& o) const {
    return ts == o.ts && stream == o.stream && payload == o.payload && truncated == o.truncated;
  }
};

class Collect final : public logship::framing::FrameHandler {
 public:
  void on_frame(const logship::framing::Frame& f) override {
    frames.push_back({std::string(f.ts), std::string(f.stream), std::string(f.payload), f.truncated, f.commit_offset});
  }
  std::vector<Frame> frames;
};

/// One scratch file per fuzzing process, removed when it exits normally.
const std::string& file_path() {
  struct Scratch {
    std::string path = "/tmp/logship-fuzz-" + std::to_string(::getpid()) + ".log";
    ~Scratch() { ::unlink(path.c_str()); }
  };
  static const Scratch scratch;
  return scratch.path;
}

std::string describe(const std::vector<Frame>& frames) {
  std::string out;
  for (const Frame& f : frames) {
    out += "[" + f.ts + "|" + f.stream + "|" + f.payload + "|" + (f.truncated ? "T" : "") + "@" +
           std::to_string(f.commit_offset) + "]\n";
  }
  return out;
}

/// Reads the file from `offset` with a new reader and framer.
void read_from(uint64_t offset, Format format, size_t max_record, size_t chunk, size_t max_line,
               std::vector<Frame>& out) {
  logship::tail::FileReader reader(chunk, max_line);
  if (!reader.open(file_path())) logship::fuzz::violated("cannot open the fuzz file");
  auto framer = logship::framing::make_framer(format, max_record);
  if (!reader.resume_at(offset, *framer)) logship::fuzz::violated("cannot read before the resume offset");
  framer->set_read_time("2026-01-01T00:00:00Z");
  Collect c;
  for (int guard = 0; guard < 100000; ++guard) {
    auto n = reader.read_some(*framer, c);
    if (!n) logship::fuzz::violated("read error", n.error().message);
    if (*n == 0) break;
  }
  reader.finish(*framer, c);
  out = std::move(c.frames);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr Format kFormats[] = {Format::kAuto, Format::kCri, Format::kDocker, Format::kRaw};
  const Format format = kFormats[data[0] & 3];
  const size_t max_record = size_t{8} << ((data[0] >> 2) & 7);  // 8 B .. 1 KiB: truncation is exercised
  const size_t max_line = size_t{16} << (data[1] & 7);           // 16 B .. 2 KiB: cut lines too
  const size_t chunk = size_t{64} << ((data[1] >> 3) & 7);       // 64 B .. 8 KiB: lines across chunks
  const int fd = ::open(file_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) logship::fuzz::violated("cannot create the fuzz file");
  const size_t len = size - 2;
  if (len > 0 && ::write(fd, data + 2, len) != static_cast<ssize_t>(len)) logship::fuzz::violated("short write");
  ::close(fd);

  std::vector<Frame> whole;
  read_from(0, format, max_record, chunk, max_line, whole);
  std::map<uint64_t, size_t> first_with;  // commit offset -> first frame index carrying it
  for (size_t i = 0; i < whole.size(); ++i) {
    const uint64_t c = whole[i].commit_offset;
    LOGSHIP_FUZZ_CHECK(c <= len, describe(whole));
    first_with.emplace(c, i);
  }
  for (const auto& [c, i] : first_with) {
    if (c == 0) continue;  // the whole read itself
    std::vector<Frame> resumed;
    read_from(c, format, max_record, chunk, max_line, resumed);
    // Match from the end, each resumed frame to the latest equal whole frame
    // before the previous match: if any embedding covers the frames after i,
    // this one does.
    bool ok = true;
    size_t next = whole.size();  // resumed[k] must match an index below this
    size_t covered = whole.size();  // whole[covered..] are all matched
    for (size_t k = resumed.size(); ok && k-- > 0;) {
      while (next > 0 && !(whole[next - 1] == resumed[k])) --next;
      ok = next > 0;
      if (ok && --next + 1 == covered) covered = next;
    }
    ok = ok && covered <= i + 1;
    if (!ok) {
      logship::fuzz::violated("resuming at a commit offset loses or invents records",
                              "resumed at " + std::to_string(c) + " (after frame " + std::to_string(i) +
                                  ")\nwhole read:\n" + describe(whole) + "resumed:\n" + describe(resumed));
    }
  }
  return 0;
}
