#include "agent/k8s/pod_watcher.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "agent/core/backoff.h"
#include "agent/core/log.h"
#include "agent/k8s/api_client.h"
#include "agent/k8s/api_parser.h"
#include "agent/k8s/api_target.h"

namespace logship::k8s {
namespace {

constexpr std::string_view kComponent = "k8s";
/// Pods per list page, as the API conventions suggest for large lists.
constexpr uint32_t kPageLimit = 500;
/// A list page of 500 pods is a few MiB; far above that is a broken server.
constexpr size_t kMaxPageBytes = 256 * 1024 * 1024;
/// One watch event is one pod; a line this long without a newline is garbage.
constexpr size_t kMaxEventBytes = 16 * 1024 * 1024;
/// A watch that ends sooner than this without an event counts as a failure,
/// so a server that accepts and hangs up at once is not hammered.
constexpr auto kMinUsefulWatch = std::chrono::seconds(1);

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// What one list or watch attempt came to; decides the next step.
struct Outcome {
  enum class Kind {
    kListed,   ///< a full list is in the cache: watch from its resourceVersion
    kEnded,    ///< the watch ended or dropped: watch again from the last resourceVersion
    kGone,     ///< 410 Gone: the resourceVersion is too old, relist
    kFailed,   ///< an error: back off, then retry the same step
    kStopped,  ///< stop() was called
  };
  Kind kind = Kind::kFailed;
  bool progress = false;  ///< the attempt moved things on (resets the backoff)
  std::string error;      ///< why it failed or dropped (never holds the token)
};

}  // namespace

struct PodWatcher::Impl {
  Impl(WatcherOptions o, PodCache& c, std::atomic<bool>& s)
      : options(std::move(o)),
        cache(c),
        synced(s),
        // Equal jitter, [d/2, d]: keeps the agents of a whole cluster from
        // reconnecting in lockstep after an API server restart, and never
        // hammers it with near-zero waits.
        backoff_(Backoff::Options{.initial = options.backoff_initial, .max = options.backoff_max,
                                  .jitter = Backoff::Jitter::kEqual}) {}

  WatcherOptions options;
  PodCache& cache;
  std::atomic<bool>& synced;
  MetaPolicy policy;
  std::unique_ptr<ApiClient> client;
  ApiParser event_parser;  // reused: watch events are small
  Backoff backoff_;
  std::thread thread;
  bool started = false;
  std::atomic<bool> stopping{false};
  std::mutex sleep_mu;
  std::condition_variable sleep_cv;

  // Watcher-thread state.
  std::string resource_version;
  bool rv_from_list = false;  // no event applied since the last list
  bool reachable = false;     // for logging state changes only

  std::atomic<uint64_t> lists{0}, watches{0}, events{0}, relists_gone{0}, unauthorized{0},
      errors{0};

  std::string api() const { return host_header(options.host, options.port); }

  /// Sleeps for `d` unless stop() comes first.
  void sleep(std::chrono::milliseconds d) {
    std::unique_lock lock(sleep_mu);
    sleep_cv.wait_for(lock, d, [this] { return stopping.load(std::memory_order_acquire); });
  }

  /// The delay before attempt `attempt + 1` (agent/core/backoff.h).
  std::chrono::milliseconds backoff(int attempt) { return backoff_.delay(static_cast<uint32_t>(std::max(attempt, 1))); }

  void set_reachable(bool now_reachable, std::string_view error, std::chrono::milliseconds retry_in) {
    if (now_reachable) {
      if (!reachable) log::info(kComponent, "kubernetes API reachable", {{"api", api()}});
      reachable = true;
      return;
    }
    // Every failure is logged (at most one line per backoff period); the
    // first one after a good spell says the state changed.
    log::warn(kComponent, reachable ? "kubernetes API unavailable" : "kubernetes API request failed",
              {{"api", api()}, {"error", error}, {"retry_in_ms", int64_t(retry_in.count())}});
    reachable = false;
  }

  Outcome client_failed(const Error& e) {
    if (e.code == Errc::kClosed) return {Outcome::Kind::kStopped, false, {}};
    return {Outcome::Kind::kFailed, false, e.message};
  }

  /// An unexpected HTTP status: the Status body's message says why (RBAC,
  /// throttling, …), which is what an operator needs to see.
  Outcome status_failed(const ApiResponse& response, std::string_view what) {
    if (response.status == 401) {
      unauthorized.fetch_add(1, std::memory_order_relaxed);
      log::warn(kComponent, "kubernetes API rejected the token (401); re-reading the token file",
                {{"api", api()}, {"token_file", options.token_file}});
    }
    std::string error = std::string(what) + ": HTTP " + std::to_string(response.status);
    if (auto status = event_parser.parse_status(response.body); status && !status->message.empty()) {
      error += ": " + status->message.substr(0, 300);
    }
    return {Outcome::Kind::kFailed, false, std::move(error)};
  }

