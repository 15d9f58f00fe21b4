// PodWatcher against the fake API server (tests/blackbox/k8s_api_server.py):
// list + watch, bookmarks, drops, 410, token rotation, API down, TLS checks,
// hung watches and the promptness of stop().

#include "agent/k8s/pod_watcher.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <functional>
#include <thread>

#include "tests/fakes/temp_dir.h"
#include "tests/k8s/api_server_process.h"

namespace logship::k8s {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ApiRequest;
using testing::ApiServerProcess;
using testing::TempDir;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

WatcherOptions options_for(const ApiServerProcess& server) {
  WatcherOptions o;
  o.host = "127.0.0.1";
  o.port = server.port;
  o.ca_file = server.ca_file;
  o.token_file = server.token_file;
  o.node_name = "node-1";
  o.label_filter = {"app.kubernetes.io/*"};
  o.annotation_filter = {"logship.io/release"};
  o.release_from = {"label:app.kubernetes.io/version", "annotation:logship.io/release", "image-tag"};
  o.backoff_initial = 20ms;
  o.backoff_max = 200ms;
  o.watch_timeout = 30s;
  o.connect_timeout = 2s;
  o.request_timeout = 5s;
  return o;
}

std::vector<ApiRequest> lists_of(const std::vector<ApiRequest>& all) {
  std::vector<ApiRequest> out;
  for (const auto& r : all) {
    if (!r.watch) out.push_back(r);
  }
  return out;
}

std::vector<ApiRequest> watches_of(const std::vector<ApiRequest>& all) {
  std::vector<ApiRequest> out;
  for (const auto& r : all) {
    if (r.watch) out.push_back(r);
  }
  return out;
}

size_t count_watches(ApiServerProcess& server) { return watches_of(server.requests()).size(); }
size_t count_lists(ApiServerProcess& server) { return lists_of(server.requests()).size(); }

std::string release_of(PodCache& cache, std::string_view ns, std::string_view name, std::string_view container) {
  auto p = cache.find(ns, name);
  return p ? p->release_for(container) : "<absent>";
}

// Three pods of node-1 and one of node-2.
constexpr const char* kInitialPods = R"({"cmd":"set_pods","pods":[
  {"name":"web-1","namespace":"shop","labels":{"app.kubernetes.io/version":"1.0.0","app.kubernetes.io/name":"web","team":"a"},
   "containers":[["app","registry.example.com:5000/shop/web:9.9"]]},
  {"name":"worker-1","namespace":"shop","annotations":{"logship.io/release":"worker@2.1","other":"x"},
   "containers":[["app","registry.example.com:5000/shop/worker:2.0"]],
   "init_containers":[["migrate","registry.example.com:5000/shop/migrate@sha256:feed"]]},
  {"name":"cron-1","namespace":"jobs","containers":[["job","localhost:5000/jobs/cron:3.3"],["sidecar","busybox"]],
   "image_ids":{"sidecar":"docker.io/library/busybox@sha256:c383"}},
  {"name":"elsewhere-1","namespace":"shop","node":"node-2"}]})";

}  // namespace

