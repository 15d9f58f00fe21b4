#pragma once
// A Batch is the unit the pipeline hands to a sink and the unit a sink
// acknowledges. It owns the encoded records (NDJSON bytes, one record per
// line) and, per source file, the resume offset that becomes committable once
// the batch and every batch before it are acknowledged.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace logship {

/// Identity of a source file: (device, inode) plus a fingerprint of its first
/// bytes, so a reused inode is not mistaken for the file that had it before.
struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t fingerprint = 0;      ///< FNV-1a 64 of the first fingerprint_len bytes
  uint32_t fingerprint_len = 0;  ///< 0 while the file is empty

  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

/// Where reading of one file may resume once the batch holding this position
/// is acknowledged: every record that starts before `offset` is in this batch
/// or an earlier one.
struct FilePosition {
  uint32_t file_id = 0;  ///< index into the pipeline's file table
  uint64_t offset = 0;
  FileIdentity identity;
  /// The file is gone and fully shipped: remove its checkpoint once this
  /// position is committed, instead of storing it.
  bool prune = false;
};

/// Encoded records plus commit positions. Built by one worker thread, then
/// moved to the sink; never shared between threads at the same time.
class Batch {
 public:
  /// Appends the bytes of one encoded record (without its trailing newline).
  /// Callers usually encode straight into data() and then call end_record().
  void end_record() {
    data_.push_back('\n');
    record_ends_.push_back(static_cast<uint32_t>(data_.size()));
  }

  /// Records where `file_id` may resume after this batch is acknowledged.
  /// Later calls for the same file replace the earlier position.
  void set_position(const FilePosition& position);

  /// The output buffer; encoders append one record, then call end_record().
  std::string& data() { return data_; }
  const std::string& data() const { return data_; }

  size_t record_count() const { return record_ends_.size(); }
  /// Record `i` without its trailing newline.
  std::string_view record(size_t i) const {
    const size_t begin = i == 0 ? 0 : record_ends_[i - 1];
    return std::string_view(data_).substr(begin, record_ends_[i] - begin - 1);
  }
  const std::vector<FilePosition>& positions() const { return positions_; }

  /// Source bytes consumed to build this batch (for memory accounting).
  size_t input_bytes = 0;
  /// Bytes charged against the pipeline's memory limit while in flight.
  size_t charged_bytes = 0;
  /// Sequence number assigned by the pipeline; commits follow this order.
  uint64_t seq = 0;
  /// Delivery attempts so far (the pipeline retries failed deliveries).
  uint32_t attempts = 0;

  /// Empties the batch for reuse, keeping its buffer's capacity.
  void reset() {
    data_.clear();
    record_ends_.clear();
    positions_.clear();
    input_bytes = charged_bytes = 0;
    seq = 0;
    attempts = 0;
  }

  bool empty() const { return record_ends_.empty() && positions_.empty(); }

 private:
  std::string data_;
  std::vector<uint32_t> record_ends_;
  std::vector<FilePosition> positions_;
};

using BatchPtr = std::unique_ptr<Batch>;

}  // namespace logship
