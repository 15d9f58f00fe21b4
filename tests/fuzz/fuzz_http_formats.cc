// Every HTTP format's body encoder (sinks/http, LOGSHIP_HTTP_FORMAT): from a
// Batch of fuzzed records written by the real record encoder, each format's
// body for the whole batch, for a part of it and for a picked list (the
// Elasticsearch retry path) is what the receiver parses:
//   ndjson, elasticsearch, splunk_hec: newline-ended lines, each one valid
//     JSON (ndjson: one line per record, the batch's own bytes for a whole
//     batch; elasticsearch: an action line and a document per record);
//   loki, otlp: exactly one JSON document.
// Every body is valid UTF-8. No crash or UB (UBSan: time arithmetic on
// fuzzed timestamps).
//
// Input: see fuzz_records.h. Header flags: bits 0-1 pick the sub-selection;
// the header text is LOGSHIP_HTTP_INDEX (elasticsearch).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/http/formats.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_records.h"

namespace {

namespace http = logship::sinks::http;
using logship::fuzz::valid_json;
using logship::fuzz::valid_utf8;

/// Checks `body` is newline-ended lines of valid JSON, `lines` of them.
void check_ndjson(std::string_view body, size_t lines, const char* format) {
  LOGSHIP_FUZZ_CHECK(valid_utf8(body), body);
  size_t n = 0;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    if (nl == std::string_view::npos) logship::fuzz::violated(format, body);  // last line without '\n'
    const std::string_view line = body.substr(0, nl);
    if (!valid_json(line)) logship::fuzz::violated(format, line);
    body.remove_prefix(nl + 1);
    ++n;
  }
  LOGSHIP_FUZZ_CHECK(n == lines, std::string(format) + ": " + std::to_string(n) + " lines, expected " +
                                     std::to_string(lines));
}

void check_body(http::HttpFormat format, const logship::Batch& batch, const http::RecordSelection& sel,
                std::string_view body) {
  switch (format) {
    case http::HttpFormat::kNdjson:
      check_ndjson(body, sel.size(), "ndjson body is not one JSON line per record");
      if (sel.whole(batch.record_count())) LOGSHIP_FUZZ_CHECK(body == batch.data(), body);
      break;
    case http::HttpFormat::kElasticsearch:
      check_ndjson(body, 2 * sel.size(), "_bulk body is not action + document lines per record");
      break;
    case http::HttpFormat::kSplunkHec:
      check_ndjson(body, sel.size(), "splunk_hec body is not one JSON event per record");
      break;
    case http::HttpFormat::kLoki:
    case http::HttpFormat::kOtlp:
      LOGSHIP_FUZZ_CHECK(valid_utf8(body), body);
      LOGSHIP_FUZZ_CHECK(valid_json(body), body);
      break;
  }
}

/// LOGSHIP_HTTP_INDEX as the config lets it through (http_config.cc
/// validate: no upper case or \\ / * ? " < > | , # outside a %-directive;
/// control and non-ASCII bytes pass it, so they are fuzzed too); anything
/// else -> the default.
std::string index_template(std::string_view text) {
  if (text.empty()) return "logs-{namespace}-%Y.%m.%d";
  for (size_t i = 0; i < text.size(); ++i) {
    const auto ch = static_cast<unsigned char>(text[i]);
    if (ch == '%') {
      ++i;
      continue;
    }
    if ((ch >= 'A' && ch <= 'Z') || std::string_view(" \\/*?\"<>|,#").find(static_cast<char>(ch)) != std::string_view::npos) {
      return "logs-{namespace}-%Y.%m.%d";
    }
  }
  return std::string(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logship::fuzz::FuzzBatch fb;
  logship::fuzz::build_batch(data, size, fb);
  const logship::Batch& batch = fb.batch;
  const auto count = static_cast<uint32_t>(batch.record_count());
  if (count == 0) return 0;

  std::vector<http::RecordSelection> selections = {http::RecordSelection::range(0, count)};
  switch (fb.header_flags & 3) {
    case 1: selections.push_back(http::RecordSelection::range(count / 2, count)); break;
    case 2: {
      // Every other record, backwards: an explicit pick list.
      std::vector<uint32_t> picks;
      for (uint32_t i = count; i-- > 0;) {
        if (i % 2 == 0) picks.push_back(i);
      }
      selections.push_back(http::RecordSelection::picks(std::move(picks)));
      break;
    }
    case 3: {
      const auto [a, b] = selections[0].split();
      selections.push_back(a);
      selections.push_back(b);
      break;
    }
    default: break;
  }

  static constexpr http::HttpFormat kFormats[] = {http::HttpFormat::kNdjson, http::HttpFormat::kLoki,
                                                  http::HttpFormat::kElasticsearch, http::HttpFormat::kSplunkHec,
                                                  http::HttpFormat::kOtlp};
  std::string body;
  for (const http::HttpFormat format : kFormats) {
    http::Encoder encoder(format, index_template(fb.header_text));
    for (const auto& sel : selections) {
      if (sel.size() == 0) continue;
      auto r = encoder.encode(batch, sel, body);
      if (!r) continue;  // a refused body (e.g. a bad index) is not sent
      check_body(format, batch, sel, body);
    }
  }
  return 0;
}
