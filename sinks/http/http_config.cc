#include "sinks/http/http_config.h"

#include "agent/core/secret_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sinks/http/civil_text.h"
#include "sinks/http/formats.h"
#include "sinks/http/http_sink.h"

namespace logship::sinks::http {
namespace {

bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}


/// LOGSHIP_HTTP_CONCURRENCY's syntax, checked while parsing so that a bad
/// value fails whatever the sink.
std::string concurrency_problem(std::string_view text) {
  const uint32_t n = parse_http_concurrency(text);
  if (n == kHttpConcurrencyInvalid || n > 256) return "expected adaptive or a decimal number between 1 and 256";
  return "";
}

void store_concurrency(HttpSettings& s, config::Value&& v) {
  s.concurrency = parse_http_concurrency(std::get<std::string>(v));
}

config::Value fetch_concurrency(const HttpSettings& s) {
  if (s.concurrency == 0) return std::string("adaptive");
  return std::to_string(s.concurrency);
}

// Secrets come from files, so only paths are shown; LOGSHIP_HTTP_HEADERS is
// hidden whole because extra headers usually carry API keys.
constexpr config::KeySpec kKeys[] = {
    {
        .env = "LOGSHIP_HTTP_URL",
        .kind = config::Kind::kString,
        .help = "HTTP sink endpoint, http:// or https://; required when LOGSHIP_SINK=http. Without a "
                "path the format's standard one is used (/loki/api/v1/push, /_bulk, ...).",
        .order = 300,
        .bind = config::bind<&HttpSettings::url>(),
    },
    {
        .env = "LOGSHIP_HTTP_FORMAT",
        .kind = config::Kind::kEnum,
        .default_text = "ndjson",
        .choices = kHttpFormatNames,
        .help = "HTTP request body: ndjson (records as they are), loki (push API), elasticsearch "
                "(_bulk), splunk_hec (HEC events) or otlp (OTLP/HTTP JSON logs).",
        .order = 310,
        .bind = config::bind<&HttpSettings::format>(),
    },
    {
        .env = "LOGSHIP_HTTP_INDEX",
        .kind = config::Kind::kString,
        .default_text = "logship-%Y.%m.%d",
        .help = "elasticsearch: target index; {namespace} and the record's UTC date (%Y, %m, %d) "
                "are filled per record.",
        .order = 320,
        .bind = config::bind<&HttpSettings::index>(),
    },
    {
        .env = "LOGSHIP_HTTP_TOKEN_FILE",
        .kind = config::Kind::kPath,
        .help = "File holding the bearer token (splunk_hec: the HEC token); read at start.",
        .order = 330,
        .bind = config::bind<&HttpSettings::token_file>(),
    },
    {
        .env = "LOGSHIP_HTTP_USER",
        .kind = config::Kind::kString,
        .help = "Basic-auth user; needs LOGSHIP_HTTP_PASSWORD_FILE.",
        .order = 340,
        .bind = config::bind<&HttpSettings::user>(),
    },
    {
        .env = "LOGSHIP_HTTP_PASSWORD_FILE",
        .kind = config::Kind::kPath,
        .help = "File holding the basic-auth password; read at start.",
        .order = 350,
        .bind = config::bind<&HttpSettings::password_file>(),
    },
    {
        .env = "LOGSHIP_HTTP_HEADERS",
        .kind = config::Kind::kList,
        .secret = true,
        .help = "Extra request headers, Name=value,...: e.g. X-Scope-OrgID=team-a.",
        .order = 360,
        .bind = config::bind<&HttpSettings::headers>(),
    },
    {
        .env = "LOGSHIP_HTTP_CA_FILE",
        .kind = config::Kind::kPath,
        .help = "PEM CA bundle that verifies the server's certificate (default: the system CAs).",
        .order = 370,
        .bind = config::bind<&HttpSettings::ca_file>(),
    },
    {
        .env = "LOGSHIP_HTTP_CERT_FILE",
        .kind = config::Kind::kPath,
        .help = "PEM client certificate (chain) for mutual TLS; needs LOGSHIP_HTTP_KEY_FILE.",
        .order = 380,
        .bind = config::bind<&HttpSettings::cert_file>(),
    },
    {
        .env = "LOGSHIP_HTTP_KEY_FILE",
        .kind = config::Kind::kPath,
        .help = "PEM private key of LOGSHIP_HTTP_CERT_FILE.",
        .order = 390,
        .bind = config::bind<&HttpSettings::key_file>(),
    },
    {
        .env = "LOGSHIP_HTTP_TLS_INSECURE",
        .kind = config::Kind::kBool,
        .default_text = "false",
        .help = "https: do not verify the server's certificate or name (logged as a warning).",
        .order = 400,
        .bind = config::bind<&HttpSettings::tls_insecure>(),
    },
    {
        .env = "LOGSHIP_HTTP_CONCURRENCY",
        .kind = config::Kind::kString,
        .default_text = "adaptive",
        .help = "Requests in flight: adaptive (AIMD on latency, 429, 503 and timeouts; 1 to 32) or a "
                "fixed number 1 to 256.",
        .order = 410,
        .check = concurrency_problem,
        .bind = config::bind_custom<HttpSettings, store_concurrency, fetch_concurrency>(),
    },
    {
        .env = "LOGSHIP_HTTP_TIMEOUT_MS",
        .kind = config::Kind::kInteger,
        .default_text = "30000",
        .min = 100,
        .max = 600000,
        .help = "HTTP sink: milliseconds for connecting or for one request's response; then it is "
                "retried.",
        .order = 420,
        .bind = config::bind<&HttpSettings::timeout>(),
    },
};

/// Why LOGSHIP_HTTP_URL is not an http(s) URL, or "". A light check of the
/// shape only (scheme, host, port); the HTTP sink parses it for real.
std::string http_url_problem(std::string_view url) {
  std::string_view rest;
  if (url.size() >= 7 && config::iequals(url.substr(0, 7), "http://")) {
    rest = url.substr(7);
  } else if (url.size() >= 8 && config::iequals(url.substr(0, 8), "https://")) {
    rest = url.substr(8);
  } else {
    return "the scheme must be http:// or https://";
  }
  if (std::any_of(url.begin(), url.end(), [](char ch) { return ch <= ' ' || ch == 0x7f; })) {
    return "it contains spaces or control characters";
  }
  std::string_view authority = rest.substr(0, std::min(rest.find('/'), rest.find('?')));
  if (authority.find('@') != std::string_view::npos) {
    return "credentials in the URL are not supported (use LOGSHIP_HTTP_USER and LOGSHIP_HTTP_PASSWORD_FILE)";
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return "bad [IPv6] host";
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "bad [IPv6] host";
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon == 0 || authority.empty()) return "missing host";
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (authority.find(':') != std::string_view::npos || !port.empty()) {
    if (authority.back() == ':' && port.empty()) return "empty port";
  }
  if (!port.empty()) {
    auto n = config::parse_decimal(port);
    if (!n || *n == 0 || *n > 65535) return "the port must be 1-65535";
  }
  return "";
}

}  // namespace

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string basic_auth(std::string_view user, std::string_view password) {
  std::string pair(user);
  pair += ':';
  pair += password;
  return "Basic " + base64(pair);
}