TEST_CASE("lists (paginated), then follows ADDED/MODIFIED/DELETED", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path, {"--page-limit", "2"});
  server.command(kInitialPods);
  PodCache cache(300ms);
  PodWatcher watcher(options_for(server), cache);
  REQUIRE(watcher.start());
  REQUIRE(eventually([&] { return watcher.synced(); }));

  // The list: the field selector, limit=500, and the continue token for page 2.
  const auto lists = lists_of(server.requests());
  REQUIRE(lists.size() == 2);
  CHECK(lists[0].query.at("fieldSelector") == "spec.nodeName=node-1");
  CHECK(lists[0].query.at("limit") == "500");
  CHECK(lists[0].query.count("continue") == 0);
  CHECK(lists[1].query.count("continue") == 1);
  CHECK(lists[0].token == "token-1");

  auto web = cache.find("shop", "web-1");
  REQUIRE(web);
  CHECK(web->node == "node-1");
  CHECK(web->labels == StringPairs{{"app.kubernetes.io/name", "web"}, {"app.kubernetes.io/version", "1.0.0"}});
  CHECK(web->annotations.empty());
  CHECK(web->images.at("app") == "registry.example.com:5000/shop/web:9.9");
  CHECK(web->release_for("app") == "1.0.0");                                // label
  CHECK(release_of(cache, "shop", "worker-1", "app") == "worker@2.1");      // annotation
  CHECK(release_of(cache, "shop", "worker-1", "migrate") == "worker@2.1");  // init container, same pod
  CHECK(cache.find("shop", "worker-1")->annotations == StringPairs{{"logship.io/release", "worker@2.1"}});
  CHECK(release_of(cache, "jobs", "cron-1", "job") == "3.3");               // image tag past a registry port
  CHECK(release_of(cache, "jobs", "cron-1", "sidecar") == "sha256:c383");   // tagless: the pulled digest
  CHECK(cache.find("shop", "elsewhere-1") == nullptr);                      // another node's pod
  CHECK(cache.size() == 3);

  // The watch starts from the list's resourceVersion.
  REQUIRE(eventually([&] { return count_watches(server) == 1; }));
  const auto watch = watches_of(server.requests()).at(0);
  CHECK(watch.query.at("resourceVersion") == ApiServerProcess::rv_of(server.command(R"({"cmd":"rv"})")));
  CHECK(watch.query.at("allowWatchBookmarks") == "true");
  CHECK(watch.query.at("timeoutSeconds") == "30");
  CHECK(watch.query.at("fieldSelector") == "spec.nodeName=node-1");

  SECTION("ADDED") {
    server.command(R"({"cmd":"add_pod","name":"web-2","namespace":"shop","labels":{"app.kubernetes.io/version":"1.1.0"}})");
    auto p = cache.wait_for("shop", "web-2", Clock::now() + 10s);
    REQUIRE(p);
    CHECK(p->release_for("app") == "1.1.0");
  }
  SECTION("MODIFIED") {
    const uint64_t g = cache.generation();
    server.command(R"({"cmd":"modify_pod","name":"web-1","namespace":"shop","labels":{"app.kubernetes.io/version":"1.0.1"},
                       "containers":[["app","registry.example.com:5000/shop/web:9.9"]]})");
    REQUIRE(eventually([&] { return release_of(cache, "shop", "web-1", "app") == "1.0.1"; }));
    CHECK(cache.generation() > g);
    CHECK(web->release_for("app") == "1.0.0");  // the old snapshot is untouched
  }
  SECTION("DELETED: kept for the TTL, then gone") {
    server.command(R"({"cmd":"delete_pod","name":"cron-1","namespace":"jobs"})");
    REQUIRE(eventually([&] { return cache.size() == 2; }));
    CHECK(cache.find("jobs", "cron-1") != nullptr);
    REQUIRE(eventually([&] { return cache.find("jobs", "cron-1") == nullptr; }, 5s));
  }
  const auto stats = watcher.stats();
  CHECK(stats.lists == 1);
  CHECK(stats.errors == 0);
  watcher.stop();
}

TEST_CASE("a bookmark moves the resourceVersion; a dropped watch resumes from it", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path);
  server.command(kInitialPods);
  PodCache cache;
  PodWatcher watcher(options_for(server), cache);
  REQUIRE(watcher.start());
  REQUIRE(eventually([&] { return watcher.synced() && count_watches(server) == 1; }));

  const std::string bookmark_rv = ApiServerProcess::rv_of(server.command(R"({"cmd":"bookmark"})"));
  REQUIRE(eventually([&] { return watcher.stats().events == 1; }));
  server.command(R"({"cmd":"drop_watches"})");
  REQUIRE(eventually([&] { return count_watches(server) == 2; }));
  CHECK(watches_of(server.requests()).at(1).query.at("resourceVersion") == bookmark_rv);

  // Changes while the watch is being re-established are replayed from the
  // server's history, not lost.
  server.command(R"({"cmd":"drop_watches"})");
  server.command(R"({"cmd":"add_pod","name":"late-1","namespace":"shop"})");
  CHECK(cache.wait_for("shop", "late-1", Clock::now() + 10s) != nullptr);
  CHECK(count_lists(server) == 1);  // no relist for a drop
  CHECK(watcher.stats().lists == 1);

  // A watch the server ends (timeoutSeconds) is simply re-opened.
  const size_t before = count_watches(server);
  server.command(R"({"cmd":"end_watches"})");
  REQUIRE(eventually([&] { return count_watches(server) == before + 1; }));
  CHECK(count_lists(server) == 1);
}

