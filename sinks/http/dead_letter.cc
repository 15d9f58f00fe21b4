#include "sinks/http/dead_letter.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "agent/core/time_format.h"
#include "agent/core/json_string.h"

namespace logship::sinks::http {

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> DeadLetterFile::append(const std::vector<std::string_view>& records, unsigned status,
                                    std::string_view reason) {
  if (records.empty()) return {};
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return fail_errno("dead-letter file: open " + path_);
  }
  buf_.clear();
  std::string head = "{\"time\":\"";
  append_rfc3339_nano(head, std::chrono::system_clock::now());
  head += "\",\"status\":" + std::to_string(status) + ",\"error\":";
  json::append_string(head, reason.substr(0, 1000));
  head += ",\"record\":";
  for (std::string_view r : records) {
    buf_ += head;
    // logship records are JSON objects; anything else is kept as a string
    // so every line stays valid JSON.
    if (r.starts_with('{') && r.ends_with('}')) buf_ += r;
    else json::append_string(buf_, r);
    buf_ += "}\n";
  }
  size_t off = 0;
  while (off < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("dead-letter file: write " + path_);
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return fail_errno("dead-letter file: fdatasync " + path_);
  return {};
}

}  // namespace logship::sinks::http
