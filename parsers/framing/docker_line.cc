#include "parsers/framing/docker_line.h"

#include <simdjson.h>

#include <cstring>

#include "parsers/json/payload_parser.h"

namespace logship::framing {
namespace {

static_assert(json::kPadding >= simdjson::SIMDJSON_PADDING);

// Buffer capacity kept between lines.
constexpr size_t kKeepCapacity = 64 << 10;

/// One docker-line parser per thread, shared by every docker file that thread
/// reads: a parser keeps buffers sized to the longest line it has seen, too
/// much to keep per file when following thousands of files.
simdjson::dom::parser& docker_line_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.size() >= needle.size() && memmem(hay.data(), hay.size(), needle.data(), needle.size()) != nullptr;
}

}  // namespace

bool looks_like_docker(std::string_view line) {
  if (line.empty() || line.front() != '{') return false;
  // dockerd writes "log" first; other writers may reorder the keys.
  return line.starts_with("{\"log\":") || contains(line, "\"log\"");
}

bool looks_like_torn_docker(std::string_view line) {
  // ...","time":"2026-11-26T23:08:04.123456789+10:00"} : the last 64 bytes
  // hold the whole time field.
  if (line.size() < 12 || !line.ends_with("\"}")) return false;
  const std::string_view tail = line.size() > 64 ? line.substr(line.size() - 64) : line;
  return contains(tail, "\"time\":\"");
}

DockerVerdict DockerLineParser::parse(std::string_view line, DockerLine& out) {
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  // The reader guarantees padding after every line, so parse in place.
  if (docker_line_parser().parse(line.data(), line.size(), false).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    return DockerVerdict::kNotJson;
  }
  // One pass over the fields (dockerd writes log, stream, attrs, time):
  // cheaper than a lookup per key, each a scan of the object.
  std::string_view log, stream, time;
  bool has_log = false, has_stream = false, has_time = false;
  simdjson::dom::object attrs;
  bool has_attrs = false;
  for (const simdjson::dom::key_value_pair field : obj) {
    const std::string_view key = field.key;
    if (key == "log") {
      has_log = field.value.get_string().get(log) == simdjson::SUCCESS;
    } else if (key == "stream") {
      has_stream = field.value.get_string().get(stream) == simdjson::SUCCESS;
    } else if (key == "time") {
      has_time = field.value.get_string().get(time) == simdjson::SUCCESS;
    } else if (key == "attrs") {
      has_attrs = field.value.get_object().get(attrs) == simdjson::SUCCESS;
    }
  }
  if (!has_log) return DockerVerdict::kNoLog;
  if (!has_stream || (stream != "stdout" && stream != "stderr")) return DockerVerdict::kBadEnvelope;
  if (!has_time) return DockerVerdict::kBadTimestamp;
  const auto t = parse_rfc3339(time);
  if (!t) return DockerVerdict::kBadTimestamp;
  attrs_.clear();
  if (has_attrs && attrs.size() > 0) attrs_ = simdjson::minify(attrs);
  out.partial = log.empty() || log.back() != '\n';
  if (!out.partial) log.remove_suffix(1);
  // The unescaped strings live in the parser's buffer, reused by the next
  // parse; copy them (with padding) for the frame's lifetime.
  if (log_.capacity() > kKeepCapacity && log.size() < kKeepCapacity) std::string().swap(log_);
  log_.assign(log);
  log_.reserve(log_.size() + json::kPadding);
  time_.assign(time);
  out.log = log_;
  out.stream = stream == "stderr" ? std::string_view("stderr") : std::string_view("stdout");
  out.time = time_;
  out.parsed_time = *t;
  out.attrs = attrs_;
  return DockerVerdict::kOk;
}

}  // namespace logship::framing