TEST_CASE("410 Gone relists", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path);
  server.command(kInitialPods);
  PodCache cache;
  PodWatcher watcher(options_for(server), cache);
  REQUIRE(watcher.start());
  REQUIRE(eventually([&] { return watcher.synced() && count_watches(server) == 1; }));
  server.command(R"({"cmd":"add_pod","name":"seen-1","namespace":"shop"})");
  REQUIRE(cache.wait_for("shop", "seen-1", Clock::now() + 10s));

  SECTION("as an ERROR event on a live watch") {
    server.command(R"({"cmd":"send_gone"})");
  }
  SECTION("as an HTTP 410 to the re-watch") {
    server.command(R"({"cmd":"gone"})");
    server.command(R"({"cmd":"drop_watches"})");
  }
  SECTION("as an ERROR event answering the re-watch") {
    server.command(R"({"cmd":"gone","as_event":true})");
    server.command(R"({"cmd":"drop_watches"})");
  }
  SECTION("after a real compaction while the API was down") {
    server.command(R"({"cmd":"down"})");
    server.command(R"({"cmd":"add_pod","name":"during-1","namespace":"shop"})");
    server.command(R"({"cmd":"compact"})");
    server.command(R"({"cmd":"up"})");
  }
  REQUIRE(eventually([&] { return count_lists(server) == 2; }));
  REQUIRE(eventually([&] { return watcher.stats().relists_gone == 1; }));
  // Whatever happened in between is in the relisted state.
  server.command(R"({"cmd":"add_pod","name":"after-1","namespace":"shop"})");
  CHECK(cache.wait_for("shop", "after-1", Clock::now() + 10s) != nullptr);
  CHECK(cache.find("shop", "seen-1") != nullptr);
  const auto watches = watches_of(server.requests());
  CHECK(watches.back().status == 200);
}

TEST_CASE("token rotation: 401, re-read the token file, carry on", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path);
  server.command(kInitialPods);
  PodCache cache;
  PodWatcher watcher(options_for(server), cache);
  REQUIRE(watcher.start());
  REQUIRE(eventually([&] { return watcher.synced() && count_watches(server) == 1; }));

  SECTION("the file rotates first: the next connection reads it, no 401") {
    server.command(R"({"cmd":"write_token","token":"token-2"})");
    server.command(R"({"cmd":"expect_token","token":"token-2"})");
    server.command(R"({"cmd":"drop_watches"})");
    REQUIRE(eventually([&] { return count_watches(server) == 2; }));
    const auto w = watches_of(server.requests()).back();
    CHECK(w.token == "token-2");
    CHECK(w.status == 200);
    CHECK(watcher.stats().unauthorized == 0);
  }
  SECTION("the server rotates first: 401 until the file has the new token") {
    server.command(R"({"cmd":"expect_token","token":"token-2"})");
    server.command(R"({"cmd":"drop_watches"})");
    REQUIRE(eventually([&] { return watcher.stats().unauthorized >= 2; }));
    CHECK_FALSE(cache.find("shop", "web-1") == nullptr);  // the cache outlives API trouble
    server.command(R"({"cmd":"write_token","token":"token-2"})");
    REQUIRE(eventually([&] {
      const auto w = watches_of(server.requests());
      return !w.empty() && w.back().status == 200 && w.back().token == "token-2";
    }));
    for (const auto& r : server.requests()) {
      if (r.status == 401) CHECK(r.token == "token-1");
    }
  }
  server.command(R"({"cmd":"add_pod","name":"after-1","namespace":"shop"})");
  CHECK(cache.wait_for("shop", "after-1", Clock::now() + 10s) != nullptr);
}

