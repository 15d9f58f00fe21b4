// A minimal HTTP/1.1 sink for bench/bench_http.py: accepts POSTs on a
// loopback port, reads and discards each body, answers 200 (keep-alive).
// Answers every request with {"took":0,"errors":false,"items":[]}.
// Prints "port <n>" on stdout when listening; on SIGTERM/SIGINT prints
// "requests <n> bytes <n>" and exits. One thread per connection: the
// benchmark opens a handful, and the point is to cost as little CPU as
// possible next to the agent on a small machine.

#include <csignal>
#include <cstdio>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::atomic<uint64_t> g_requests{0};
std::atomic<uint64_t> g_bytes{0};

void serve(tcp::socket socket) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    http::read(socket, buffer, parser, ec);
    if (ec) break;
    g_requests.fetch_add(1, std::memory_order_relaxed);
    g_bytes.fetch_add(parser.get().body().size(), std::memory_order_relaxed);
    // A body every format's client accepts: Elasticsearch's _bulk answer
    // without errors (the others ignore it).
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = R"({"took":0,"errors":false,"items":[]})";
    res.keep_alive(parser.get().keep_alive());
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

int main() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  asio::io_context ioc{1};
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::printf("port %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  std::thread([&acceptor] {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket = acceptor.accept(ec);
      if (ec) continue;
      std::thread(serve, std::move(socket)).detach();
    }
  }).detach();
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("requests %llu bytes %llu\n", static_cast<unsigned long long>(g_requests.load()),
              static_cast<unsigned long long>(g_bytes.load()));
  std::fflush(stdout);
  std::_Exit(0);
}
