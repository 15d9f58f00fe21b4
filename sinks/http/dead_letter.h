#pragma once
// The HTTP sink's dead-letter file: records the endpoint rejected for good
// (a 4xx other than 408/413/429, or an Elasticsearch item error such as a
// mapping conflict), appended as one JSON line each and synced before the
// batch is acknowledged, so the checkpoint only moves past a record that is
// either delivered or here:
//
//   {"time":"<when>","status":400,"error":"<reason, bounded>","record":<the logship record>}
//
// `jq -c .record` turns the file back into NDJSON for a replay.
//
// Threading: one writer (the sink's I/O thread). The file is opened on
// first use, so an agent that never rejects anything never creates it.

#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace logship::sinks::http {

class DeadLetterFile {
 public:
  explicit DeadLetterFile(std::string path) : path_(std::move(path)) {}
  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }

  /// Appends one line per record with the same status and reason, then
  /// fdatasync. Records that are not JSON are stored as strings.
  [[nodiscard]] Result<void> append(const std::vector<std::string_view>& records, unsigned status,
                                    std::string_view reason);

 private:
  std::string path_;
  int fd_ = -1;
  std::string buf_;
};

}  // namespace logship::sinks::http
