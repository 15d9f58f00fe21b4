#include "agent/core/batch.h"

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

}  // namespace logship
