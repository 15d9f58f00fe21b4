#pragma once
// A Batch is the unit the pipeline hands to a sink and the unit a sink
// acknowledges. It owns the encoded records (NDJSON bytes, one record per
// line), each record's structure (record_fields.h: where its parts are, so
// sinks never parse records again) and, per source file, the resume offset
// that becomes committable once the batch and every batch before it are
// acknowledged.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/record_fields.h"

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
  /// Ends the record just appended to data() (without its trailing newline)
  /// and keeps its structure. The record encoder calls this.
  void end_record(const RecordFields& fields) {
    data_.push_back('\n');
    record_ends_.push_back(static_cast<uint32_t>(data_.size()));
    fields_.push_back(fields);
  }
  /// Ends a record without structure: sinks carry it as opaque text (the
  /// HTTP formats as a JSON string, Kafka without key or headers).
  void end_record() { end_record(RecordFields{}); }

  /// Registers the k8s shape of the record being written and returns its
  /// index for RecordFields::k8s_shape. Consecutive records of one source
  /// share one entry; after 0xFFFE distinct shapes, kNoShape.
  [[nodiscard]] uint16_t add_k8s_shape(const K8sShape& shape) {
    if (!shapes_.empty() && shapes_.back() == shape) return static_cast<uint16_t>(shapes_.size() - 1);
    if (shapes_.size() >= RecordFields::kNoShape) return RecordFields::kNoShape;
    shapes_.push_back(shape);
    return static_cast<uint16_t>(shapes_.size() - 1);
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
  /// Index of the record that holds byte `offset` of data().
  [[nodiscard]] size_t record_at(size_t offset) const;
  /// The structure of record `i` (structured() false for a record ended
  /// without it).
  const RecordFields& fields(size_t i) const { return fields_[i]; }
  /// The k8s shape a record refers to, or null.
  const K8sShape* k8s_shape(const RecordFields& f) const {
    return f.k8s_shape < shapes_.size() ? &shapes_[f.k8s_shape] : nullptr;
  }
  const std::vector<FilePosition>& positions() const { return positions_; }

  /// Heap memory held by the batch: its bytes and its record structure (by
  /// capacity, since that is what is allocated). What the pipeline charges
  /// against LOGSHIP_MEMORY_LIMIT.
  [[nodiscard]] size_t memory_bytes() const;

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
    fields_.clear();
    shapes_.clear();
    positions_.clear();
    input_bytes = charged_bytes = 0;
    seq = 0;
    attempts = 0;
  }

  bool empty() const { return record_ends_.empty() && positions_.empty(); }

 private:
  std::string data_;
  std::vector<uint32_t> record_ends_;
  std::vector<RecordFields> fields_;  // parallel to record_ends_
  std::vector<K8sShape> shapes_;
  std::vector<FilePosition> positions_;
};

using BatchPtr = std::unique_ptr<Batch>;

}  // namespace logship
