#include "agent/admin/progress.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>

#include "agent/core/log.h"

namespace logship::admin {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// "512 B", "1.2 KiB", "4.0 GiB": one decimal, binary units, as `ls -h`.
std::string human_bytes(uint64_t n) {
  static constexpr std::array<const char*, 6> kUnits = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < kUnits.size()) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

// "34s", "5m07s", "2h03m".
std::string human_duration(std::chrono::seconds s) {
  const long long t = s.count();
  char buf[32];
  if (t < 60) {
    std::snprintf(buf, sizeof buf, "%llds", t);
  } else if (t < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
  }
  return buf;
}

void write_stderr(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(2, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // progress is best effort: a closed stderr must not stop the run
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

constexpr std::string_view kEraseLine = "\r\x1b[K";

}  // namespace

Result<ProgressMode> parse_progress_mode(std::string_view text) {
  if (iequals(text, "auto")) return ProgressMode::kAuto;
  if (iequals(text, "off")) return ProgressMode::kOff;
  if (iequals(text, "json")) return ProgressMode::kJson;
  return fail(Errc::kInvalid, "LOGSHIP_PROGRESS: \"" + std::string(text) + "\" is not one of auto, off, json");
}

ProgressOutput resolve_progress_output(ProgressMode mode, bool stderr_is_terminal) {
  switch (mode) {
    case ProgressMode::kOff: return ProgressOutput::kNone;
    case ProgressMode::kJson: return ProgressOutput::kJson;
    case ProgressMode::kAuto: break;
  }
  return stderr_is_terminal ? ProgressOutput::kTerminal : ProgressOutput::kJson;
}

ProgressStatus ProgressReporter::status_of(const ProgressSample& sample) {
  ProgressStatus st;
  st.sample = sample;
  const double secs = std::chrono::duration<double>(sample.elapsed).count();
  if (secs > 0) st.bytes_per_second = static_cast<double>(sample.bytes_read) / secs;
  if (sample.bytes_read >= sample.bytes_total) {
    st.eta = std::chrono::seconds(0);
  } else if (st.bytes_per_second > 0) {
    const double remaining = static_cast<double>(sample.bytes_total - sample.bytes_read);
    st.eta = std::chrono::seconds(static_cast<int64_t>(std::ceil(remaining / st.bytes_per_second)));
  }
  return st;
}

std::string render_progress_line(const ProgressStatus& st) {
  const ProgressSample& s = st.sample;
  char rate[32];
  // MB/s in decimal megabytes, as disk and network tools quote throughput.
  std::snprintf(rate, sizeof rate, "%.1f MB/s", st.bytes_per_second / 1e6);
  std::string out;
  out += "files " + std::to_string(s.files_done) + "/" + std::to_string(s.files_total);
  out += "  bytes " + human_bytes(s.bytes_read) + "/" + human_bytes(s.bytes_total);
  out += "  ";
  out += rate;
  out += "  records " + std::to_string(s.records);
  out += "  retries " + std::to_string(s.retries);
  out += "  ETA " + (st.eta ? human_duration(*st.eta) : std::string("?"));
  return out;
}

void log_progress(const ProgressStatus& st, bool done) {
  const ProgressSample& s = st.sample;
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.elapsed).count();
  const auto bps = static_cast<uint64_t>(st.bytes_per_second);
  const char* msg = done ? "backfill done" : "backfill progress";
  if (st.eta && !done) {
    log::info("progress", msg,
              {{"files_done", s.files_done}, {"files_total", s.files_total}, {"bytes_read", s.bytes_read},
               {"bytes_total", s.bytes_total}, {"bytes_per_second", bps}, {"records", s.records},
               {"retries", s.retries}, {"elapsed_ms", static_cast<int64_t>(elapsed_ms)},
               {"eta_s", static_cast<int64_t>(st.eta->count())}});
  } else {
    log::info("progress", msg,
              {{"files_done", s.files_done}, {"files_total", s.files_total}, {"bytes_read", s.bytes_read},
               {"bytes_total", s.bytes_total}, {"bytes_per_second", bps}, {"records", s.records},
               {"retries", s.retries}, {"elapsed_ms", static_cast<int64_t>(elapsed_ms)}});
  }
}

ProgressReporter::ProgressReporter(ProgressOutput output, Options options, Writer writer, JsonEmitter json)
    : output_(output),
      options_(options),
      writer_(writer ? std::move(writer) : Writer(write_stderr)),
      json_(json ? std::move(json) : JsonEmitter(log_progress)) {}

void ProgressReporter::update(const ProgressSample& sample) {
  if (finished_ || output_ == ProgressOutput::kNone) return;
  const auto interval = output_ == ProgressOutput::kTerminal
                            ? std::chrono::nanoseconds(options_.terminal_interval)
                            : std::chrono::nanoseconds(options_.json_interval);
  // JSON: the first line after one interval (a short run logs only "done");
  // terminal: at once, so the user sees something immediately.
  const std::chrono::nanoseconds since = last_shown_.value_or(
      output_ == ProgressOutput::kJson ? std::chrono::nanoseconds(0) : sample.elapsed - interval);
  if (sample.elapsed - since < interval) return;
  last_shown_ = sample.elapsed;
  show(sample);
}

void ProgressReporter::show(const ProgressSample& sample) {
  const ProgressStatus st = status_of(sample);
  if (output_ == ProgressOutput::kJson) {
    json_(st, false);
    return;
  }
  // \r and clear-to-EOL first: the new line may be shorter than the old.
  std::string out(kEraseLine);
  out += render_progress_line(st);
  writer_(out);
  line_drawn_ = true;
}

void ProgressReporter::finish(const ProgressSample& sample) {
  if (finished_) return;
  finished_ = true;
  if (output_ == ProgressOutput::kJson) {
    json_(status_of(sample), true);
  } else if (output_ == ProgressOutput::kTerminal && line_drawn_) {
    writer_(kEraseLine);
    line_drawn_ = false;
  }
}

}  // namespace logship::admin
