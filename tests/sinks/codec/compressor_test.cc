#include "sinks/codec/compressor.h"

#include <catch2/catch.hpp>
#include <random>

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
    Compressor c(codec);
    std::string out;
    // Twice: the second call reuses the context.
    for (int round = 0; round < 2; ++round) {
      REQUIRE(c.compress(input, out));
      auto back = decompress(codec, out);
      REQUIRE(back);
      CHECK(*back == input);
    }
    if (codec != Codec::kNone) CHECK(out.size() * 5 < input.size());
  }
}

TEST_CASE("compressed bodies carry the standard magic numbers", "[http][codec]") {
  std::string out;
  Compressor gz(Codec::kGzip);
  REQUIRE(gz.compress("hello", out));
  REQUIRE(out.size() > 2);
  CHECK(static_cast<unsigned char>(out[0]) == 0x1f);  // RFC 1952
  CHECK(static_cast<unsigned char>(out[1]) == 0x8b);
  Compressor zs(Codec::kZstd);
  REQUIRE(zs.compress("hello", out));
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
    Compressor c(codec);
    std::string out;
    for (const std::string& in : {std::string(), noise}) {
      REQUIRE(c.compress(in, out));
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
    Compressor c(codec);
    std::string out;
    REQUIRE(c.compress(input, out));
    CHECK_FALSE(decompress(codec, std::string_view(out).substr(0, out.size() / 2)));
    CHECK_FALSE(decompress(codec, out, /*max_out=*/1000));
  }
}

TEST_CASE("concatenated gzip members decompress as one stream", "[http][codec]") {
  Compressor c(Codec::kGzip);
  std::string a, b;
  REQUIRE(c.compress("first\n", a));
  REQUIRE(c.compress("second\n", b));
  auto back = decompress(Codec::kGzip, a + b);
  REQUIRE(back);
  CHECK(*back == "first\nsecond\n");
}
