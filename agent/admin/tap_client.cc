#include "agent/admin/tap_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "agent/admin/tap_server.h"

namespace logship::admin {
namespace {

constexpr std::string_view kUsage =
    "usage: logship tap [--namespace GLOB] [--pod GLOB] [--container GLOB] [--limit N] [--address HOST:PORT]\n"
    "Prints the records a running logship ships, as they pass (needs LOGSHIP_TAP=on in that logship).\n"
    "Globs are shell patterns on the record's Kubernetes namespace, pod and container.\n"
    "--address defaults to LOGSHIP_TAP_LISTEN (127.0.0.1:2021); use kubectl exec or port-forward.\n";

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Query-component percent-encoding: unreserved characters and '*' stay
// readable; everything else (including ? [ ] & =) is escaped.
std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '*';
    if (keep) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

int connect_to(const TapListen& at, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(at.port);
  const int gai = ::getaddrinfo(at.host.c_str(), service.c_str(), &hints, &res);
  if (gai != 0) {
    error = std::string("resolve ") + at.host + ": " + ::gai_strerror(gai);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

}  // namespace

Result<TapClientOptions> parse_tap_args(std::span<const std::string_view> args, std::string_view default_address) {
  TapClientOptions o;
  o.address = std::string(default_address.empty() ? kDefaultTapListen : default_address);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const bool known = arg == "--namespace" || arg == "--pod" || arg == "--container" || arg == "--limit" ||
                       arg == "--address";
    if (!known) return fail(Errc::kInvalid, "logship tap: unknown argument " + std::string(arg));
    if (!has_value) {
      if (i + 1 >= args.size()) return fail(Errc::kInvalid, "logship tap: " + std::string(arg) + " needs a value");
      value = args[++i];
    }
    if (value.empty()) return fail(Errc::kInvalid, "logship tap: " + std::string(arg) + " needs a value");
    if (arg == "--namespace") {
      o.filter.namespace_glob = std::string(value);
    } else if (arg == "--pod") {
      o.filter.pod_glob = std::string(value);
    } else if (arg == "--container") {
      o.filter.container_glob = std::string(value);
    } else if (arg == "--address") {
      o.address = std::string(value);
    } else {
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), o.limit);
      if (ec != std::errc() || p != value.data() + value.size() || o.limit == 0) {
        return fail(Errc::kInvalid, "logship tap: --limit \"" + std::string(value) + "\" is not a positive integer");
      }
    }
  }
  return o;
}

int run_tap_client(const TapClientOptions& options, int out_fd, int err_fd) {
  auto at = parse_tap_listen(options.address);
  if (!at) {
    write_all(err_fd, "logship tap: " + at.error().message + "\n");
    return 2;
  }
  std::string error;
  const int fd = connect_to(*at, error);
  if (fd < 0) {
    write_all(err_fd, "logship tap: cannot connect to " + options.address + ": " + error +
                          " (is logship running with LOGSHIP_TAP=on?)\n");
    return 1;
  }
  std::string request = "GET /tap?namespace=" + url_encode(options.filter.namespace_glob) +
                        "&pod=" + url_encode(options.filter.pod_glob) +
                        "&container=" + url_encode(options.filter.container_glob);
  if (options.limit != 0) request += "&limit=" + std::to_string(options.limit);
  request += " HTTP/1.1\r\nHost: " + options.address + "\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    write_all(err_fd, "logship tap: cannot send the request: " + std::string(std::strerror(errno)) + "\n");
    ::close(fd);
    return 1;
  }
  std::string buf;
  bool in_body = false;
  uint64_t lines = 0;
  char chunk[16384];
  int rc = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!in_body) {
        write_all(err_fd, "logship tap: the connection closed before a response\n");
        rc = 1;
      }
      break;
    }
    buf.append(chunk, static_cast<std::size_t>(n));
    if (!in_body) {
      const auto end = buf.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const std::string_view status_line(buf.data(), buf.find("\r\n"));
      if (!status_line.starts_with("HTTP/1.1 200") && !status_line.starts_with("HTTP/1.0 200")) {
        // An error reply: its short text body says why.
        std::string body = buf.substr(end + 4);
        for (ssize_t m; (m = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) body.append(chunk, static_cast<std::size_t>(m));
        write_all(err_fd, "logship tap: " + std::string(status_line) + ": " + body);
        rc = 1;
        break;
      }
      buf.erase(0, end + 4);
      in_body = true;
    }
    // Whole lines only, up to the limit (the server stops there too).
    std::size_t pos = 0;
    for (std::size_t nl; (nl = buf.find('\n', pos)) != std::string::npos;) {
      pos = nl + 1;
      ++lines;
      if (options.limit != 0 && lines >= options.limit) break;
    }
    write_all(out_fd, std::string_view(buf).substr(0, pos));
    buf.erase(0, pos);
    if (options.limit != 0 && lines >= options.limit) break;
  }
  ::close(fd);
  return rc;
}

int tap_main(std::span<const std::string_view> args, std::string_view default_address, int out_fd, int err_fd) {
  for (const std::string_view a : args) {
    if (a == "--help" || a == "-h") {
      write_all(out_fd, kUsage);
      return 0;
    }
  }
  auto options = parse_tap_args(args, default_address);
  if (!options) {
    write_all(err_fd, options.error().message + "\n" + std::string(kUsage));
    return 2;
  }
  return run_tap_client(*options, out_fd, err_fd);
}

}  // namespace logship::admin
