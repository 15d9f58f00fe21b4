#include "agent/core/batch.h"

#include <algorithm>

namespace logship {

void Batch::set_position(const FilePosition& position) {
  // A batch touches few files (usually one), so a linear scan beats a map.
  for (auto& p : positions_) {
    if (p.file_id == position.file_id) {
      p = position;
      return;
    }
  }
  positions_.push_back(position);
}

size_t Batch::record_at(size_t offset) const {
  // record_ends_ holds each record's end (past its newline), ascending.
  return static_cast<size_t>(std::upper_bound(record_ends_.begin(), record_ends_.end(), offset) - record_ends_.begin());
}

size_t Batch::memory_bytes() const {
  return data_.capacity() + record_ends_.capacity() * sizeof(uint32_t) + fields_.capacity() * sizeof(RecordFields) +
         shapes_.capacity() * sizeof(K8sShape) + positions_.capacity() * sizeof(FilePosition);
}

static_assert(sizeof(RecordFields) <= 64, "the per-record structure is charged to the memory limit: keep it small");

}  // namespace logship
