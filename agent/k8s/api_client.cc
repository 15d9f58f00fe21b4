#include "agent/k8s/api_client.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <limits>
#include <optional>
#include <vector>

#include "agent/core/secret_file.h"
#include "agent/k8s/api_target.h"
#include "agent/net/tls_verify.h"

namespace logship::k8s {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = boost::asio::ip::tcp;

/// Error bodies (Status objects) are small; a bigger one is not read whole.
constexpr size_t kMaxErrorBody = 64 * 1024;

}  // namespace

struct ApiClient::Impl {
  explicit Impl(ApiClientOptions o) : options(std::move(o)) {}

  ApiClientOptions options;
  // One io_context run only from the driving thread, inside run(): the
  // client is blocking from the caller's point of view, but each step is an
  // async operation raced against a deadline timer, which is what gives us
  // timeouts and a prompt interrupt().
  asio::io_context ioc{1};
  tcp::resolver resolver{ioc};
  asio::steady_timer timer{ioc};
  std::unique_ptr<ssl::context> tls;                 // outlives `stream`, which refers to it
  std::unique_ptr<ssl::stream<tcp::socket>> stream;  // null while disconnected
  boost::beast::flat_buffer buffer;                  // bytes read past the current message
  std::optional<http::response_parser<http::buffer_body>> body_parser;  // open stream
  std::string token;
  bool token_stale = true;
  bool timed_out = false;
  std::atomic<bool> interrupted{false};

  /// Closes the socket and cancels a pending resolve: every operation in
  /// flight completes with an error. Runs on the driving thread only.
  void abort_io() {
    resolver.cancel();
    if (stream) {
      error_code ignored;
      stream->lowest_layer().close(ignored);
    }
  }

  void drop() {
    abort_io();
    body_parser.reset();
    stream.reset();
    tls.reset();
    buffer.clear();
  }

  /// Runs one async operation to completion or until `timeout`, whichever
  /// comes first. `initiate(done)` starts it; `done(ec, bytes)` must be
  /// called exactly once. On timeout the connection is aborted and the
  /// operation's own error is replaced by timed_out = true.
  template <typename Initiate>
  error_code run(std::chrono::milliseconds timeout, Initiate&& initiate, size_t* bytes = nullptr) {
    if (interrupted.load(std::memory_order_acquire)) return asio::error::operation_aborted;
    bool op_done = false;
    bool timer_done = false;
    error_code result;
    timed_out = false;
    timer.expires_after(timeout);
    timer.async_wait([&](const error_code& ec) {
      timer_done = true;
      if (!ec && !op_done) {
        timed_out = true;
        abort_io();
      }
    });
    initiate([&](const error_code& ec, size_t n) {
      op_done = true;
      result = ec;
      if (bytes) *bytes = n;
      timer.cancel();
    });
    ioc.restart();
    // Both handlers must have run before their captured locals go out of
    // scope; every operation ends in bounded time because the timer aborts it.
    while (!(op_done && timer_done)) {
      if (ioc.run_one() == 0) break;
    }
    if (interrupted.load(std::memory_order_acquire)) return asio::error::operation_aborted;
    return result;
  }

  /// The error for a failed step, closing the connection.
  std::unexpected<Error> step_failed(std::string_view step, const error_code& ec,
                                     std::chrono::milliseconds timeout) {
    const bool was_timeout = timed_out;
    drop();
    if (interrupted.load(std::memory_order_acquire)) return fail(Errc::kClosed, "interrupted");
    if (was_timeout) {
      return fail(Errc::kUnavailable,
                  std::string(step) + ": timed out after " + std::to_string(timeout.count()) + " ms");
    }
    return fail(Errc::kUnavailable, std::string(step) + ": " + ec.message());
  }

  Result<std::unique_ptr<ssl::context>> make_tls() const {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    if (auto r = net::configure_client_context(ctx->native_handle(), true, options.ca_file); !r) {
      return std::unexpected(r.error());
    }
    return ctx;
  }

