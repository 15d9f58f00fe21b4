// Framing micro-benchmark: runs a framer (and optionally the multiline
// processor) over the lines of a log file held in memory, and prints ns per
// line and MB/s. The cost of per-line format detection and of multiline
// joining, apart from reading, parsing payloads and writing output.
//
//   build/bench/logship_framing_bench <file> <auto|cri|docker|raw> [rounds] [multiline]
//
// Uses only make_framer(Format, size_t) and on_line/finish, so the same
// source builds against older framers for before/after numbers (define
// FRAMING_BENCH_NO_MULTILINE there).

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/framing/framer.h"
#ifndef FRAMING_BENCH_NO_MULTILINE
#include "agent/processors/multiline.h"
#endif

using namespace logship;

namespace {

#ifndef FRAMING_BENCH_NO_MULTILINE
struct Sink final : RecordEmitter {
  void emit(const Record& r) override {
    bytes += r.payload.size();
    ++records;
    // A few joined records on stderr, to eyeball false merges on the corpus.
    if (r.payload.find('\n') != std::string_view::npos && shown < 4) {
      ++shown;
      std::fprintf(stderr, "--- joined record:\n%.*s\n", static_cast<int>(r.payload.size()), r.payload.data());
    }
  }
  size_t bytes = 0, records = 0, shown = 0;
};
#endif

struct Handler final : framing::FrameHandler {
  void on_frame(const framing::Frame& f) override {
    bytes += f.payload.size() + f.ts.size();
    ++frames;
#ifndef FRAMING_BENCH_NO_MULTILINE
    if (multiline != nullptr) {
      Record r;
      r.ts = f.ts;
      r.stream = f.stream;
      r.payload = f.payload;
      r.commit_offset = f.commit_offset;
      r.source = &source;
      // The encoder would tell; the shape is close enough here.
      r.kind = !f.payload.empty() && f.payload.front() == '{' ? PayloadKind::kJsonObject : PayloadKind::kText;
      multiline->process(r, sink);
    }
#endif
  }
  size_t bytes = 0, frames = 0;
#ifndef FRAMING_BENCH_NO_MULTILINE
  processors::MultilineProcessor* multiline = nullptr;
  SourceInfo source;
  Sink sink;
#endif
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <file> <auto|cri|docker|raw> [rounds] [multiline]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  const size_t size = data.size();
  data.append(64, '\0');
  const std::string mode = argv[2];
  const framing::Format format = mode == "cri"      ? framing::Format::kCri
                                 : mode == "docker" ? framing::Format::kDocker
                                 : mode == "raw"    ? framing::Format::kRaw
                                                    : framing::Format::kAuto;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
  const bool multiline = argc > 4 && std::strcmp(argv[4], "multiline") == 0;

  std::vector<framing::Line> lines;
  for (size_t pos = 0; pos < size;) {
    const char* nl = static_cast<const char*>(std::memchr(data.data() + pos, '\n', size - pos));
    const size_t end = nl ? static_cast<size_t>(nl - data.data()) : size;
    lines.push_back({std::string_view(data.data() + pos, end - pos), pos, end + 1, false});
    pos = end + 1;
  }

  double best = 1e100;
  size_t frames = 0;
  for (int r = 0; r < rounds; ++r) {
    Handler h;
    auto framer = framing::make_framer(format, 1 << 20);
    framer->set_read_time("2026-12-01T00:00:00.000000000Z");
#ifndef FRAMING_BENCH_NO_MULTILINE
    processors::MultilineOptions o;
    o.langs = processors::kAllLangs;
    auto stats = std::make_shared<processors::MultilineStats>();
    processors::MultilineProcessor proc(o, stats);
    if (multiline) h.multiline = &proc;
#else
    (void)multiline;
#endif
    const auto t0 = std::chrono::steady_clock::now();
    for (const framing::Line& l : lines) framer->on_line(l, h);
    framer->finish(size, h);
#ifndef FRAMING_BENCH_NO_MULTILINE
    if (multiline) proc.flush(FlushReason::kEndOfFile, h.sink);
#endif
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
#ifndef FRAMING_BENCH_NO_MULTILINE
    if (multiline && r == 0) {
      std::fprintf(stderr, "multiline: %zu records out, %llu groups joined, %llu lines joined\n", h.sink.records,
                   static_cast<unsigned long long>(stats->groups_joined.load()),
                   static_cast<unsigned long long>(stats->lines_joined.load()));
    }
#endif
    best = std::min(best, s);
    frames = h.frames;
  }
  std::printf("%s %s%s: %zu lines, %zu frames, best %.1f ns/line, %.0f MB/s\n", argv[1], mode.c_str(),
              multiline ? "+multiline" : "", lines.size(), frames, best * 1e9 / static_cast<double>(lines.size()),
              static_cast<double>(size) / best / 1e6);
  return 0;
}
