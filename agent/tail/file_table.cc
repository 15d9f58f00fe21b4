#include "agent/tail/file_table.h"

#include <algorithm>

namespace logship::tail {

uint32_t FileTable::add(const std::string& path, const Key& key, uint64_t size) {
  std::lock_guard lock(mu_);
  if (auto it = ids_.find(key); it != ids_.end()) {
    entries_[it->second] = Entry{path, size};
    return it->second;
  }
  entries_.push_back(Entry{path, size});
  const auto id = static_cast<uint32_t>(entries_.size() - 1);
  ids_[key] = id;
  return id;
}

void FileTable::note_size(uint32_t id, uint64_t size) {
  std::lock_guard lock(mu_);
  if (id < entries_.size()) entries_[id].size = size;
}

void FileTable::opened(uint32_t id, std::shared_ptr<FileMetrics> metrics) {
  std::lock_guard lock(metrics_mu_);
  metrics_[id] = std::move(metrics);
}

void FileTable::closed(uint32_t id) {
  std::lock_guard lock(metrics_mu_);
  metrics_.erase(id);
}

void FileTable::for_each_open(const std::function<void(const FileMetrics&)>& fn) const {
  std::lock_guard lock(metrics_mu_);
  for (const auto& [id, m] : metrics_) fn(*m);
}

Result<void> FileTable::commit(std::span<const FilePosition> positions, checkpoint::CheckpointStore& store,
                               Stats& stats) {
  for (const FilePosition& pos : positions) {
    Entry entry;
    {
      std::lock_guard lock(mu_);
      if (pos.file_id < entries_.size()) entry = entries_[pos.file_id];
    }
    if (pos.prune) {
      store.erase(pos.identity.dev, pos.identity.ino);
      stats.checkpoints_pruned.fetch_add(1, std::memory_order_relaxed);
    } else {
      store.put(checkpoint::Checkpoint{entry.path, pos.identity, pos.offset, std::max(entry.size, pos.offset)});
    }
  }
  if (auto r = store.flush(); !r) {
    stats.checkpoint_errors.fetch_add(1, std::memory_order_relaxed);
    return r;
  }
  return {};
}

}  // namespace logship::tail