  Result<void> connect() {
    drop();
    // Read at every connection: the kubelet rewrites the projected token
    // long before the old one expires, so a new connection never starts
    // with a stale token.
    auto raw = read_secret_file(options.token_file);
    if (!raw) return fail(Errc::kUnavailable, "token: " + raw.error().message);
    token = std::move(*raw);
    token_stale = false;

    // The CA bundle is loaded per connection too (it is tiny), so a rotated
    // cluster CA is picked up without a restart.
    auto ctx = make_tls();
    if (!ctx) return std::unexpected(ctx.error());
    tls = std::move(*ctx);
    stream = std::make_unique<ssl::stream<tcp::socket>>(ioc, *tls);

    const std::string host(bare_host(options.host));
    error_code parse_ec;
    const asio::ip::address address = asio::ip::make_address(host, parse_ec);
    // An IP literal (KUBERNETES_SERVICE_HOST usually is one) must match an
    // IP SAN; a name a DNS SAN.
    if (auto r = net::expect_peer(stream->native_handle(), host, true); !r) return std::unexpected(r.error());

    std::vector<tcp::endpoint> endpoints;
    const auto timeout = options.connect_timeout;
    if (!parse_ec) {
      endpoints.emplace_back(address, options.port);
    } else {
      tcp::resolver::results_type results;
      const error_code ec = run(timeout, [&](auto done) {
        resolver.async_resolve(host, std::to_string(options.port),
                               [&results, done](const error_code& e, tcp::resolver::results_type r) {
                                 results = std::move(r);
                                 done(e, 0);
                               });
      });
      if (ec) return step_failed("resolve " + host, ec, timeout);
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }

    const std::string where = host_header(options.host, options.port);
    error_code ec = run(timeout, [&](auto done) {
      asio::async_connect(stream->next_layer(), endpoints,
                          [done](const error_code& e, const tcp::endpoint&) { done(e, 0); });
    });
    if (ec) return step_failed("connect " + where, ec, timeout);
    ec = run(timeout, [&](auto done) {
      stream->async_handshake(ssl::stream_base::client, [done](const error_code& e) { done(e, 0); });
    });
    if (ec) return step_failed("TLS handshake with " + where, ec, timeout);
    return {};
  }

  Result<void> send(std::string_view target, std::chrono::milliseconds timeout) {
    if (interrupted.load(std::memory_order_acquire)) return fail(Errc::kClosed, "interrupted");
    if (!stream || token_stale) {
      if (auto r = connect(); !r) {
        drop();
        if (interrupted.load(std::memory_order_acquire)) return fail(Errc::kClosed, "interrupted");
        return r;
      }
    }
    http::request<http::empty_body> req{http::verb::get, boost::beast::string_view(target.data(), target.size()), 11};
    req.set(http::field::host, host_header(options.host, options.port));
    req.set(http::field::user_agent, "logship");
    req.set(http::field::accept, "application/json");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    const error_code ec = run(timeout, [&](auto done) {
      http::async_write(*stream, req, [done](const error_code& e, size_t n) { done(e, n); });
    });
    if (ec) return step_failed("send request", ec, timeout);
    return {};
  }

  /// Bookkeeping once a response's status is known.
  void saw_status(unsigned status) {
    // A 401 means the token was revoked or expired: the next request gets
    // a new connection and a fresh read of the token file.
    if (status == 401) token_stale = true;
  }

