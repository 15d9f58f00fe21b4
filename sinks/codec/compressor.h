#pragma once
// Request-body compression for network sinks: gzip (zlib, RFC 1952), zstd
// (RFC 8878 frames) or none, named as HTTP's Content-Encoding names them.
//
// A Compressor keeps its zlib stream or ZSTD_CCtx between calls, so a sink
// thread compresses every body without allocating a new context (zstd's is
// about 1 MiB at level 1). decompress() is the reverse, for tests and tools;
// it is not on the data path.
//
// Threading: one Compressor per thread; it is not safe to share.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace logship::codec {

enum class Codec { kNone, kGzip, kZstd };

/// "gzip", "zstd" or "" (none): the Content-Encoding header value.
[[nodiscard]] std::string_view content_encoding(Codec codec);

class Compressor {
 public:
  /// `level` 0 means the codec's fast default (gzip 1, zstd 1): shipping
  /// logs is bandwidth-cheap next to the CPU a higher level costs, and the
  /// gain from level 1 to the defaults is a few percent on log lines.
  explicit Compressor(Codec codec, int level = 0);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  [[nodiscard]] Codec codec() const { return codec_; }

  /// Replaces `out` with `in` compressed as one gzip member or zstd frame
  /// (kNone: a copy). `out`'s capacity is reused.
  [[nodiscard]] Result<void> compress(std::string_view in, std::string& out);

 private:
  struct State;
  Codec codec_;
  int level_;
  std::unique_ptr<State> state_;
};

/// Decompresses a whole gzip stream (all members) or zstd stream (all
/// frames). `max_out` bounds the result, so a hostile input cannot exhaust
/// memory.
[[nodiscard]] Result<std::string> decompress(Codec codec, std::string_view in, size_t max_out = 1u << 30);

}  // namespace logship::codec
