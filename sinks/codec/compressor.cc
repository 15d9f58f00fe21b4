#include "sinks/codec/compressor.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <memory>

namespace logship::codec {

std::string_view content_encoding(Codec codec) {
  switch (codec) {
    case Codec::kGzip: return "gzip";
    case Codec::kZstd: return "zstd";
    case Codec::kNone: break;
  }
  return "";
}

namespace {

class Passthrough final : public Compressor {
 public:
  Codec codec() const override { return Codec::kNone; }
  Result<void> compress(std::string_view in, std::string& out) override {
    out.assign(in);
    return {};
  }
};

// gzip by libdeflate: a request body is a whole buffer, and libdeflate's
// whole-buffer DEFLATE needs no stream state, no window copies and no
// per-call reset (zlib's deflate spends much of level 1's time there).
class Gzip final : public Compressor {
 public:
  explicit Gzip(int level) : level_(level) {}
  ~Gzip() override {
    if (c_ != nullptr) libdeflate_free_compressor(c_);
  }
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;

  Codec codec() const override { return Codec::kGzip; }

  Result<void> compress(std::string_view in, std::string& out) override {
    if (c_ == nullptr) {
      c_ = libdeflate_alloc_compressor(level_);
      if (c_ == nullptr) return fail(Errc::kIo, "gzip: cannot allocate a libdeflate compressor");
    }
    // resize_and_overwrite: the bound-sized buffer is not zero-filled
    // first (resize() would write about a body's size of zeros per call).
    size_t n = 0;
    out.resize_and_overwrite(libdeflate_gzip_compress_bound(c_, in.size()), [&](char* p, size_t cap) {
      n = libdeflate_gzip_compress(c_, in.data(), in.size(), p, cap);
      return n;
    });
    if (n == 0) {
      // Cannot happen: the output has the bound's size.
      return fail(Errc::kIo, "gzip: the output did not fit its bound");
    }
    return {};
  }

 private:
  int level_;
  libdeflate_compressor* c_ = nullptr;
};

class Zstd final : public Compressor {
 public:
  explicit Zstd(int level) : level_(level) {}
  ~Zstd() override { ZSTD_freeCCtx(cctx_); }
  Zstd(const Zstd&) = delete;
  Zstd& operator=(const Zstd&) = delete;

  Codec codec() const override { return Codec::kZstd; }

  Result<void> compress(std::string_view in, std::string& out) override {
    if (cctx_ == nullptr) {
      cctx_ = ZSTD_createCCtx();
      if (cctx_ == nullptr) return fail(Errc::kIo, "zstd: cannot allocate a compression context");
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
      // The size is known: zstd writes it into the frame header, which
      // lets receivers allocate the output once.
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
    }
    // The context keeps its tables and parameters between frames; each
    // call is one whole frame. The bound-sized buffer is not zero-filled.
    size_t n = 0;
    out.resize_and_overwrite(ZSTD_compressBound(in.size()), [&](char* p, size_t cap) {
      n = ZSTD_compress2(cctx_, p, cap, in.data(), in.size());
      return ZSTD_isError(n) ? size_t{0} : n;
    });
    if (ZSTD_isError(n)) return fail(Errc::kIo, std::string("zstd: ") + ZSTD_getErrorName(n));
    return {};
  }

 private:
  int level_;
  ZSTD_CCtx* cctx_ = nullptr;
};

}  // namespace

CompressorPtr make_compressor(Codec codec, int level) {
  if (level == 0) level = 1;
  switch (codec) {
    case Codec::kGzip: return std::make_unique<Gzip>(std::clamp(level, 1, 12));
    case Codec::kZstd: return std::make_unique<Zstd>(level);
    case Codec::kNone: break;
  }
  return std::make_unique<Passthrough>();
}

namespace {

Result<std::string> gunzip(std::string_view in, size_t max_out) {
  std::string out;
  z_stream z{};
  // 15 + 32: accept gzip or zlib headers, detected automatically.
  if (inflateInit2(&z, 15 + 32) != Z_OK) return fail(Errc::kIo, "gzip: cannot initialise zlib");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[64 << 10];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > max_out) {
      inflateEnd(&z);
      return fail(Errc::kInvalid, "gzip: output larger than the limit");
    }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      // Concatenated members are one stream (RFC 1952 2.2).
      if (inflateReset(&z) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK) {
      inflateEnd(&z);
      return fail(Errc::kInvalid, "gzip: corrupt input (" + std::to_string(rc) + ")");
    }
    if (z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return fail(Errc::kInvalid, "gzip: truncated input");
    }
  }
  inflateEnd(&z);
  return out;
}

Result<std::string> unzstd(std::string_view in, size_t max_out) {
  std::string out;
  ZSTD_DCtx* d = ZSTD_createDCtx();
  if (d == nullptr) return fail(Errc::kIo, "zstd: cannot allocate a decompression context");
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  char buf[64 << 10];
  size_t last = 0;
  while (input.pos < input.size) {
    ZSTD_outBuffer output{buf, sizeof buf, 0};
    last = ZSTD_decompressStream(d, &output, &input);
    if (ZSTD_isError(last)) {
      ZSTD_freeDCtx(d);
      return fail(Errc::kInvalid, std::string("zstd: ") + ZSTD_getErrorName(last));
    }
    out.append(buf, output.pos);
    if (out.size() > max_out) {
      ZSTD_freeDCtx(d);
      return fail(Errc::kInvalid, "zstd: output larger than the limit");
    }
  }
  // Flush what the decoder still holds for the last frame.
  while (last != 0) {
    ZSTD_outBuffer output{buf, sizeof buf, 0};
    last = ZSTD_decompressStream(d, &output, &input);
    if (ZSTD_isError(last) || output.pos == 0) break;
    out.append(buf, output.pos);
  }
  ZSTD_freeDCtx(d);
  if (last != 0) return fail(Errc::kInvalid, "zstd: truncated input");
  return out;
}

}  // namespace

Result<std::string> decompress(Codec codec, std::string_view in, size_t max_out) {
  switch (codec) {
    case Codec::kNone: return std::string(in);
    case Codec::kGzip: return gunzip(in, max_out);
    case Codec::kZstd: return unzstd(in, max_out);
  }
  return fail(Errc::kInvalid, "unknown codec");
}

}  // namespace logship::codec
