#pragma once
// The live tap's buffer (`logship tap`, LOGSHIP_TAP=on): the pipeline offers
// each record after encoding; every connected tap client whose filter
// matches gets a copy in its own bounded buffer, which the tap server
// (tap_server.h) drains to the client's socket.
//
// The tap must never slow or block shipping:
// - with no client connected, offer() is one relaxed atomic load;
// - with clients, offer() takes the buffer lock with try_lock only: if the
//   server thread holds it (a pointer swap), the record is skipped;
// - a client's buffer holds at most `buffer_bytes`; records that do not
//   fit are skipped.
// Skipped records are counted (stats(), and logship_tap_records_skipped_total
// once register_metrics() was called). The tap is a sample for a human to
// look at, not a delivery path.
//
// Log content is sensitive: records only ever leave through the tap server's
// loopback listener, never through logs or /metrics.
//
// Threading: offer() and active() from any thread (typically the pipeline's);
// subscribe(), Subscription methods, stats() from any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/admin/metrics.h"
#include "agent/core/result.h"

namespace logship::admin {

/// A tap client's selection: shell globs (fnmatch(3), no flags) on the
/// record's Kubernetes namespace, pod and container. "*" matches anything,
/// including an empty (unknown) value.
struct TapFilter {
  std::string namespace_glob = "*";
  std::string pod_glob = "*";
  std::string container_glob = "*";

  [[nodiscard]] bool matches(std::string_view ns, std::string_view pod, std::string_view container) const;
};

/// Counters since the tap was created.
struct TapStats {
  uint64_t queued = 0;        ///< record copies put in a client's buffer
  uint64_t skipped_full = 0;  ///< record copies skipped: the client's buffer was full
  uint64_t skipped_busy = 0;  ///< records skipped: the buffer lock was held by the server
  uint64_t clients = 0;       ///< clients connected now
};

class Tap {
 public:
  struct Options {
    /// Clients at once; more are refused (kUnavailable).
    std::size_t max_clients = 4;
    /// Bytes buffered per client between two drains.
    std::size_t buffer_bytes = 1024 * 1024;
  };

  class Subscription;

  Tap();
  explicit Tap(Options options);
  ~Tap();

  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  /// True while a client is connected: the pipeline may skip preparing
  /// records for offer() otherwise.
  [[nodiscard]] bool active() const noexcept { return clients_.load(std::memory_order_relaxed) > 0; }

  /// Offers one encoded record (one JSON object, no line ending) with its
  /// Kubernetes identity. Never blocks and never fails; see the file comment.
  void offer(std::string_view ns, std::string_view pod, std::string_view container, std::string_view record);

  /// Connects a client. kUnavailable when max_clients are connected. The
  /// subscription must not outlive the tap.
  [[nodiscard]] Result<std::unique_ptr<Subscription>> subscribe(TapFilter filter);

  [[nodiscard]] TapStats stats() const;

  /// Describes logship_tap_records_total, logship_tap_records_skipped_total
  /// and logship_tap_clients in `metrics` and adds a collector for them. The
  /// caller removes the collector (Metrics::remove_collector) before the tap
  /// is destroyed.
  [[nodiscard]] Metrics::CollectorId register_metrics(Metrics& metrics) const;

 private:
  struct Client {
    TapFilter filter;
    std::string buffer;  // records, each ending in '\n'
    uint64_t skipped = 0;
  };
  void unsubscribe(Client* client);

  const Options options_;
  std::atomic<uint64_t> clients_{0};
  std::mutex mu_;  // guards clients_list_ and every Client's buffer and skipped
  std::vector<std::unique_ptr<Client>> clients_list_;
  std::atomic<uint64_t> queued_{0};
  std::atomic<uint64_t> skipped_full_{0};
  std::atomic<uint64_t> skipped_busy_{0};
};

/// One connected client. Destroying it disconnects the client.
class Tap::Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  /// Appends the records buffered since the last call to `out` (each ending
  /// in '\n') and returns how many. Never waits for records.
  std::size_t drain(std::string& out);

  /// Record copies skipped for this client because its buffer was full.
  [[nodiscard]] uint64_t skipped();

 private:
  friend class Tap;
  Subscription(Tap& tap, Client* client) : tap_(tap), client_(client) {}
  Tap& tap_;
  Client* client_;
  std::string spare_;  // swapped with the client's buffer, so drains do not allocate
};

}  // namespace logship::admin