  Outcome list() {
    // A parser of its own, freed with it: list pages are far larger than
    // events and their buffers need not live on.
    ApiParser list_parser;
    std::vector<PodMeta> pods;
    std::string continue_token;
    std::string rv;
    do {
      auto response =
          client->get(list_target(options.node_name, kPageLimit, continue_token), options.request_timeout,
                      kMaxPageBytes);
      if (!response) return client_failed(response.error());
      if (response->status == 410 && !continue_token.empty()) {
        // The continue token outlived its snapshot: start the list over.
        return {Outcome::Kind::kGone, true, "list continue token expired (410)"};
      }
      if (response->status != 200) return status_failed(*response, "list pods");
      auto page = list_parser.parse_pod_list(response->body);
      if (!page) return {Outcome::Kind::kFailed, false, "list pods: " + page.error().message};
      for (const PodObject& pod : page->items) pods.push_back(policy.build(pod));
      rv = std::move(page->resource_version);
      continue_token = std::move(page->continue_token);
    } while (!continue_token.empty());
    const size_t count = pods.size();
    cache.replace_all(std::move(pods));
    resource_version = std::move(rv);
    rv_from_list = true;
    lists.fetch_add(1, std::memory_order_relaxed);
    if (!synced.exchange(true, std::memory_order_acq_rel)) {
      log::info(kComponent, "pod cache synced",
                {{"node", options.node_name}, {"pods", uint64_t(count)}, {"resource_version", resource_version}});
    } else {
      log::debug(kComponent, "pods relisted", {{"pods", uint64_t(count)}, {"resource_version", resource_version}});
    }
    return {Outcome::Kind::kListed, true, {}};
  }

  /// Applies one watch event line. Returns an Outcome to end the watch with,
  /// or nullopt to read on.
  std::optional<Outcome> apply(std::string_view line, bool& progress) {
    line = trim(line);
    if (line.empty()) return std::nullopt;
    auto event = event_parser.parse_watch_event(line);
    if (!event) {
      // Skipping an event could lose a pod for good; re-watching from the
      // last applied resourceVersion gets it again.
      return Outcome{Outcome::Kind::kFailed, progress, "bad watch event: " + event.error().message};
    }
    switch (event->type) {
      case WatchEvent::Type::kAdded:
      case WatchEvent::Type::kModified:
        cache.upsert(policy.build(event->pod));
        break;
      case WatchEvent::Type::kDeleted:
        cache.mark_deleted(event->pod.namespace_name, event->pod.name, event->pod.uid);
        break;
      case WatchEvent::Type::kBookmark:
        break;
      case WatchEvent::Type::kError:
        if (event->code == 410) {
          return Outcome{Outcome::Kind::kGone, progress, "watch: " + event->message + " (410)"};
        }
        return Outcome{Outcome::Kind::kFailed, progress,
                       "watch error event " + std::to_string(event->code) + ": " + event->message};
    }
    if (!event->resource_version.empty()) resource_version = std::move(event->resource_version);
    rv_from_list = false;
    progress = true;
    events.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }

  Outcome watch() {
    const auto began = std::chrono::steady_clock::now();
    auto response = client->open_stream(
        watch_target(options.node_name, resource_version, options.watch_timeout), options.request_timeout);
    if (!response) return client_failed(response.error());
    if (response->status == 410) return {Outcome::Kind::kGone, false, "watch: HTTP 410"};
    if (response->status != 200) return status_failed(*response, "watch pods");
    watches.fetch_add(1, std::memory_order_relaxed);
    set_reachable(true, {}, {});
    log::debug(kComponent, "watching", {{"resource_version", resource_version}});

    // A healthy server ends the watch after timeoutSeconds; twice that
    // without a byte means it hangs (or the path to it does).
    const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(options.watch_timeout) * 2;
    bool progress = false;
    std::string pending;
    const auto useful = [&] { return progress || std::chrono::steady_clock::now() - began >= kMinUsefulWatch; };
    for (;;) {
      const size_t scanned = pending.size();
      auto more = client->read_stream(pending, idle);
      if (!more) {
        if (more.error().code == Errc::kClosed) return {Outcome::Kind::kStopped, progress, {}};
        return {Outcome::Kind::kEnded, useful(), "watch dropped: " + more.error().message};
      }
      // Only the newly read bytes can hold new line ends.
      size_t start = 0;
      for (size_t nl = pending.find('\n', scanned); nl != std::string::npos; nl = pending.find('\n', start)) {
        auto done = apply(std::string_view(pending).substr(start, nl - start), progress);
        start = nl + 1;
        if (done) {
          client->disconnect();  // the rest of this stream is of no use
          return *done;
        }
      }
      pending.erase(0, start);
      if (!*more) {
        // The server ended the watch (timeoutSeconds); a last line without
        // its newline is still an event.
        if (auto done = apply(pending, progress)) return *done;
        return {Outcome::Kind::kEnded, useful(), {}};
      }
      if (pending.size() > kMaxEventBytes) {
        client->disconnect();
        return {Outcome::Kind::kFailed, progress, "watch event larger than 16 MiB"};
      }
    }
  }

