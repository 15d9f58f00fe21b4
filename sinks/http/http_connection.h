#pragma once
// One keep-alive HTTP/1.1 connection of the HTTP sink (plain or TLS), and
// what one request/response exchange on it yields. Internal to the sink:
// only its implementation files include it, through http_sink_impl.h
// (Boost and OpenSSL stay out of http_sink.h).

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "agent/net/tls_verify.h"
#include "sinks/codec/compressor.h"
#include "sinks/http/http_config.h"

namespace logship::sinks::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

// Response bodies are outside the batches, so they are bounded here, never
// held whole (a server answering 500 with a 60 MiB body at concurrency 8
// once drove RSS to 384 MiB):
// - an error body keeps its first kErrorBodyPrefix bytes (for the log line
//   and the dead letter); the rest is read and dropped;
// - a success body is dropped, except Elasticsearch's _bulk answer, which is
//   parsed: it keeps up to max(kMinBulkBody, the request's uncompressed size)
//   (the answer is smaller than the request it describes; the request's
//   bytes are already charged to LOGSHIP_MEMORY_LIMIT with its batch);
// - past kDrainLimit bytes a body is not read further: the connection is
//   closed instead (keep-alive is not worth reading megabytes of noise).
// So one connection holds at most its cap plus one read chunk.
constexpr size_t kErrorBodyPrefix = 4096;
constexpr size_t kMinBulkBody = 1u << 20;
constexpr size_t kDrainLimit = 1u << 20;
constexpr size_t kReadChunk = 16384;

/// What came back from one exchange on a connection.
struct Reply {
  beast::error_code ec;
  std::string error;  ///< readable cause when ec is set
  bool timeout = false;
  /// A reused keep-alive connection failed before any byte of a response:
  /// the server most likely closed it while idle. Resent at once, once.
  bool stale = false;
  unsigned status = 0;
  std::string body;  ///< a bounded prefix of the response body (see kErrorBodyPrefix)
  bool body_cut = false;  ///< the body was longer than what `body` keeps
  std::optional<std::string> retry_after;
  std::string request_body;  ///< handed back for a retry
};