  Result<ApiResponse> get(std::string_view target, std::chrono::milliseconds timeout, size_t limit) {
    // A kept-alive connection may have been closed by the server while idle;
    // that shows as a failure before any response byte, and then one retry
    // on a fresh connection is safe for a GET.
    for (int attempt = 0;; ++attempt) {
      const bool reused = stream != nullptr && !token_stale;
      if (auto r = send(target, timeout); !r) {
        if (reused && attempt == 0 && r.error().code == Errc::kUnavailable) continue;
        return std::unexpected(r.error());
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(limit);
      const error_code ec = run(timeout, [&](auto done) {
        http::async_read(*stream, buffer, parser, [done](const error_code& e, size_t n) { done(e, n); });
      });
      if (ec) {
        const bool nothing_read = !parser.got_some();
        auto err = step_failed("read response", ec, timeout);
        if (reused && attempt == 0 && nothing_read && err.error().code == Errc::kUnavailable) continue;
        return err;
      }
      ApiResponse response{parser.get().result_int(), std::move(parser.get().body())};
      if (!parser.keep_alive()) drop();
      saw_status(response.status);
      return response;
    }
  }

  Result<ApiResponse> open_stream(std::string_view target, std::chrono::milliseconds timeout) {
    for (int attempt = 0;; ++attempt) {
      const bool reused = stream != nullptr && !token_stale;
      if (auto r = send(target, timeout); !r) {
        if (reused && attempt == 0 && r.error().code == Errc::kUnavailable) continue;
        return std::unexpected(r.error());
      }
      body_parser.emplace();
      // A watch streams for minutes, so no body limit. Not boost::none: in
      // Boost 1.74 a Content-Length response then fails with body_limit
      // (the parser compares the length against the empty optional).
      body_parser->body_limit(std::numeric_limits<std::uint64_t>::max());
      const error_code ec = run(timeout, [&](auto done) {
        http::async_read_header(*stream, buffer, *body_parser,
                                [done](const error_code& e, size_t n) { done(e, n); });
      });
      if (ec) {
        const bool nothing_read = !body_parser->got_some();
        auto err = step_failed("read response header", ec, timeout);
        if (reused && attempt == 0 && nothing_read && err.error().code == Errc::kUnavailable) continue;
        return err;
      }
      ApiResponse response{body_parser->get().result_int(), {}};
      saw_status(response.status);
      if (response.status == 200) return response;
      // An error status: read its (small) Status body for the message.
      for (;;) {
        auto more = read_stream(response.body, timeout);
        if (!more) return std::unexpected(more.error());
        if (!*more) break;
        if (response.body.size() > kMaxErrorBody) {
          drop();
          response.body.resize(kMaxErrorBody);
          break;
        }
      }
      return response;
    }
  }

  Result<bool> read_stream(std::string& out, std::chrono::milliseconds idle_timeout) {
    if (interrupted.load(std::memory_order_acquire)) return fail(Errc::kClosed, "interrupted");
    if (!stream || !body_parser) return fail(Errc::kInvalid, "no response body is open");
    char chunk[16 * 1024];
    for (;;) {
      if (body_parser->is_done()) {
        if (!body_parser->keep_alive()) {
          drop();
        } else {
          body_parser.reset();
        }
        return false;
      }
      auto& body = body_parser->get().body();
      body.data = chunk;
      body.size = sizeof chunk;
      error_code ec = run(idle_timeout, [&](auto done) {
        http::async_read_some(*stream, buffer, *body_parser,
                              [done](const error_code& e, size_t n) { done(e, n); });
      });
      // need_buffer only says that `chunk` is full.
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return step_failed("read body", ec, idle_timeout);
      const size_t got = sizeof chunk - body_parser->get().body().size;
      if (got > 0) {
        out.append(chunk, got);
        return true;
      }
      // Only framing (a chunk header) was consumed: read on.
    }
  }
};

ApiClient::ApiClient(ApiClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

ApiClient::~ApiClient() { impl_->drop(); }

Result<void> ApiClient::validate() const {
  auto tls = impl_->make_tls();
  if (!tls) return std::unexpected(tls.error());
  auto token = read_secret_file(impl_->options.token_file);
  if (!token) return fail(Errc::kInvalid, "token file: " + token.error().message);
  return {};
}

Result<ApiResponse> ApiClient::get(std::string_view target, std::chrono::milliseconds timeout,
                                   size_t body_limit) {
  try {
    return impl_->get(target, timeout, body_limit);
  } catch (const std::exception& e) {
    // Asio reports through error_code everywhere we call it; this only
    // catches allocation failures and the like, and keeps them off the
    // watcher thread's stack.
    impl_->drop();
    return fail(Errc::kUnavailable, std::string("request failed: ") + e.what());
  }
}

Result<ApiResponse> ApiClient::open_stream(std::string_view target, std::chrono::milliseconds timeout) {
  try {
    return impl_->open_stream(target, timeout);
  } catch (const std::exception& e) {
    impl_->drop();
    return fail(Errc::kUnavailable, std::string("request failed: ") + e.what());
  }
}

Result<bool> ApiClient::read_stream(std::string& out, std::chrono::milliseconds idle_timeout) {
  try {
    return impl_->read_stream(out, idle_timeout);
  } catch (const std::exception& e) {
    impl_->drop();
    return fail(Errc::kUnavailable, std::string("read failed: ") + e.what());
  }
}

void ApiClient::disconnect() { impl_->drop(); }

void ApiClient::interrupt() {
  impl_->interrupted.store(true, std::memory_order_release);
  // The abort must run on the driving thread (Asio objects are not
  // thread-safe); post() is. If that thread is not inside run() now, the
  // flag stops it before its next step.
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->abort_io(); });
}

}  // namespace logship::k8s
