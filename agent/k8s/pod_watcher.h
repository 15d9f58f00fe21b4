#pragma once
// Keeps a PodCache filled with the pods of one node: LIST then WATCH
// `/api/v1/pods?fieldSelector=spec.nodeName=<node>` on the in-cluster API
// server, following resourceVersion (bookmarks included), re-watching after
// a dropped or ended watch, relisting on 410 Gone, and backing off with
// jitter on errors. The API being slow or down never blocks readers of the
// cache: they see the last known state (or nothing) and carry on.
//
// Lifecycle: construct, start() once, stop() (or destroy). Not restartable.
// Threading: start() and stop() are for the owner (not concurrently with
// each other); synced() and stats() are safe from any thread. The watcher
// runs one thread of its own, the only writer of the cache.
// Ownership: the PodCache is borrowed and must outlive the watcher.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "agent/k8s/pod_cache.h"

namespace logship::k8s {

struct WatcherOptions {
  /// The API server, from KUBERNETES_SERVICE_HOST/_PORT (main passes them);
  /// an IPv6 literal may come with or without brackets.
  std::string host;
  uint16_t port = 443;
  std::string token_file, ca_file, node_name;
  /// Names or prefixes ending in '*' (see NameFilter).
  std::vector<std::string> label_filter, annotation_filter;
  /// "label:<k>", "annotation:<k>", "image-tag"; the first present wins.
  std::vector<std::string> release_from;
  std::chrono::milliseconds backoff_initial{500}, backoff_max{30000};
  /// Sent as timeoutSeconds: the server ends each watch after this long and
  /// the watcher re-watches. A watch silent for twice this long is taken
  /// for a hung server and reconnected.
  std::chrono::seconds watch_timeout{300};
  /// Resolve + connect, and the TLS handshake, each.
  std::chrono::milliseconds connect_timeout{10000};
  /// Each step of a request (send, response header, a list page's body).
  std::chrono::milliseconds request_timeout{30000};
};

/// Counters for metrics and tests; monotonic.
struct WatcherStats {
  uint64_t lists = 0;          ///< complete (all pages) lists
  uint64_t watches = 0;        ///< watch requests answered 200
  uint64_t events = 0;         ///< ADDED/MODIFIED/DELETED/BOOKMARK events applied
  uint64_t relists_gone = 0;   ///< relists forced by 410 Gone
  uint64_t unauthorized = 0;   ///< 401 answers
  uint64_t errors = 0;         ///< failed attempts (each followed by a backoff)
};

class PodWatcher {
 public:
  PodWatcher(WatcherOptions options, PodCache& cache);
  /// Stops (see stop()).
  ~PodWatcher();

  PodWatcher(const PodWatcher&) = delete;
  PodWatcher& operator=(const PodWatcher&) = delete;

  /// Validates the options (host, port, node name, filters, release_from,
  /// backoffs; the CA file loads and the token file is readable) and starts
  /// the watcher thread. Returns at once: the API server being unreachable
  /// is not an error here, it is retried in the background. kInvalid for
  /// bad options or a second start().
  [[nodiscard]] Result<void> start();

  /// Stops the thread promptly (the connection in use is closed, a backoff
  /// wait is cut short) and joins it. Idempotent. The cache keeps its
  /// contents and is not closed (PodCache::close() is the owner's call).
  void stop();

  /// Whether a list has completed at least once (the cache then holds every
  /// pod of the node, as of that list or later).
  [[nodiscard]] bool synced() const { return synced_.load(std::memory_order_acquire); }

  [[nodiscard]] WatcherStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> synced_{false};
};

}  // namespace logship::k8s
