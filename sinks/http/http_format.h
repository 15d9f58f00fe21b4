#pragma once
// The HTTP sink's body formats (LOGSHIP_HTTP_FORMAT): a vocabulary type of
// its own so that the encoders, the settings and the tests share it without
// pulling in the sink or the config engine.

#include <cstddef>
#include <string_view>

namespace logship::sinks::http {

/// Request body format of the HTTP sink.
enum class HttpFormat { kNdjson, kLoki, kElasticsearch, kSplunkHec, kOtlp };

/// The key's words, in the enum's order.
inline constexpr std::string_view kHttpFormatNames[] = {"ndjson", "loki", "elasticsearch", "splunk_hec", "otlp"};

[[nodiscard]] inline std::string_view to_string(HttpFormat format) {
  return kHttpFormatNames[static_cast<size_t>(format)];
}

}  // namespace logship::sinks::http