  void run() {
    log::info(kComponent, "starting pod watcher", {{"api", api()}, {"node", options.node_name}});
    bool need_list = true;
    int attempt = 0;  // consecutive attempts without progress
    while (!stopping.load(std::memory_order_acquire)) {
      const bool listing = need_list;
      const Outcome outcome = listing ? list() : watch();
      switch (outcome.kind) {
        case Outcome::Kind::kStopped:
          return;
        case Outcome::Kind::kListed:
          need_list = false;
          attempt = 0;
          set_reachable(true, {}, {});
          continue;
        case Outcome::Kind::kEnded:
          if (outcome.progress) {
            set_reachable(true, {}, {});
            attempt = 0;
            if (!outcome.error.empty()) {
              log::info(kComponent, "watch dropped; resuming",
                        {{"error", outcome.error}, {"resource_version", resource_version}});
            }
            continue;  // re-watch at once from the last resourceVersion
          }
          break;  // a watch that did nothing: back off like any failure
        case Outcome::Kind::kGone: {
          need_list = true;
          relists_gone.fetch_add(1, std::memory_order_relaxed);
          log::info(kComponent, "resourceVersion expired; relisting",
                    {{"reason", outcome.error}, {"resource_version", resource_version}});
          // Relist at once, unless the watch failed straight from a fresh
          // list's resourceVersion: then the server is in trouble and a
          // list/410 loop must not spin.
          if (!(rv_from_list && !outcome.progress && !listing)) {
            if (outcome.progress) attempt = 0;
            continue;
          }
          break;
        }
        case Outcome::Kind::kFailed:
          break;
      }
      errors.fetch_add(1, std::memory_order_relaxed);
      ++attempt;
      const auto delay = backoff(attempt);
      set_reachable(false, outcome.error.empty() ? std::string_view("watch ended without events") : outcome.error,
                    delay);
      sleep(delay);
    }
  }
};

PodWatcher::PodWatcher(WatcherOptions options, PodCache& cache)
    : impl_(std::make_unique<Impl>(std::move(options), cache, synced_)) {}

PodWatcher::~PodWatcher() { stop(); }

Result<void> PodWatcher::start() {
  Impl& m = *impl_;
  if (m.started) return fail(Errc::kInvalid, "pod watcher already started");
  const WatcherOptions& o = m.options;
  if (o.host.empty()) return fail(Errc::kInvalid, "kubernetes API host is empty (KUBERNETES_SERVICE_HOST)");
  if (o.port == 0) return fail(Errc::kInvalid, "kubernetes API port is 0 (KUBERNETES_SERVICE_PORT)");
  if (o.node_name.empty()) return fail(Errc::kInvalid, "node name is empty (LOGSHIP_NODE_NAME)");
  if (o.backoff_initial.count() <= 0 || o.backoff_max < o.backoff_initial) {
    return fail(Errc::kInvalid, "backoff: need 0 < initial <= max");
  }
  if (o.watch_timeout.count() <= 0 || o.connect_timeout.count() <= 0 || o.request_timeout.count() <= 0) {
    return fail(Errc::kInvalid, "timeouts must be positive");
  }
  auto policy = MetaPolicy::create(o.label_filter, o.annotation_filter, o.release_from);
  if (!policy) return std::unexpected(policy.error());
  m.policy = std::move(*policy);
  m.client = std::make_unique<ApiClient>(
      ApiClientOptions{o.host, o.port, o.ca_file, o.token_file, o.connect_timeout});
  if (auto r = m.client->validate(); !r) return r;
  try {
    m.thread = std::thread([&m] { m.run(); });
  } catch (const std::system_error& e) {
    return fail(Errc::kIo, std::string("start pod watcher thread: ") + e.what());
  }
  m.started = true;
  return {};
}

void PodWatcher::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  m.stopping.store(true, std::memory_order_release);
  m.client->interrupt();
  {
    // Taking the lock orders the store before a sleeper's predicate check,
    // so the notify cannot fall between its check and its wait.
    std::lock_guard lock(m.sleep_mu);
  }
  m.sleep_cv.notify_all();
  m.thread.join();
  log::info(kComponent, "pod watcher stopped");
}

WatcherStats PodWatcher::stats() const {
  const Impl& m = *impl_;
  WatcherStats s;
  s.lists = m.lists.load(std::memory_order_relaxed);
  s.watches = m.watches.load(std::memory_order_relaxed);
  s.events = m.events.load(std::memory_order_relaxed);
  s.relists_gone = m.relists_gone.load(std::memory_order_relaxed);
  s.unauthorized = m.unauthorized.load(std::memory_order_relaxed);
  s.errors = m.errors.load(std::memory_order_relaxed);
  return s;
}

}  // namespace logship::k8s