TEST_CASE("API down at start: start() succeeds, syncs once it is up", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path, {"--down"});
  server.command(kInitialPods);
  PodCache cache;
  PodWatcher watcher(options_for(server), cache);
  const auto t0 = Clock::now();
  REQUIRE(watcher.start());
  CHECK(Clock::now() - t0 < 1s);
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(watcher.synced());
  CHECK(watcher.stats().errors >= 2);
  CHECK(cache.find("shop", "web-1") == nullptr);
  server.command(R"({"cmd":"up"})");
  REQUIRE(eventually([&] { return watcher.synced(); }));
  CHECK(cache.find("shop", "web-1") != nullptr);

  // Down again mid-watch, and back: the watch resumes.
  server.command(R"({"cmd":"down"})");
  server.command(R"({"cmd":"add_pod","name":"during-1","namespace":"shop"})");
  std::this_thread::sleep_for(200ms);
  server.command(R"({"cmd":"up"})");
  CHECK(cache.wait_for("shop", "during-1", Clock::now() + 10s) != nullptr);
}

TEST_CASE("host name and IP SAN verification; a foreign CA is refused", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path);
  server.command(kInitialPods);
  SECTION("DNS name in the SAN") {
    PodCache cache;
    auto o = options_for(server);
    o.host = "localhost";
    PodWatcher watcher(o, cache);
    REQUIRE(watcher.start());
    REQUIRE(eventually([&] { return watcher.synced(); }));
  }
  SECTION("another CA") {
    TempDir other_dir;
    ApiServerProcess other(other_dir.path);
    PodCache cache;
    auto o = options_for(server);
    o.ca_file = other.ca_file;
    PodWatcher watcher(o, cache);
    REQUIRE(watcher.start());
    REQUIRE(eventually([&] { return watcher.stats().errors >= 2; }));
    CHECK_FALSE(watcher.synced());
    CHECK(server.requests().empty());  // nothing got past the handshake
  }
  SECTION("a certificate for another name") {
    TempDir other_dir;
    ApiServerProcess other(other_dir.path, {"--san", "DNS:kubernetes.default.svc,IP:10.96.0.1"});
    PodCache cache;
    auto o = options_for(other);
    PodWatcher watcher(o, cache);
    REQUIRE(watcher.start());
    REQUIRE(eventually([&] { return watcher.stats().errors >= 2; }));
    CHECK_FALSE(watcher.synced());
    CHECK(other.requests().empty());
  }
}

TEST_CASE("a silent watch is taken for a hung server and reconnected", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path);
  server.command(kInitialPods);
  PodCache cache;
  auto o = options_for(server);
  o.watch_timeout = 1s;  // silence for 2 s means hung
  PodWatcher watcher(o, cache);
  REQUIRE(watcher.start());
  REQUIRE(eventually([&] { return watcher.synced() && count_watches(server) >= 1; }));
  server.command(R"({"cmd":"hang_watches"})");
  server.command(R"({"cmd":"drop_watches"})");
  const auto t0 = Clock::now();
  REQUIRE(eventually([&] { return count_watches(server) >= 2; }));
  const size_t hung = count_watches(server);
  server.command(R"({"cmd":"hang_watches","hang":false})");
  REQUIRE(eventually([&] { return count_watches(server) > hung; }, 10s));
  CHECK(Clock::now() - t0 >= 1500ms);
  server.command(R"({"cmd":"add_pod","name":"after-1","namespace":"shop"})");
  CHECK(cache.wait_for("shop", "after-1", Clock::now() + 10s) != nullptr);
}

TEST_CASE("a garbled watch event: re-watch from the last good resourceVersion", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path);
  server.command(kInitialPods);
  PodCache cache;
  PodWatcher watcher(options_for(server), cache);
  REQUIRE(watcher.start());
  REQUIRE(eventually([&] { return watcher.synced() && count_watches(server) == 1; }));
  const std::string rv = watches_of(server.requests()).at(0).query.at("resourceVersion");
  server.command(R"({"cmd":"send_raw","line":"{\"type\":\"ADDED\",\"object\":{\"metadata\":"})");
  REQUIRE(eventually([&] { return count_watches(server) == 2; }));
  CHECK(watches_of(server.requests()).at(1).query.at("resourceVersion") == rv);
  CHECK(watcher.stats().errors == 1);
  server.command(R"({"cmd":"add_pod","name":"after-1","namespace":"shop"})");
  CHECK(cache.wait_for("shop", "after-1", Clock::now() + 10s) != nullptr);
}

