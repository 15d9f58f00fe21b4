#include "agent/enrich/record_encoder.h"

#include "parsers/json/json_string.h"

namespace logship::enrich {
namespace {

/// Runtime timestamps and stream names are plain ASCII in practice; check
/// rather than assume, since they are copied verbatim into the output.
bool needs_escape(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) return true;
  }
  return false;
}

void append_plain_string(std::string& out, std::string_view s) {
  if (needs_escape(s)) {
    json::append_string(out, s);
    return;
  }
  out += '"';
  out.append(s);
  out += '"';
}

/// Appends `,` unless this is the first member after `{`.
void separator(std::string& out) {
  if (out.back() != '{') out += ',';
}

}  // namespace

RecordEncoder::RecordEncoder(const std::optional<std::string>& release) {
  if (release && !release->empty()) release_member_ = encode_release_member(*release);
}

std::string encode_release_member(std::string_view release) {
  std::string out = "\"release\":";
  json::append_string(out, release);
  return out;
}

void RecordEncoder::encode(const framing::Frame& frame, const SourceContext& source,
                           std::string& out) {
  const json::PayloadParser::Parsed parsed = parser_.parse(frame.payload);
  out += '{';
  if (!frame.ts.empty()) {
    out += "\"ts\":";
    append_plain_string(out, frame.ts);
  }
  if (!frame.stream.empty()) {
    separator(out);
    out += "\"stream\":";
    append_plain_string(out, frame.stream);
  }
  // LOGSHIP_RELEASE, when set, overrides the release found for the pod.
  const std::string& release = release_member_.empty() ? source.release_member : release_member_;
  if (!release.empty()) {
    separator(out);
    out += release;
  }
  if (parsed.trace.has_trace) {
    separator(out);
    out += "\"trace_id\":\"";
    out.append(parsed.trace.trace());
    out += '"';
  }
  if (parsed.trace.has_span) {
    separator(out);
    out += "\"span_id\":\"";
    out.append(parsed.trace.span());
    out += '"';
  }
  if (!source.k8s_member.empty()) {
    separator(out);
    out += source.k8s_member;
  }
  separator(out);
  out += "\"log\":";
  if (parsed.is_object) {
    out.append(parsed.object);
  } else {
    json::append_string(out, frame.payload);
  }
  if (frame.truncated) out += ",\"truncated\":true";
  out += '}';
}

}  // namespace logship::enrich
