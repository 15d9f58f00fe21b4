#include "sinks/http/http_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sinks/http/civil_text.h"
#include "sinks/http/formats.h"

namespace logship::sinks::http {
namespace {

bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
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
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno(std::string(key) + ": open " + path);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = fail_errno(std::string(key) + ": read " + path);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) {
      ::close(fd);
      return fail(Errc::kInvalid, std::string(key) + ": " + path + " is larger than 1 MiB; not a secret file?");
    }
  }
  ::close(fd);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ' || out.back() == '\t')) {
    out.pop_back();
  }
  if (out.empty()) return fail(Errc::kInvalid, std::string(key) + ": " + path + " is empty");
  // The value goes into a header: a line break would end it early (and let a
  // file inject headers).
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

Result<HttpSinkOptions> options_from_config(const config::Config& c) {
  HttpSinkOptions o;
  auto url = parse_url(c.http_url);
  if (!url) return fail(Errc::kInvalid, "LOGSHIP_HTTP_URL: " + url.error().message);
  o.url = std::move(*url);
  o.format = c.http_format;
  if (o.url.target.empty()) {
    const std::string_view path = format_info(o.format).default_path;
    o.url.target = path.empty() ? "/" : std::string(path);
  }
  o.index_template = c.http_index;
  switch (config::effective_compression(c)) {
    case config::Compression::kGzip: o.codec = codec::Codec::kGzip; break;
    case config::Compression::kZstd: o.codec = codec::Codec::kZstd; break;
    case config::Compression::kNone: o.codec = codec::Codec::kNone; break;
    default:
      return fail(Errc::kInvalid, "LOGSHIP_COMPRESSION: the http sink takes gzip, zstd or none");
  }
  if (c.http_token_file) {
    auto token = read_secret_file(*c.http_token_file, "LOGSHIP_HTTP_TOKEN_FILE");
    if (!token) return std::unexpected(token.error());
    // Splunk HEC has its own scheme name; everything else takes a bearer token.
    const std::string_view scheme = o.format == config::HttpFormat::kSplunkHec ? "Splunk " : "Bearer ";
    o.headers.emplace_back("Authorization", std::string(scheme) + *token);
  }
  if (c.http_user) {
    if (!c.http_password_file) return fail(Errc::kInvalid, "LOGSHIP_HTTP_USER needs LOGSHIP_HTTP_PASSWORD_FILE");
    auto password = read_secret_file(*c.http_password_file, "LOGSHIP_HTTP_PASSWORD_FILE");
    if (!password) return std::unexpected(password.error());
    o.headers.emplace_back("Authorization", basic_auth(*c.http_user, *password));
  }
  auto extra = parse_extra_headers(c.http_headers);
  if (!extra) return std::unexpected(extra.error());
  for (auto& h : *extra) {
    if (iequals(h.first, "authorization") && (c.http_token_file || c.http_user)) {
      return fail(Errc::kInvalid, "LOGSHIP_HTTP_HEADERS: Authorization is already set by LOGSHIP_HTTP_TOKEN_FILE or "
                                  "LOGSHIP_HTTP_USER");
    }
    o.headers.push_back(std::move(h));
  }
  o.ca_file = c.http_ca_file;
  o.cert_file = c.http_cert_file;
  o.key_file = c.http_key_file;
  o.tls_insecure = c.http_tls_insecure;
  o.concurrency = c.http_concurrency;
  o.timeout = c.http_timeout;
  // Oneshot must end: a few attempts in the sink, then the pipeline's own
  // (bounded) retries decide. Follow mode waits for the endpoint for ever;
  // the files are the buffer.
  o.max_attempts = c.oneshot ? 3 : 0;
  o.dead_letter_path = c.state_dir + "/http-dead-letter.ndjson";
  return o;
}

}  // namespace logship::sinks::http