Result<std::string> read_secret_file(const std::string& path, std::string_view key) {
  auto read = logship::read_secret_file(path);
  if (!read) return fail(read.error().code, std::string(key) + ": " + read.error().message);
  std::string out = std::move(*read);
  // The value goes into a header, whose trailing white space is not part of
  // it (RFC 9110 5.5): trim what the file reader keeps.
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  if (out.empty()) return fail(Errc::kInvalid, std::string(key) + ": " + path + " is empty");
  // A line break would end the header early (and let a file inject headers).
  if (out.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return fail(Errc::kInvalid, std::string(key) + ": " + path + " holds a line break or NUL inside the secret");
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_extra_headers(const std::vector<std::string>& items) {
  static constexpr std::string_view kReserved[] = {"host", "content-length", "content-type", "content-encoding",
                                                   "connection", "transfer-encoding"};
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    const std::string_view name = std::string_view(item).substr(0, eq);
    if (eq == std::string::npos || name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      return fail(Errc::kInvalid,
                  "LOGSHIP_HTTP_HEADERS: an item is not Name=value with a valid header name (values not shown)");
    }
    std::string_view value = std::string_view(item).substr(eq + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return fail(Errc::kInvalid, "LOGSHIP_HTTP_HEADERS: the value of " + std::string(name) +
                                      " holds a line break or NUL");
    }
    for (std::string_view r : kReserved) {
      if (iequals(r, name)) {
        return fail(Errc::kInvalid, "LOGSHIP_HTTP_HEADERS: " + std::string(name) + " is set by the sink itself");
      }
    }
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

std::span<const config::KeySpec> http_keys() { return kKeys; }

uint32_t parse_http_concurrency(std::string_view text) {
  if (config::iequals(text, "adaptive")) return 0;
  auto n = config::parse_decimal(text);
  if (!n || *n == 0) return kHttpConcurrencyInvalid;
  return static_cast<uint32_t>(std::min<uint64_t>(*n, kHttpConcurrencyInvalid - 1));
}

void validate(const HttpSettings& s, const config::SinkContext& context, bool selected) {
  if (selected && s.url.empty()) {
    config::fail("LOGSHIP_HTTP_URL (--http-url) is required when LOGSHIP_SINK=http: e.g. "
                 "https://loki.example:3100");
  }
  if (!s.url.empty()) {
    if (auto why = http_url_problem(s.url); !why.empty()) {
      config::fail("LOGSHIP_HTTP_URL: \"" + s.url + "\" is not a usable URL: " + why);
    }
  }
  if (selected) {
    const std::string& comp = context.compression;
    if (comp != "gzip" && comp != "zstd" && comp != "none") {
      config::fail("LOGSHIP_COMPRESSION: \"" + comp +
                   "\" is not supported by the http sink; expected one of gzip, zstd, none");
    }
    if (s.user.has_value() != s.password_file.has_value()) {
      config::fail("LOGSHIP_HTTP_USER and LOGSHIP_HTTP_PASSWORD_FILE go together: basic auth needs both");
    }
    if (s.user && s.token_file) {
      config::fail("LOGSHIP_HTTP_TOKEN_FILE and LOGSHIP_HTTP_USER both set: choose bearer token or basic auth");
    }
    if (s.cert_file.has_value() != s.key_file.has_value()) {
      config::fail("LOGSHIP_HTTP_CERT_FILE and LOGSHIP_HTTP_KEY_FILE go together: mutual TLS needs both");
    }
    const bool https = s.url.size() >= 8 && config::iequals(std::string_view(s.url).substr(0, 8), "https://");
    if (!https && (s.ca_file || s.cert_file || s.tls_insecure)) {
      config::fail("LOGSHIP_HTTP_CA_FILE, LOGSHIP_HTTP_CERT_FILE and LOGSHIP_HTTP_TLS_INSECURE need an https:// "
                   "LOGSHIP_HTTP_URL");
    }
    if (s.tls_insecure && s.ca_file) {
      config::fail("LOGSHIP_HTTP_TLS_INSECURE=true and LOGSHIP_HTTP_CA_FILE both set: the CA file would be ignored");
    }
  }
  for (const auto& h : s.headers) {
    const size_t eq = h.find('=');
    const std::string_view name = std::string_view(h).substr(0, eq);
    if (eq == std::string::npos || name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      config::fail("LOGSHIP_HTTP_HEADERS: an item is not Name=value with a valid header name (values are "
                   "not shown: they may be secret)");
    }
  }
  if (s.format == HttpFormat::kElasticsearch) {
    // Index names: lower case, no spaces or \ / * ? " < > | , #; the
    // letter after a '%' is a date directive (%Y), not part of the name.
    for (size_t i = 0; i < s.index.size(); ++i) {
      const char ch = s.index[i];
      if (ch == '%') {
        ++i;
        continue;
      }
      if ((ch >= 'A' && ch <= 'Z') || std::string_view(" \\/*?\"<>|,#").find(ch) != std::string_view::npos) {
        config::fail("LOGSHIP_HTTP_INDEX: \"" + s.index + "\" has '" + std::string(1, ch) +
                     "', which Elasticsearch does not allow in index names");
      }
    }
  }
}

Result<SinkPtr> create(const HttpSettings& settings, const config::SinkContext& context) {
  auto options = options_from_settings(settings, context);
  if (!options) return std::unexpected(options.error());
  auto sink = HttpSink::create(std::move(*options));
  if (!sink) return std::unexpected(sink.error());
  return SinkPtr(std::move(*sink));
}

Result<HttpSinkOptions> options_from_settings(const HttpSettings& c, const config::SinkContext& context) {
  HttpSinkOptions o;
  auto url = parse_url(c.url);
  if (!url) return fail(Errc::kInvalid, "LOGSHIP_HTTP_URL: " + url.error().message);
  o.url = std::move(*url);
  o.format = c.format;
  if (o.url.target.empty()) {
    const std::string_view path = format_info(o.format).default_path;
    o.url.target = path.empty() ? "/" : std::string(path);
  }
  o.index_template = c.index;
  const std::string_view comp = context.compression.empty() ? kDefaultCompression : context.compression;
  if (comp == "gzip") {
    o.codec = codec::Codec::kGzip;
  } else if (comp == "zstd") {
    o.codec = codec::Codec::kZstd;
  } else if (comp == "none") {
    o.codec = codec::Codec::kNone;
  } else {
    return fail(Errc::kInvalid, "LOGSHIP_COMPRESSION: the http sink takes gzip, zstd or none");
  }
  if (c.token_file) {
    auto token = read_secret_file(*c.token_file, "LOGSHIP_HTTP_TOKEN_FILE");
    if (!token) return std::unexpected(token.error());
    // Splunk HEC has its own scheme name; everything else takes a bearer token.
    const std::string_view scheme = o.format == HttpFormat::kSplunkHec ? "Splunk " : "Bearer ";
    o.headers.emplace_back("Authorization", std::string(scheme) + *token);
  }
  if (c.user) {
    if (!c.password_file) return fail(Errc::kInvalid, "LOGSHIP_HTTP_USER needs LOGSHIP_HTTP_PASSWORD_FILE");
    auto password = read_secret_file(*c.password_file, "LOGSHIP_HTTP_PASSWORD_FILE");
    if (!password) return std::unexpected(password.error());
    o.headers.emplace_back("Authorization", basic_auth(*c.user, *password));
  }
  auto extra = parse_extra_headers(c.headers);
  if (!extra) return std::unexpected(extra.error());
  for (auto& h : *extra) {
    if (iequals(h.first, "authorization") && (c.token_file || c.user)) {
      return fail(Errc::kInvalid, "LOGSHIP_HTTP_HEADERS: Authorization is already set by LOGSHIP_HTTP_TOKEN_FILE or "
                                  "LOGSHIP_HTTP_USER");
    }
    o.headers.push_back(std::move(h));
  }
  o.ca_file = c.ca_file;
  o.cert_file = c.cert_file;
  o.key_file = c.key_file;
  o.tls_insecure = c.tls_insecure;
  o.concurrency = c.concurrency;
  o.timeout = c.timeout;
  // Oneshot must end: a few attempts in the sink, then the pipeline's own
  // (bounded) retries decide. Follow mode waits for the endpoint for ever;
  // the files are the buffer.
  o.max_attempts = context.oneshot ? 3 : 0;
  o.dead_letter_path = context.state_dir + "/http-dead-letter.ndjson";
  // Compressed bodies are held beside the batches the pipeline charges: an
  // eighth of the memory limit caps them (8 MiB of 64 MiB: a few dozen
  // bodies of 1 MiB batches at level 1). See README "Threads and memory".
  o.body_budget = context.memory_budget / 8;
  return o;
}

}  // namespace logship::sinks::http