/// One keep-alive connection. Runs on the sink's I/O thread only; async
/// handlers hold a shared_ptr, so a connection lives until its last
/// operation completes even after the sink dropped it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Callback = std::function<void(Reply&&)>;

  Connection(asio::io_context& ioc, ssl::context* tls, const HttpSinkOptions& opt)
      : tls_ctx_(tls), opt_(opt), resolver_(ioc), ioc_(ioc) {}

  /// Sends one request with `body` and calls `cb` once with the outcome.
  /// `success_body_cap`: bytes of a 2xx body to keep (0: drop it).
  void exchange(std::string body, std::string_view content_type, size_t success_body_cap, Callback cb) {
    cb_ = std::move(cb);
    success_body_cap_ = success_body_cap;
    req_ = {};
    req_.method(bhttp::verb::post);
    req_.target(opt_.url.target);
    req_.version(11);
    req_.set(bhttp::field::host, opt_.url.host_header());
    req_.set(bhttp::field::user_agent, "logship");
    req_.set(bhttp::field::content_type, beast::string_view(content_type.data(), content_type.size()));
    if (const auto enc = codec::content_encoding(opt_.codec); !enc.empty()) {
      req_.set(bhttp::field::content_encoding, beast::string_view(enc.data(), enc.size()));
    }
    for (const auto& [name, value] : opt_.headers) req_.set(name, value);
    req_.keep_alive(true);
    req_.body() = std::move(body);
    req_.prepare_payload();
    reused_ = connected_;
    write_error_ = {};
    if (connected_) {
      write();
    } else {
      resolve();
    }
  }

  [[nodiscard]] bool connected() const { return connected_; }

  void close() {
    connected_ = false;
    resolver_.cancel();
    beast::error_code ignored;
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
    if (plain_) plain_->socket().close(ignored);
  }

 private:
  template <class F>
  void with_stream(F&& f) {
    if (tls_) f(*tls_);
    else f(*plain_);
  }
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void resolve() {
    buffer_.clear();
    tls_.reset();
    plain_.reset();
    if (opt_.url.tls) tls_.emplace(ioc_, *tls_ctx_);
    else plain_.emplace(ioc_);
    resolver_.async_resolve(opt_.url.host, std::to_string(opt_.url.port),
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                              self->on_resolve(ec, std::move(results));
                            });
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return finish(ec, "resolve " + opt_.url.host + ": " + ec.message());
    lowest().expires_after(opt_.timeout);
    lowest().async_connect(results, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      self->on_connect(ec);
    });
  }

  void on_connect(beast::error_code ec) {
    if (ec) return finish(ec, "connect to " + opt_.url.origin() + ": " + ec.message());
    // Log lines are small writes: do not let Nagle hold a request's tail.
    beast::error_code ignored;
    lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (!tls_) {
      connected_ = true;
      return write();
    }
    if (auto r = net::expect_peer(tls_->native_handle(), opt_.url.host, !opt_.tls_insecure); !r) {
      return finish(asio::error::invalid_argument, r.error().message);
    }
    lowest().expires_after(opt_.timeout);
    tls_->async_handshake(ssl::stream_base::client,
                          [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      const std::string why = "TLS handshake with " + opt_.url.origin() + " failed: " +
                              net::handshake_error(tls_->native_handle(), ec.message(),
                                                   opt_.ca_file ? "(CA file " + *opt_.ca_file + ")"
                                                                : "(system CAs; set LOGSHIP_HTTP_CA_FILE?)");
      return finish(ec, why);
    }
    connected_ = true;
    write();
  }

  void write() {
    lowest().expires_after(opt_.timeout);
    with_stream([this](auto& stream) {
      bhttp::async_write(stream, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->on_write(ec);
      });
    });
  }

  void on_write(beast::error_code ec) {
    if (ec) {
      // A server that refuses a body early (413 from a proxy's size limit)
      // may answer and close while we are still writing: the write fails,
      // but its answer is waiting to be read. Read it before giving up.
      if (!write_error_ && (ec == asio::error::broken_pipe || ec == asio::error::connection_reset)) {
        write_error_ = ec;
        return read();
      }
      return finish(ec, "send to " + opt_.url.origin() + ": " + ec.message());
    }
    read();
  }

  void read() {
    parser_.emplace();
    // Bounded below, by what is kept and read. (Not boost::none: Boost 1.74
    // compares the length with the optional and fails every body.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    lowest().expires_after(opt_.timeout);
    with_stream([this](auto& stream) {
      bhttp::async_read_header(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->on_header(ec);
      });
    });
  }

  void on_header(beast::error_code ec) {
    if (ec && write_error_) {
      ec = write_error_;
      return finish(ec, "send to " + opt_.url.origin() + ": " + ec.message());
    }
    if (ec) return finish(ec, "response from " + opt_.url.origin() + ": " + ec.message());
    const unsigned status = parser_->get().result_int();
    body_.clear();
    body_cut_ = false;
    body_seen_ = 0;
    body_cap_ = status >= 200 && status < 300 ? success_body_cap_ : kErrorBodyPrefix;
    read_body();
  }

  /// Reads the body in chunks into chunk_, keeping at most body_cap_ bytes.
  void read_body() {
    if (parser_->is_done()) return complete(false);
    if (body_seen_ > std::max(body_cap_, kDrainLimit)) return complete(true);
    auto& b = parser_->get().body();
    b.data = chunk_.data();
    b.size = chunk_.size();
    with_stream([this](auto& stream) {
      bhttp::async_read(stream, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->on_body(ec);
      });
    });
  }

  void on_body(beast::error_code ec) {
    if (ec == bhttp::error::need_buffer) ec = {};  // the chunk is full: keep reading
    if (ec) return finish(ec, "response from " + opt_.url.origin() + ": " + ec.message());
    const size_t n = chunk_.size() - parser_->get().body().size;
    body_seen_ += n;
    const size_t room = body_cap_ - std::min(body_cap_, body_.size());
    body_.append(chunk_.data(), std::min(n, room));
    if (n > room) body_cut_ = true;
    read_body();
  }

  /// Hands the reply over. `abandoned`: the body was not read to its end,
  /// so the connection cannot carry another request.
  void complete(bool abandoned) {
    if (write_error_ || abandoned) close();  // answered, but the connection is unusable
    auto& res = parser_->get();
    Reply reply;
    reply.status = res.result_int();
    if (auto it = res.find(bhttp::field::retry_after); it != res.end()) reply.retry_after = std::string(it->value());
    reply.body = std::move(body_);
    reply.body_cut = body_cut_ || abandoned;
    body_ = {};
    reply.request_body = std::move(req_.body());
    if (!res.keep_alive()) close();
    lowest().expires_never();
    auto cb = std::move(cb_);
    cb(std::move(reply));
  }

  void finish(beast::error_code ec, std::string why) {
    Reply reply;
    reply.ec = ec;
    reply.timeout = ec == beast::error::timeout;
    if (reply.timeout) why += " (no answer within LOGSHIP_HTTP_TIMEOUT_MS)";
    reply.error = std::move(why);
    const bool early = !parser_ || !parser_->got_some();
    reply.stale = reused_ && early &&
                  (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                   ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
    reply.request_body = std::move(req_.body());
    close();
    auto cb = std::move(cb_);
    if (cb) cb(std::move(reply));
  }

  ssl::context* tls_ctx_;
  const HttpSinkOptions& opt_;
  tcp::resolver resolver_;
  asio::io_context& ioc_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  std::array<char, kReadChunk> chunk_{};
  std::string body_;         ///< the kept prefix of the response body
  size_t body_cap_ = 0;      ///< bytes of this body to keep
  size_t body_seen_ = 0;     ///< bytes of this body read so far
  bool body_cut_ = false;
  size_t success_body_cap_ = 0;
  Callback cb_;
  bool connected_ = false;
  bool reused_ = false;
  beast::error_code write_error_;  ///< the write failed; a response may still be readable
};

}  // namespace logship::sinks::http::detail
