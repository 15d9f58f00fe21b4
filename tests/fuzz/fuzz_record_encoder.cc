// Payload parser + record encoder: whatever the payload, timestamp, stream
// and metadata bytes, the encoded record is one valid JSON object in valid
// UTF-8, and a payload the parser calls a JSON object is carried verbatim.
//
// Input: byte 0 flags (1 truncated, 2 release set, 4 partial), then up to three 0xFF-separated
// fields (ts, stream, release) before the payload.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/batch.h"
#include "agent/core/record.h"
#include "agent/enrich/record_encoder.h"
#include "parsers/json/payload_parser.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view fields[3];
  for (auto& f : fields) {
    const size_t cut = rest.find('\xff');
    if (cut == std::string_view::npos) break;
    f = rest.substr(0, cut);
    rest.remove_prefix(cut + 1);
  }
  std::string payload(rest);
  const size_t n = payload.size();
  payload.append(logship::json::kPadding, '\0');
  const std::string_view body(payload.data(), n);

  static logship::json::PayloadParser parser;
  const auto parsed = parser.parse(body);
  if (parsed.is_object) {
    LOGSHIP_FUZZ_CHECK(logship::fuzz::valid_json(parsed.object), parsed.object);
    LOGSHIP_FUZZ_CHECK(logship::fuzz::valid_utf8(parsed.object), parsed.object);
  }

  const std::optional<std::string> release =
      (flags & 2) ? std::optional<std::string>(std::string(fields[2])) : std::nullopt;
  logship::enrich::RecordEncoder encoder(release);
  logship::enrich::SourceContext source;
  source.release_member = logship::enrich::encode_release_member(fields[2]);
  logship::Record record;
  record.ts = fields[0];
  record.stream = fields[1];
  record.payload = body;
  record.truncated = flags & 1;
  record.partial = flags & 4;
  std::string out;
  const logship::RecordFields f = encoder.encode(record, source, out);
  LOGSHIP_FUZZ_CHECK(logship::fuzz::valid_utf8(out), out);
  LOGSHIP_FUZZ_CHECK(logship::fuzz::valid_json(out), out);
  LOGSHIP_FUZZ_CHECK(out.front() == '{' && out.back() == '}', out);
  // The object is carried verbatim but for raw line breaks between its
  // tokens, which become spaces: a record is one line.
  std::string expected(parsed.object);
  for (char& c : expected) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  LOGSHIP_FUZZ_CHECK(out.find('\n') == std::string::npos, out);
  if (parsed.is_object) LOGSHIP_FUZZ_CHECK(out.find(expected) != std::string::npos, out);
  // The structure the sinks read instead of parsing: `log` is a JSON value
  // (the object verbatim, or a string), ts/stream are the string contents.
  LOGSHIP_FUZZ_CHECK(f.structured(), out);
  LOGSHIP_FUZZ_CHECK(logship::fuzz::valid_json(f.log.in(out)), out);
  if (parsed.is_object) LOGSHIP_FUZZ_CHECK(f.log.in(out) == expected, out);
  if (!record.ts.empty()) LOGSHIP_FUZZ_CHECK(logship::fuzz::valid_json("\"" + std::string(f.ts.in(out)) + "\""), out);

  // The Batch path writes the same record, newline-ended.
  logship::Batch batch;
  encoder.encode(record, source, batch);
  LOGSHIP_FUZZ_CHECK(batch.record_count() == 1 && batch.record(0) == out, out);
  LOGSHIP_FUZZ_CHECK(batch.data().size() == out.size() + 1 && batch.data().back() == '\n', batch.data());
  return 0;
}
