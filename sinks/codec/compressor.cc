#include "sinks/codec/compressor.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>

namespace logship::codec {

std::string_view content_encoding(Codec codec) {
  switch (codec) {
    case Codec::kGzip: return "gzip";
    case Codec::kZstd: return "zstd";
    case Codec::kNone: break;
  }
  return "";
}

struct Compressor::State {
  z_stream z{};
  bool z_ready = false;
  ZSTD_CCtx* zstd = nullptr;

  ~State() {
    if (z_ready) deflateEnd(&z);
    ZSTD_freeCCtx(zstd);
  }
};

Compressor::Compressor(Codec codec, int level) : codec_(codec), level_(level), state_(std::make_unique<State>()) {
  if (level_ == 0) level_ = 1;
}

Compressor::~Compressor() = default;

Result<void> Compressor::compress(std::string_view in, std::string& out) {
  switch (codec_) {
    case Codec::kNone:
      out.assign(in);
      return {};
    case Codec::kZstd: {
      if (state_->zstd == nullptr) {
        state_->zstd = ZSTD_createCCtx();
        if (state_->zstd == nullptr) return fail(Errc::kIo, "zstd: cannot allocate a compression context");
        ZSTD_CCtx_setParameter(state_->zstd, ZSTD_c_compressionLevel, level_);
        // The size is known: zstd writes it into the frame header, which
        // lets receivers allocate the output once.
        ZSTD_CCtx_setParameter(state_->zstd, ZSTD_c_contentSizeFlag, 1);
      }
      out.resize(ZSTD_compressBound(in.size()));
      const size_t n = ZSTD_compress2(state_->zstd, out.data(), out.size(), in.data(), in.size());
      if (ZSTD_isError(n)) {
        out.clear();
        return fail(Errc::kIo, std::string("zstd: ") + ZSTD_getErrorName(n));
      }
      out.resize(n);
      return {};
    }
    case Codec::kGzip: {
      z_stream& z = state_->z;
      if (!state_->z_ready) {
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        if (deflateInit2(&z, level_, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
          return fail(Errc::kIo, "gzip: cannot initialise zlib");
        }
        state_->z_ready = true;
      } else if (deflateReset(&z) != Z_OK) {
        return fail(Errc::kIo, "gzip: cannot reset zlib");
      }
      if (in.size() > UINT_MAX / 2) return fail(Errc::kInvalid, "gzip: body too large");
      out.resize(deflateBound(&z, static_cast<uLong>(in.size())));
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      // deflateBound guarantees one Z_FINISH call completes.
      const int rc = deflate(&z, Z_FINISH);
      if (rc != Z_STREAM_END) {
        out.clear();
        return fail(Errc::kIo, "gzip: deflate failed (" + std::to_string(rc) + ")");
      }
      out.resize(out.size() - z.avail_out);
      return {};
    }
  }
  return fail(Errc::kInvalid, "unknown codec");
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