TEST_CASE("stop() is prompt", "[k8s][integration]") {
  TempDir dir;
  SECTION("during a watch") {
    ApiServerProcess server(dir.path);
    PodCache cache;
    PodWatcher watcher(options_for(server), cache);
    REQUIRE(watcher.start());
    REQUIRE(eventually([&] { return watcher.synced() && count_watches(server) == 1; }));
    const auto t0 = Clock::now();
    watcher.stop();
    CHECK(Clock::now() - t0 < 500ms);
    watcher.stop();  // idempotent
  }
  SECTION("during a long backoff") {
    ApiServerProcess server(dir.path, {"--down"});
    PodCache cache;
    auto o = options_for(server);
    o.backoff_initial = o.backoff_max = 60s;
    PodWatcher watcher(o, cache);
    REQUIRE(watcher.start());
    REQUIRE(eventually([&] { return watcher.stats().errors == 1; }));
    const auto t0 = Clock::now();
    watcher.stop();
    CHECK(Clock::now() - t0 < 500ms);
  }
  SECTION("while a TLS handshake hangs") {
    // A listener that never accepts: TCP connects (the backlog), TLS waits forever.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ApiServerProcess server(dir.path, {"--down"});  // for its CA and token files
    PodCache cache;
    auto o = options_for(server);
    o.port = ntohs(addr.sin_port);
    o.connect_timeout = 60s;
    PodWatcher watcher(o, cache);
    REQUIRE(watcher.start());
    std::this_thread::sleep_for(200ms);
    const auto t0 = Clock::now();
    watcher.stop();
    CHECK(Clock::now() - t0 < 500ms);
    CHECK(watcher.stats().errors == 0);  // still in the handshake
    ::close(fd);
  }
  SECTION("destruction without stop()") {
    ApiServerProcess server(dir.path);
    PodCache cache;
    const auto t0 = Clock::now();
    {
      PodWatcher watcher(options_for(server), cache);
      REQUIRE(watcher.start());
      REQUIRE(eventually([&] { return watcher.synced(); }));
    }
    CHECK(Clock::now() - t0 < 10s);
  }
}

TEST_CASE("start() validates its options", "[k8s]") {
  TempDir dir;
  testing::write_file(dir.path + "/token", "t\n");
  testing::write_file(dir.path + "/ca.crt", "not a certificate\n");
  WatcherOptions o;
  o.host = "127.0.0.1";
  o.port = 1;
  o.token_file = dir.path + "/token";
  o.ca_file = dir.path + "/ca.crt";
  o.node_name = "node-1";
  PodCache cache;
  const auto invalid = [&](const WatcherOptions& opts, std::string_view needle) {
    PodWatcher watcher(opts, cache);
    auto r = watcher.start();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kInvalid);
    INFO(r.error().message);
    CHECK(r.error().message.find(needle) != std::string::npos);
  };
  invalid(o, "CA file");
  auto missing_ca = o;
  missing_ca.ca_file = dir.path + "/nope.crt";
  invalid(missing_ca, "nope.crt");
  auto no_node = o;
  no_node.node_name.clear();
  invalid(no_node, "node name");
  auto no_host = o;
  no_host.host.clear();
  invalid(no_host, "host");
  auto bad_release = o;
  bad_release.release_from = {"commit"};
  invalid(bad_release, "commit");
  auto bad_filter = o;
  bad_filter.label_filter = {""};
  invalid(bad_filter, "label filter");
  auto bad_backoff = o;
  bad_backoff.backoff_max = 1ms;
  invalid(bad_backoff, "backoff");
}

TEST_CASE("start() checks the token file and refuses a second start", "[k8s][integration]") {
  TempDir dir;
  ApiServerProcess server(dir.path, {"--down"});
  PodCache cache;
  auto o = options_for(server);
  o.token_file = dir.path + "/missing-token";
  {
    PodWatcher watcher(o, cache);
    auto r = watcher.start();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("missing-token") != std::string::npos);
  }
  PodWatcher watcher(options_for(server), cache);
  REQUIRE(watcher.start());
  CHECK_FALSE(watcher.start());
}

}  // namespace logship::k8s
