#pragma once
// HttpSinkOptions: everything the HTTP sink needs, resolved from the agent
// Config before any thread starts. Secret files (token, password) are read
// here, once; their contents live only in `headers` and never reach a log
// line or an error message.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/result.h"
#include "sinks/codec/compressor.h"
#include "sinks/http/http_url.h"

namespace logship::sinks::http {

struct HttpSinkOptions {
  Url url;                      ///< target already set to the format's path when the URL had none
  config::HttpFormat format = config::HttpFormat::kNdjson;
  std::string index_template;   ///< elasticsearch
  codec::Codec codec = codec::Codec::kGzip;
  /// Fixed headers of every request (auth, LOGSHIP_HTTP_HEADERS), in order.
  /// Values may be secret: never log them.
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> ca_file;
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  bool tls_insecure = false;
  uint32_t concurrency = 0;     ///< 0: adaptive
  uint32_t adaptive_max = 32;   ///< adaptive: upper bound
  std::chrono::milliseconds timeout{30000};
  /// Attempts per request before the batch is reported kRetry to the
  /// pipeline (0: retry until delivered, as in follow mode).
  uint32_t max_attempts = 0;
  std::chrono::milliseconds retry_base{100};
  std::chrono::milliseconds retry_cap{30000};
  std::string dead_letter_path;  ///< <state dir>/http-dead-letter.ndjson
};

/// Builds the options from the validated Config: parses the URL, reads the
/// token or password file, checks the extra headers. Errors name the
/// setting (LOGSHIP_HTTP_TOKEN_FILE: open /x: No such file or directory).
[[nodiscard]] Result<HttpSinkOptions> options_from_config(const config::Config& config);

/// "Basic <base64(user:password)>".
[[nodiscard]] std::string basic_auth(std::string_view user, std::string_view password);

/// RFC 4648 base64 with padding.
[[nodiscard]] std::string base64(std::string_view in);

/// The content of a secret file without trailing whitespace (editors and
/// `echo` add a newline that is not part of the token). Empty is an error.
[[nodiscard]] Result<std::string> read_secret_file(const std::string& path, std::string_view key);

/// Parses LOGSHIP_HTTP_HEADERS items ("Name=value"): names must be HTTP
/// tokens, values must not hold CR, LF or NUL, and headers the sink sets
/// itself (Host, Content-Length, Content-Type, Content-Encoding, Connection,
/// Transfer-Encoding) are refused. Errors never quote a value.
[[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> parse_extra_headers(
    const std::vector<std::string>& items);

}  // namespace logship::sinks::http
