#include "agent/k8s/pod_cache.h"

#include <mutex>
#include <utility>

namespace logship::k8s {

PodCache::PodCache(std::chrono::milliseconds deleted_ttl) : deleted_ttl_(deleted_ttl) {}

std::shared_ptr<const PodMeta> PodCache::find(std::string_view ns, std::string_view pod) const {
  std::shared_lock lock(mu_);
  const auto it = pods_.find(KeyView{ns, pod});
  if (it == pods_.end()) return nullptr;
  if (it->second.deleted && Clock::now() >= it->second.expires) return nullptr;
  return it->second.pod;
}

std::shared_ptr<const PodMeta> PodCache::wait_for(std::string_view ns, std::string_view pod,
                                                  Clock::time_point deadline) const {
  std::shared_lock lock(mu_);
  std::shared_ptr<const PodMeta> found;
  const auto look = [&] {
    const auto it = pods_.find(KeyView{ns, pod});
    if (it != pods_.end() && !(it->second.deleted && Clock::now() >= it->second.expires)) {
      found = it->second.pod;
    }
    return found != nullptr || closed_;
  };
  // Writers notify after every change; the predicate re-checks under the
  // shared lock, so a change between look() and the wait is never missed.
  cv_.wait_until(lock, deadline, look);
  return found;
}

size_t PodCache::size() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [key, entry] : pods_) n += entry.deleted ? 0 : 1;
  return n;
}

bool PodCache::purge_expired_locked(Clock::time_point now) {
  bool purged = false;
  for (auto it = pods_.begin(); it != pods_.end();) {
    if (it->second.deleted && now >= it->second.expires) {
      it = pods_.erase(it);
      purged = true;
    } else {
      ++it;
    }
  }
  return purged;
}

void PodCache::changed_locked() { generation_.fetch_add(1, std::memory_order_acq_rel); }

void PodCache::upsert(PodMeta pod) {
  {
    std::unique_lock lock(mu_);
    bool changed = purge_expired_locked(Clock::now());
    auto it = pods_.find(KeyView{pod.namespace_name, pod.name});
    if (it == pods_.end()) {
      Key key{pod.namespace_name, pod.name};
      pods_.emplace(std::move(key), Entry{std::make_shared<const PodMeta>(std::move(pod))});
      changed = true;
    } else if (it->second.deleted || *it->second.pod != pod) {
      // Pod status churns (readiness, restarts) without touching what
      // records carry; keeping the old pointer and generation then spares
      // readers a re-lookup.
      it->second = Entry{std::make_shared<const PodMeta>(std::move(pod))};
      changed = true;
    }
    if (!changed) return;
    changed_locked();
  }
  cv_.notify_all();
}

void PodCache::mark_deleted(std::string_view ns, std::string_view pod, std::string_view uid) {
  {
    std::unique_lock lock(mu_);
    const auto now = Clock::now();
    bool changed = purge_expired_locked(now);
    const auto it = pods_.find(KeyView{ns, pod});
    if (it != pods_.end() && !it->second.deleted && (uid.empty() || it->second.pod->uid == uid)) {
      it->second.deleted = true;
      it->second.expires = now + deleted_ttl_;
      changed = true;
    }
    if (!changed) return;
    changed_locked();
  }
  cv_.notify_all();
}

void PodCache::replace_all(std::vector<PodMeta> pods) {
  {
    std::unique_lock lock(mu_);
    const auto now = Clock::now();
    bool changed = purge_expired_locked(now);
    std::map<Key, Entry, KeyLess> next;
    for (PodMeta& pod : pods) {
      auto old = pods_.find(KeyView{pod.namespace_name, pod.name});
      Key key{pod.namespace_name, pod.name};
      if (old != pods_.end() && !old->second.deleted && *old->second.pod == pod) {
        next.insert_or_assign(std::move(key), std::move(old->second));
      } else {
        next.insert_or_assign(std::move(key), Entry{std::make_shared<const PodMeta>(std::move(pod))});
        changed = true;
      }
    }
    // Pods that vanished while the watch was down were deleted in that
    // time; their files may still hold unread lines, so they get the TTL.
    for (auto& [key, entry] : pods_) {
      if (next.contains(KeyView{key.ns, key.name}) || !entry.pod) continue;
      if (!entry.deleted) {
        entry.deleted = true;
        entry.expires = now + deleted_ttl_;
        changed = true;
      }
      next.emplace(key, std::move(entry));
    }
    pods_ = std::move(next);
    if (!changed) return;
    changed_locked();
  }
  cv_.notify_all();
}

void PodCache::close() {
  {
    std::unique_lock lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace logship::k8s
