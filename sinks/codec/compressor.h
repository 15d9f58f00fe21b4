#pragma once
// Request-body compression for network sinks: gzip (RFC 1952), zstd
// (RFC 8878 frames) or none, named as HTTP's Content-Encoding names them.
//
// A request body is a whole buffer, so compression is one call over it:
// gzip by libdeflate (whole-buffer DEFLATE, about twice zlib's speed at the
// same level and ratio), zstd by ZSTD_compress2 with a context kept between
// calls (zstd's is about 1 MiB at level 1; allocating one per body would
// cost more than compressing a small one). The interface names no library
// type: the implementations live in compressor.cc.
//
// decompress() is the reverse, for tests and tools, not on the data path; it
// streams with zlib (all gzip members, output size unknown in advance and
// bounded) and zstd.
//
// Threading: a Compressor keeps per-call state (its context); use one per
// thread, never share one between threads at once.

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
  virtual ~Compressor() = default;

  [[nodiscard]] virtual Codec codec() const = 0;

  /// Replaces `out` with `in` compressed as one gzip member or zstd frame
  /// (kNone: a copy). `out`'s capacity is reused; it is grown to the
  /// codec's worst-case bound for `in` first, so a caller that keeps the
  /// result should copy it out at its real size (see sinks/http).
  [[nodiscard]] virtual Result<void> compress(std::string_view in, std::string& out) = 0;
};
using CompressorPtr = std::unique_ptr<Compressor>;

/// A compressor for `codec`. `level` 0 means the codec's fast default
/// (gzip 1, zstd 1): shipping logs is bandwidth-cheap next to the CPU a
/// higher level costs, and the gain from level 1 to the defaults is a few
/// percent on log lines. Contexts are allocated on first use.
[[nodiscard]] CompressorPtr make_compressor(Codec codec, int level = 0);

/// Decompresses a whole gzip stream (all members) or zstd stream (all
/// frames). `max_out` bounds the result, so a hostile input cannot exhaust
/// memory.
[[nodiscard]] Result<std::string> decompress(Codec codec, std::string_view in, size_t max_out = 1u << 30);

}  // namespace logship::codec
