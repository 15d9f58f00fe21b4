#pragma once
// Helpers for the processor tests: payloads with the 64 padding bytes that
// record.h promises, an emitter that keeps copies, and a two-link chain.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/processor.h"

namespace logship::processors::testing {

/// A payload followed by 64 readable bytes, like the reader's buffer. The
/// padding is '"' and '\\' and digits, so a scanner reading past the end
/// would see candidates that are not there.
class Padded {
 public:
  explicit Padded(std::string_view text) : size_(text.size()) {
    buf_ = std::make_unique<std::string>(text);
    for (int i = 0; i < 16; ++i) buf_->append("\"\\41");
  }
  [[nodiscard]] std::string_view view() const { return {buf_->data(), size_}; }

 private:
  std::unique_ptr<std::string> buf_;
  size_t size_;
};

struct Emitted {
  std::string payload;
  std::string ts;
  std::string stream;
  PayloadKind kind;
  uint64_t commit_offset;
  const SourceInfo* source;
  const char* data;  ///< where the payload pointed (untouched records keep the input's)
};

class Collect final : public RecordEmitter {
 public:
  void emit(const Record& r) override {
    out.push_back({std::string(r.payload), std::string(r.ts), std::string(r.stream), r.kind,
                   r.commit_offset, r.source, r.payload.data()});
  }
  std::vector<Emitted> out;
};

/// Feeds a processor and forwards what it emits to `next`.
class Link final : public RecordEmitter {
 public:
  Link(Processor& p, RecordEmitter& next) : p_(p), next_(next) {}
  void emit(const Record& r) override { p_.process(r, next_); }

 private:
  Processor& p_;
  RecordEmitter& next_;
};

inline Record make_record(const Padded& p, PayloadKind kind, const SourceInfo* source = nullptr,
                          uint64_t offset = 0) {
  Record r;
  r.payload = p.view();
  r.kind = kind;
  r.source = source;
  r.commit_offset = offset;
  r.ts = "2026-12-01T07:00:00Z";
  r.stream = "stdout";
  return r;
}

}  // namespace logship::processors::testing
