// The simdjson-only parse floor: how fast the JSON payloads of CRI log files
// can be parsed when nothing else is done. Every file is loaded whole into
// a padded buffer, then for every line the payload (after the third space:
// "<time> <stream> <tag> <payload>") is parsed in place with one reused
// simdjson::dom::parser. No tailing, framing, partial joining, field lookup,
// encoding or output, so logship's end-to-end throughput cannot exceed this.
//
//   logship_parse_floor [--all] [--repeat N] FILE...
//
// By default only payloads that start with '{' (after JSON whitespace) are
// parsed, as the agent only has to parse those; --all parses every payload
// (text lines then fail in simdjson). Loading is not timed; the best of
// --repeat passes (default 3) over all files is reported on stdout as
//   parse_floor: <MB/s of file bytes> MB/s, <lines/s> lines/s
// with MB = 10^6 bytes. Details go to stderr.

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Counts {
  uint64_t lines = 0;
  uint64_t parsed = 0;     // payloads handed to simdjson
  uint64_t valid = 0;      // ... that parsed without error
  uint64_t skipped = 0;    // payloads not starting with '{' (default mode)
  uint64_t malformed = 0;  // lines with fewer than three spaces
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// One pass over one file's bytes. `data` has SIMDJSON_PADDING readable
/// bytes after data + size, so every payload can be parsed in place.
void parse_lines(simdjson::dom::parser& parser, const char* data, size_t size, bool all,
                 Counts& counts) {
  const char* p = data;
  const char* const end = data + size;
  while (p < end) {
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (eol == nullptr) eol = end;
    ++counts.lines;
    const char* payload = p;
    bool ok = true;
    for (int field = 0; field < 3 && ok; ++field) {
      const void* sp = std::memchr(payload, ' ', static_cast<size_t>(eol - payload));
      if (sp == nullptr) {
        ok = false;
      } else {
        payload = static_cast<const char*>(sp) + 1;
      }
    }
    if (!ok) {
      ++counts.malformed;
    } else {
      const char* first = payload;
      while (first < eol && is_json_space(*first)) ++first;
      if (all || (first < eol && *first == '{')) {
        ++counts.parsed;
        simdjson::dom::element doc;
        const auto len = static_cast<size_t>(eol - payload);
        if (parser.parse(reinterpret_cast<const uint8_t*>(payload), len, false).get(doc) ==
            simdjson::SUCCESS) {
          ++counts.valid;
        }
      } else {
        ++counts.skipped;
      }
    }
    p = eol + 1;
  }
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--all] [--repeat N] FILE...\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool all = false;
  int repeat = 3;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--all") {
      all = true;
    } else if (arg == "--repeat" && i + 1 < argc) {
      const std::string_view v = argv[++i];
      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), repeat);
      if (ec != std::errc{} || ptr != v.data() + v.size() || repeat < 1) return usage(argv[0]);
    } else if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    } else if (arg.starts_with("--")) {
      return usage(argv[0]);
    } else {
      paths.emplace_back(arg);
    }
  }
  if (paths.empty()) return usage(argv[0]);

  std::vector<simdjson::padded_string> files;
  uint64_t total_bytes = 0;
  for (const std::string& path : paths) {
    simdjson::padded_string content;
    if (const auto err = simdjson::padded_string::load(path).get(content)) {
      std::fprintf(stderr, "parse_floor: %s: %s\n", path.c_str(), simdjson::error_message(err));
      return 1;
    }
    total_bytes += content.size();
    files.push_back(std::move(content));
  }

  simdjson::dom::parser parser;
  Counts counts;
  double best = 0;
  for (int pass = 0; pass < repeat; ++pass) {
    Counts c;
    const auto t0 = std::chrono::steady_clock::now();
    for (const simdjson::padded_string& f : files) parse_lines(parser, f.data(), f.size(), all, c);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass == 0 || secs < best) best = secs;
    counts = c;
  }
  best = std::max(best, 1e-9);

  std::fprintf(stderr,
               "parse_floor: %zu files, %llu bytes, %llu lines: %llu parsed (%llu valid), "
               "%llu skipped, %llu malformed; best of %d passes %.3f s; simdjson %d.%d.%d (%s)\n",
               files.size(), static_cast<unsigned long long>(total_bytes),
               static_cast<unsigned long long>(counts.lines),
               static_cast<unsigned long long>(counts.parsed),
               static_cast<unsigned long long>(counts.valid),
               static_cast<unsigned long long>(counts.skipped),
               static_cast<unsigned long long>(counts.malformed), repeat, best,
               int{simdjson::SIMDJSON_VERSION_MAJOR}, int{simdjson::SIMDJSON_VERSION_MINOR},
               int{simdjson::SIMDJSON_VERSION_REVISION},
               simdjson::get_active_implementation()->name().c_str());
  std::printf("parse_floor: %.1f MB/s, %.0f lines/s\n", static_cast<double>(total_bytes) / 1e6 / best,
              static_cast<double>(counts.lines) / best);
  return 0;
}
