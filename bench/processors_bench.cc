// Throughput of the filtering and redaction processors (agent/processors)
// next to the simdjson parse floor, on the same CRI files in the same run.
//
//   logship_processors_bench [--min-level L|off] [--redact-keys K|none]
//                            [--redact-patterns P|none] [--repeat N] [--verify] FILE...
//
// Every file is loaded whole into a padded buffer; each line's payload
// (after "<time> <stream> <tag> ") becomes a Record, kJsonObject when it is
// one valid JSON object (decided once, untimed, with simdjson, as the
// encoder does) and kText otherwise. Three timed passes, best of --repeat:
//
//   floor       simdjson dom parse of every '{' payload (as parse_floor.cc)
//   processors  the processor chain alone over every record (defaults:
//               LOGSHIP_MIN_LEVEL=info, default redaction keys and patterns)
//   both        parse, then the chain: what the agent's hot path adds up to
//
// and prints MB/s (10^6 bytes of file per CPU second of this thread) for each, the
// processors' speed as a multiple of the floor and both/floor (the share of
// the floor's throughput that is left once the processors run too).
// --verify also checks, untimed, that the redaction pre-filter never changes
// a record's outcome against the unfiltered walk (exit 1 when it does).

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/processors/redact.h"
#include "agent/processors/settings.h"

namespace {

using logship::PayloadKind;
using logship::Record;
using namespace logship::processors;

struct Line {
  std::string_view ts;
  std::string_view stream;
  std::string_view payload;
  PayloadKind kind;
};

/// The end of the chain: counts what comes out, touching the bytes' size so
/// nothing is optimised away.
class Sink final : public logship::RecordEmitter {
 public:
  void emit(const Record& r) override {
    ++records;
    bytes += r.payload.size();
  }
  uint64_t records = 0;
  uint64_t bytes = 0;
};

class Link final : public logship::RecordEmitter {
 public:
  Link(logship::Processor& p, logship::RecordEmitter& next) : p_(p), next_(next) {}
  void emit(const Record& r) override { p_.process(r, next_); }

