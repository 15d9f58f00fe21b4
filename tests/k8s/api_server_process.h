#pragma once
// Runs tests/blackbox/k8s_api_server.py as a child process in --control
// mode: JSON commands on its stdin, one JSON reply per line on its stdout.
// The child exits when its stdin closes, so a crashed test leaves nothing
// behind.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <simdjson.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace logship::testing {

/// One request as the server logged it.
struct ApiRequest {
  bool watch = false;
  int64_t status = 0;
  std::string token;  ///< bearer token sent, "" if none
  std::map<std::string, std::string> query;
};

class ApiServerProcess {
 public:
  /// Starts the server with certificates and the token file in `dir`.
  explicit ApiServerProcess(const std::string& dir, const std::vector<std::string>& extra = {}) {
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    std::vector<std::string> args = {LOGSHIP_PYTHON3, std::string(LOGSHIP_SOURCE_DIR) + "/tests/blackbox/k8s_api_server.py",
                                     "--dir", dir, "--control"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
    if (rc != 0) throw std::runtime_error("spawn python3 failed");
    const std::string hello = read_line(std::chrono::seconds(60));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(hello).get(doc) != simdjson::SUCCESS) throw std::runtime_error("bad hello: " + hello);
    port = static_cast<uint16_t>(int64_t(doc["port"]));
    ca_file = std::string(std::string_view(doc["ca_file"]));
    token_file = std::string(std::string_view(doc["token_file"]));
  }

  ~ApiServerProcess() {
    ::close(in_);  // the server's signal to stop
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        ::close(out_);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(out_);
  }

  ApiServerProcess(const ApiServerProcess&) = delete;
  ApiServerProcess& operator=(const ApiServerProcess&) = delete;

  /// Sends one command ({"cmd":…}) and returns its reply; throws unless it
  /// says ok.
  std::string command(const std::string& json) {
    // One command per line: newlines inside the JSON are only whitespace.
    std::string line = json;
    for (char& c : line) {
      if (c == '\n') c = ' ';
    }
    line += '\n';
    if (::write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("write to server failed");
    }
    std::string reply = read_line(std::chrono::seconds(30));
    if (reply.find("\"ok\": true") == std::string::npos) throw std::runtime_error("command failed: " + reply);
    return reply;
  }

  /// The "rv" of a reply.
  static std::string rv_of(const std::string& reply) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view rv;
    if (parser.parse(reply).get(doc) != simdjson::SUCCESS || doc["rv"].get(rv) != simdjson::SUCCESS) return {};
    return std::string(rv);
  }

  std::vector<ApiRequest> requests() {
    const std::string reply = command(R"({"cmd":"requests"})");
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::vector<ApiRequest> out;
    if (parser.parse(reply).get(doc) != simdjson::SUCCESS) return out;
    simdjson::dom::array list;
    if (doc["requests"].get(list) != simdjson::SUCCESS) return out;
    for (simdjson::dom::element item : list) {
      ApiRequest r;
      bool watch = false;
      if (item["watch"].get(watch) == simdjson::SUCCESS) r.watch = watch;
      int64_t status = 0;
      if (item["status"].get(status) == simdjson::SUCCESS) r.status = status;
      std::string_view token;
      if (item["token"].get(token) == simdjson::SUCCESS) r.token = std::string(token);
      simdjson::dom::object query;
      if (item["query"].get(query) == simdjson::SUCCESS) {
        for (auto field : query) {
          std::string_view v;
          if (field.value.get(v) == simdjson::SUCCESS) r.query[std::string(field.key)] = std::string(v);
        }
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  uint16_t port = 0;
  std::string ca_file;
  std::string token_file;

 private:
  std::string read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (const size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error("no reply from the API server process");
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[65536];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("the API server process exited");
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string buffer_;
};

}  // namespace logship::testing
