#include "sinks/codec/compressor.h"

#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <unistd.h>

using namespace logship::codec;

namespace {

std::string log_lines(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += R"({"ts":"2026-11-26T23:08:04.123456789Z","stream":"stdout","log":{"level":"info","msg":"order )" +
           std::to_string(i) + R"( placed"}})" + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("gzip and zstd round-trip and actually compress", "[http][codec]") {
  const std::string input = log_lines(5000);
  for (Codec codec : {Codec::kGzip, Codec::kZstd, Codec::kNone}) {
    auto c = make_compressor(codec);
    std::string out;
    // Twice: the second call reuses the context.
    for (int round = 0; round < 2; ++round) {
      REQUIRE(c->compress(input, out));
      auto back = decompress(codec, out);
      REQUIRE(back);
      CHECK(*back == input);
    }
    if (codec != Codec::kNone) CHECK(out.size() * 5 < input.size());
  }
}

TEST_CASE("compressed bodies carry the standard magic numbers", "[http][codec]") {
  std::string out;
  auto gz = make_compressor(Codec::kGzip);
  REQUIRE(gz->compress("hello", out));
  REQUIRE(out.size() > 2);
  CHECK(static_cast<unsigned char>(out[0]) == 0x1f);  // RFC 1952
  CHECK(static_cast<unsigned char>(out[1]) == 0x8b);
  auto zs = make_compressor(Codec::kZstd);
  REQUIRE(zs->compress("hello", out));
  CHECK(out.substr(0, 4) == std::string("\x28\xb5\x2f\xfd", 4));  // RFC 8878
  CHECK(content_encoding(Codec::kGzip) == "gzip");
  CHECK(content_encoding(Codec::kZstd) == "zstd");
  CHECK(content_encoding(Codec::kNone).empty());
}

TEST_CASE("empty and incompressible inputs", "[http][codec]") {
  std::mt19937 rng(7);
  std::string noise(100000, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  for (Codec codec : {Codec::kGzip, Codec::kZstd}) {
    auto c = make_compressor(codec);
    std::string out;
    for (const std::string& in : {std::string(), noise}) {
      REQUIRE(c->compress(in, out));
      auto back = decompress(codec, out);
      REQUIRE(back);
      CHECK(*back == in);
    }
  }
}

TEST_CASE("decompress rejects garbage, truncation and bombs", "[http][codec]") {
  CHECK_FALSE(decompress(Codec::kGzip, "not gzip at all"));
  CHECK_FALSE(decompress(Codec::kZstd, "not zstd at all"));
  const std::string input = log_lines(1000);
  for (Codec codec : {Codec::kGzip, Codec::kZstd}) {
    auto c = make_compressor(codec);
    std::string out;
    REQUIRE(c->compress(input, out));
    CHECK_FALSE(decompress(codec, std::string_view(out).substr(0, out.size() / 2)));
    CHECK_FALSE(decompress(codec, out, /*max_out=*/1000));
  }
}

TEST_CASE("concatenated gzip members decompress as one stream", "[http][codec]") {
  auto c = make_compressor(Codec::kGzip);
  std::string a, b;
  REQUIRE(c->compress("first\n", a));
  REQUIRE(c->compress("second\n", b));
  auto back = decompress(Codec::kGzip, a + b);
  REQUIRE(back);
  CHECK(*back == "first\nsecond\n");
}

namespace {

// The reference decoders, not ours: zstd's one-shot ZSTD_decompress (which
// needs the content size in the frame header, as receivers use it) and
// Python's gzip module (what the black-box receiver and many endpoints use).
std::string zstd_reference(const std::string& frame) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  REQUIRE(size != ZSTD_CONTENTSIZE_UNKNOWN);
  REQUIRE(size != ZSTD_CONTENTSIZE_ERROR);
  std::string out(size, '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string python_gunzip(const std::string& member) {
  const auto dir = std::filesystem::temp_directory_path() / ("logship-gz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto in = dir / "in.gz";
  const auto out = dir / "out";
  std::ofstream(in, std::ios::binary) << member;
  const std::string cmd = "python3 -c 'import gzip,sys; open(sys.argv[2],\"wb\").write(gzip.decompress("
                          "open(sys.argv[1],\"rb\").read()))' " +
                          in.string() + " " + out.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream f(out, std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  return back;
}

}  // namespace

TEST_CASE("empty, small and large (> 4 MiB) bodies decode with the reference decoders", "[http][codec]") {
  std::mt19937 rng(11);
  std::string large = log_lines(60000);  // about 6 MiB of log lines
  REQUIRE(large.size() > (4u << 20));
  // A stretch of noise inside, so a block is stored rather than compressed.
  for (size_t i = 1000; i < 300000; ++i) large[i] = static_cast<char>(rng());
  for (const std::string& in : {std::string(), std::string("x"), large}) {
    auto gz = make_compressor(Codec::kGzip);
    auto zs = make_compressor(Codec::kZstd);
    std::string g, z;
    REQUIRE(gz->compress(in, g));
    REQUIRE(zs->compress(in, z));
    auto back = decompress(Codec::kGzip, g);  // zlib
    REQUIRE(back);
    CHECK(*back == in);
    CHECK(python_gunzip(g) == in);
    CHECK(zstd_reference(z) == in);
  }
}

TEST_CASE("one compressor reused across bodies of different sizes keeps each body whole", "[http][codec]") {
  for (Codec codec : {Codec::kGzip, Codec::kZstd}) {
    auto c = make_compressor(codec);
    std::string out;
    for (size_t n : {5000u, 10u, 20000u, 0u, 3000u}) {
      const std::string in = log_lines(n);
      REQUIRE(c->compress(in, out));
      auto back = decompress(codec, out);
      REQUIRE(back);
      CHECK(*back == in);
    }
  }
}

TEST_CASE("compressors on several threads at once (one each)", "[http][codec]") {
  const std::string in = log_lines(20000);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto c = make_compressor(t % 2 == 0 ? Codec::kGzip : Codec::kZstd);
      std::string out;
      for (int i = 0; i < 5; ++i) {
        if (!c->compress(in, out)) return;
        auto back = decompress(c->codec(), out);
        if (!back || *back != in) return;
      }
      ok[t] = 1;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == std::vector<int>{1, 1, 1, 1});
}
