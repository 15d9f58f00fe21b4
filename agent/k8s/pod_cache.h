#pragma once
// The pods of this node, keyed by (namespace, name), as the PodWatcher last
// saw them. Records look their pod up here on the data path.
//
// Threading: every method is safe from any thread. Readers (find, wait_for,
// generation) take a shared lock for a map lookup and never wait on the
// network; writers (the watcher) hold the exclusive lock only to swap
// entries. Published PodMeta objects are immutable and shared, so a reader
// may keep one after the pod changes or leaves the cache.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/k8s/pod_meta.h"

namespace logship::k8s {

class PodCache {
 public:
  using Clock = std::chrono::steady_clock;

  /// `deleted_ttl`: how long a deleted pod stays findable, so the last lines
  /// of a short-lived pod, read after it is gone, still get its metadata.
  explicit PodCache(std::chrono::milliseconds deleted_ttl = std::chrono::minutes(5));

  PodCache(const PodCache&) = delete;
  PodCache& operator=(const PodCache&) = delete;

  /// The pod, deleted or not (until its TTL passes); nullptr if unknown.
  [[nodiscard]] std::shared_ptr<const PodMeta> find(std::string_view ns, std::string_view pod) const;

  /// find(), blocking until the pod is in the cache, `deadline` passes or
  /// the cache is closed; then the result of find() (nullptr if still
  /// unknown). Returns at once once the cache is closed.
  [[nodiscard]] std::shared_ptr<const PodMeta> wait_for(std::string_view ns, std::string_view pod,
                                                        Clock::time_point deadline) const;

  /// Bumps on every change (a pod added, changed or deleted, or a
  /// replace_all that changed something), so users can cache lookups and
  /// re-check cheaply. Upserting an identical pod is not a change. Expiry
  /// is lazy: find() stops returning a deleted pod as soon as its TTL has
  /// passed, but the entry is purged, and the generation bumped, with the
  /// next change.
  [[nodiscard]] uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  /// Live (not deleted, not expired) pods in the cache.
  [[nodiscard]] size_t size() const;

  // ---- used by the watcher ----

  /// Adds or replaces the pod (keyed by namespace and name); a pod of that
  /// name marked deleted comes back to life (e.g. a StatefulSet's pod
  /// recreated under the same name, with a new uid).
  void upsert(PodMeta pod);

  /// Marks the pod deleted: it stays findable for `deleted_ttl`. When `uid`
  /// is non-empty, a cached pod with another uid (a newer pod of the same
  /// name) is left alone.
  void mark_deleted(std::string_view ns, std::string_view pod, std::string_view uid = {});

  /// After a relist: `pods` become the live set; cached pods missing from it
  /// were deleted while the watch was down and are marked deleted (kept
  /// for the TTL like any deleted pod).
  void replace_all(std::vector<PodMeta> pods);

  /// Wakes every wait_for() and makes later ones return at once. find()
  /// keeps working. Call at shutdown, when nothing will fill the cache any
  /// more. Idempotent.
  void close();

 private:
  struct Entry {
    std::shared_ptr<const PodMeta> pod;
    bool deleted = false;
    Clock::time_point expires{};  // meaningful when deleted
  };
  struct Key {
    std::string ns, name;
  };
  /// Orders keys and allows lookups by (string_view, string_view) without
  /// building strings.
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const int c = std::string_view(a.ns).compare(std::string_view(b.ns));
      return c != 0 ? c < 0 : std::string_view(a.name) < std::string_view(b.name);
    }
  };
  struct KeyView {
    std::string_view ns, name;
  };

  /// Drops expired deleted entries; caller holds the exclusive lock. Returns
  /// whether anything was dropped.
  bool purge_expired_locked(Clock::time_point now);
  /// Publishes a change: bumps the generation and wakes waiters.
  void changed_locked();

  const std::chrono::milliseconds deleted_ttl_;
  mutable std::shared_mutex mu_;
  mutable std::condition_variable_any cv_;
  std::map<Key, Entry, KeyLess> pods_;
  std::atomic<uint64_t> generation_{0};
  bool closed_ = false;  // guarded by mu_
};

}  // namespace logship::k8s
