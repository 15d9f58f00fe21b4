#pragma once
// The HTTP sink's configuration: its LOGSHIP_HTTP_* keys bound to
// HttpSettings, their validation, and HttpSinkOptions: everything the sink
// needs, resolved from the settings before any thread starts. Secret files
// (token, password) are read here, once; their contents live only in
// `headers` and never reach a log line or an error message.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/sink_context.h"
#include "agent/core/result.h"
#include "agent/core/sink.h"
#include "sinks/codec/compressor.h"
#include "sinks/http/http_format.h"
#include "sinks/http/http_url.h"

namespace logship::sinks::http {

/// LOGSHIP_COMPRESSION when unset: gzip is what every aggregator accepts as
/// Content-Encoding.
inline constexpr std::string_view kDefaultCompression = "gzip";

/// Set from the keys below by the config engine (the initialisers only keep
/// a default-constructed struct determinate; the defaults live in the rows).
/// Secrets are read from the *_file paths when the sink is created, never
/// held here.
struct HttpSettings {
  std::string url;  ///< required when the sink is http; http:// or https://
  HttpFormat format{};
  std::string index;  ///< elasticsearch: may hold {namespace} and %Y %m %d
  std::optional<std::string> token_file;
  std::optional<std::string> user;
  std::optional<std::string> password_file;
  std::vector<std::string> headers;  ///< "Name=value" items
  std::optional<std::string> ca_file;
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  bool tls_insecure = false;
  uint32_t concurrency = 0;  ///< 0: adaptive, else 1..256
  std::chrono::milliseconds timeout{};
};

/// LOGSHIP_HTTP_URL, _FORMAT, _INDEX, _TOKEN_FILE, _USER, _PASSWORD_FILE,
/// _HEADERS, _CA_FILE, _CERT_FILE, _KEY_FILE, _TLS_INSECURE, _CONCURRENCY,
/// _TIMEOUT_MS.
[[nodiscard]] std::span<const config::KeySpec> http_keys();

/// Every key's own value whatever the sink (URL shape, header names, index
/// characters; LOGSHIP_HTTP_CONCURRENCY already at parsing); when `selected`,
/// also the URL is required, the codec must be one HTTP takes, and the auth
/// and TLS keys must fit together. Throws config::ConfigError.
void validate(const HttpSettings& settings, const config::SinkContext& context, bool selected);

/// Builds the options (reading secret files) and the sink.
[[nodiscard]] Result<SinkPtr> create(const HttpSettings& settings, const config::SinkContext& context);

/// LOGSHIP_HTTP_CONCURRENCY: "adaptive" (any case) -> 0, a decimal number
/// -> itself (capped at kHttpConcurrencyInvalid - 1), anything else ->
/// kHttpConcurrencyInvalid. The key accepts adaptive and 1..256.
inline constexpr uint32_t kHttpConcurrencyInvalid = UINT32_MAX;
[[nodiscard]] uint32_t parse_http_concurrency(std::string_view text);

struct HttpSinkOptions {
  Url url;                      ///< target already set to the format's path when the URL had none
  HttpFormat format = HttpFormat::kNdjson;
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
  /// Threads that encode and compress bodies (body_workers.h); 0: one per
  /// CPU the process may use, 1 to 4. Not a setting: tests and
  /// benchmarks choose it.
  uint32_t encode_threads = 0;
  /// Bytes of compressed bodies the sink may hold (encoded ahead or on a
  /// connection) before it stops encoding ahead; 0: no cap. Set to an
  /// eighth of LOGSHIP_MEMORY_LIMIT. A request that holds a slot (a 413
  /// half, an item resend) is encoded regardless, so the sink never stalls.
  size_t body_budget = 0;
  std::chrono::milliseconds timeout{30000};
  /// Attempts per request before the batch is reported kRetry to the
  /// pipeline (0: retry until delivered, as in follow mode).
  uint32_t max_attempts = 0;
  std::chrono::milliseconds retry_base{100};
  std::chrono::milliseconds retry_cap{30000};
  std::string dead_letter_path;  ///< <state dir>/http-dead-letter.ndjson
};

/// Builds the options from validated settings and the sink context: parses
/// the URL, reads the token or password file, checks the extra headers.
/// Errors name the setting (LOGSHIP_HTTP_TOKEN_FILE: open /x: No such file
/// or directory).
[[nodiscard]] Result<HttpSinkOptions> options_from_settings(const HttpSettings& settings,
                                                            const config::SinkContext& context);

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