 private:
  logship::Processor& p_;
  logship::RecordEmitter& next_;
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void split_lines(const simdjson::padded_string& f, std::vector<Line>& out) {
  const char* p = f.data();
  const char* const end = f.data() + f.size();
  while (p < end) {
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (eol == nullptr) eol = end;
    const char* fields[4] = {p, nullptr, nullptr, nullptr};
    bool ok = true;
    for (int k = 1; k < 4 && ok; ++k) {
      const void* sp = std::memchr(fields[k - 1], ' ', static_cast<size_t>(eol - fields[k - 1]));
      ok = sp != nullptr;
      if (ok) fields[k] = static_cast<const char*>(sp) + 1;
    }
    if (ok) {
      out.push_back({std::string_view(p, static_cast<size_t>(fields[1] - p - 1)),
                     std::string_view(fields[1], static_cast<size_t>(fields[2] - fields[1] - 1)),
                     std::string_view(fields[3], static_cast<size_t>(eol - fields[3])),
                     PayloadKind::kText});
    }
    p = eol + 1;
  }
}

bool starts_object(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_json_space(s[i])) ++i;
  return i < s.size() && s[i] == '{';
}

bool parse(simdjson::dom::parser& parser, std::string_view payload) {
  simdjson::dom::element doc;
  return parser.parse(reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), false)
             .get(doc) == simdjson::SUCCESS;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--min-level L|off] [--redact-keys K|none] [--redact-patterns P|none] "
               "[--repeat N] [--verify] FILE...\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> env = {{"LOGSHIP_MIN_LEVEL", "info"}};
  int repeat = 3;
  bool verify = false;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto setting = [&](const char* key) {
      if (i + 1 >= argc) return false;
      const std::string_view v = argv[++i];
      if (v == "off") {
        env.erase(key);
      } else {
        env[key] = std::string(v);
      }
      return true;
    };
    if (arg == "--min-level") {
      if (!setting("LOGSHIP_MIN_LEVEL")) return usage(argv[0]);
    } else if (arg == "--redact-keys") {
      if (!setting("LOGSHIP_REDACT_KEYS")) return usage(argv[0]);
    } else if (arg == "--redact-patterns") {
      if (!setting("LOGSHIP_REDACT_PATTERNS")) return usage(argv[0]);
    } else if (arg == "--repeat" && i + 1 < argc) {
      const std::string_view v = argv[++i];
      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), repeat);
      if (ec != std::errc{} || ptr != v.data() + v.size() || repeat < 1) return usage(argv[0]);
    } else if (arg == "--verify") {
      verify = true;
    } else if (arg.starts_with("--")) {
      return usage(argv[0]);
    } else {
      paths.emplace_back(arg);
    }
  }
  if (paths.empty()) return usage(argv[0]);

  const auto settings = load_processing_settings([&](std::string_view key) -> std::optional<std::string> {
    const auto it = env.find(std::string(key));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  if (!settings) {
    std::fprintf(stderr, "processors_bench: %s\n", settings.error().message.c_str());
    return 2;
  }

  std::vector<simdjson::padded_string> files;
  std::vector<Line> lines;
  uint64_t total_bytes = 0;
  for (const std::string& path : paths) {
    simdjson::padded_string content;
    if (const auto err = simdjson::padded_string::load(path).get(content)) {
      std::fprintf(stderr, "processors_bench: %s: %s\n", path.c_str(), simdjson::error_message(err));
      return 1;
    }
    total_bytes += content.size();
    files.push_back(std::move(content));
  }
  for (const auto& f : files) split_lines(f, lines);

  simdjson::dom::parser parser;
  uint64_t json_records = 0;
  for (Line& l : lines) {
    if (starts_object(l.payload) && parse(parser, l.payload)) {
      l.kind = PayloadKind::kJsonObject;
      ++json_records;
    }
  }

  ProcessorStats stats;
  const auto factories = build_processor_factories(*settings, false, stats);
  logship::SourceInfo source;
  source.path = "bench";
  std::vector<logship::ProcessorPtr> chain;
  for (const auto& f : factories) {
    if (auto p = f->create(source)) chain.push_back(std::move(p));
  }
  Sink sink;
  std::vector<std::unique_ptr<Link>> links;
  logship::RecordEmitter* head = &sink;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    links.push_back(std::make_unique<Link>(**it, *head));
    head = links.back().get();
  }

  const auto record_of = [&](const Line& l) {
    Record r;
    r.ts = l.ts;
    r.stream = l.stream;
    r.payload = l.payload;
    r.kind = l.kind;
    r.source = &source;
    return r;
  };
  // Thread CPU time, not wall time: the benchmark machine is shared, and time
  // spent descheduled is not the processors' cost.
  const auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  const auto timed = [&](auto&& pass) {
    double best = 0;
    for (int k = 0; k < repeat; ++k) {
      const double t0 = cpu_now();
      pass();
      const double s = cpu_now() - t0;
      if (k == 0 || s < best) best = s;
    }
    return std::max(best, 1e-9);
  };

  uint64_t parsed_ok = 0;
  const double t_floor = timed([&] {
    parsed_ok = 0;
    for (const Line& l : lines) {
      if (starts_object(l.payload)) parsed_ok += parse(parser, l.payload) ? 1 : 0;
    }
  });
  const double t_proc = timed([&] {
    sink = Sink{};
    for (const Line& l : lines) head->emit(record_of(l));
  });
  const uint64_t out_records = sink.records;
  const double t_both = timed([&] {
    for (const Line& l : lines) {
      if (starts_object(l.payload)) parsed_ok += parse(parser, l.payload) ? 1 : 0;
      head->emit(record_of(l));
    }
  });

  uint64_t mismatches = 0;
  uint64_t changed = 0;
  if (verify) {
    RedactConfig config;
    config.keys = KeySet(settings->redact_keys);
    config.patterns = settings->redact_patterns;
    std::string a, b;
    for (const Line& l : lines) {
      std::array<uint32_t, kRedactKindCount> ca{}, cb{};
      const bool x = redact_payload(l.payload, l.kind, config, a, ca);
      const bool y = redact_payload_unfiltered(l.payload, l.kind, config, b, cb);
      changed += y ? 1 : 0;
      if (x != y || (x && a != b)) {
        if (++mismatches <= 5) std::fprintf(stderr, "mismatch: %.*s\n", static_cast<int>(l.payload.size()), l.payload.data());
      }
    }
  }

  const double mb = static_cast<double>(total_bytes) / 1e6;
  std::fprintf(stderr, "processors_bench: %zu files, %llu bytes, %zu records (%llu JSON); best of %d\n",
               files.size(), static_cast<unsigned long long>(total_bytes), lines.size(),
               static_cast<unsigned long long>(json_records), repeat);
  std::fprintf(stderr, "rules:\n%s", render_processing_rules(*settings, false).c_str());
  std::fprintf(stderr, "records out %llu of %zu; dropped (level) %llu; redactions:",
               static_cast<unsigned long long>(out_records), lines.size(),
               static_cast<unsigned long long>(stats.dropped_level.load() / static_cast<uint64_t>(2 * repeat)));
  for (size_t k = 0; k < kRedactKindCount; ++k) {
    std::fprintf(stderr, " %s=%llu", std::string(kRedactKindNames[k]).c_str(),
                 static_cast<unsigned long long>(stats.redaction_count(static_cast<RedactKind>(k)) /
                                                 static_cast<uint64_t>(2 * repeat)));
  }
  std::fprintf(stderr, "\n");
  if (verify) {
    std::fprintf(stderr, "verify: %llu records changed by redaction, %llu pre-filter mismatches\n",
                 static_cast<unsigned long long>(changed), static_cast<unsigned long long>(mismatches));
  }
  // The processors pass touches every record first (cache misses that the
  // agent's framer takes before the processors run); both - floor is their
  // cost on records already in cache, as in the agent.
  const double t_marginal = std::max(t_both - t_floor, 1e-9);
  std::printf("floor: %.1f MB/s\nprocessors: %.1f MB/s (%.2fx the floor)\n"
              "both: %.1f MB/s (%.3f of the floor)\nprocessors on cached records (both - floor): %.1f MB/s\n",
              mb / t_floor, mb / t_proc, t_floor / t_proc, mb / t_both, t_floor / t_both, mb / t_marginal);
  return mismatches == 0 ? 0 : 1;
}
