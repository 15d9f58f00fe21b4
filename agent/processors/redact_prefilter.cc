// The redaction pre-filter (redact.h): vector code builds per-64-byte-block
// bit masks, one bit per byte, and a scalar side checks the few candidates.
//
//   rare  bytes that start a rare trigger: "eyJ", "AKIA"/"ASIA", "bear"
//         (any case), "-BEG", '@' (email on), "\u" or any '\' (JSON); a
//         vector hit is a candidate only, verified here byte by byte;
//   d, s  digits, and digits plus ' ' and '-': a card number (first group of
//         at least 4 digits, 13+ bytes all in s) can only start where four
//         digits and 13 s-bytes follow (checked with the next block's masks
//         through 128-bit shifts), then verified on the spot;
//   k     a quote that may close a key: after bytes that may end a name
//         (AVX2) or before ':' or ' ' (SSE2, portable); checked against the
//         key set's two-byte table without a branch, then exactly.
//
// Three producers of the masks: AVX2 (classification by nibble lookup,
// vpshufb: one table lookup pair per loaded vector covers every trigger),
// SSE2 (the x86-64 baseline: byte compares) and a portable scalar loop. The
// AVX2 one is picked at start when the CPU has it (no -march: the binary
// runs on any x86-64 node).

#include <array>
#include <bit>
#include <cstring>

#include "agent/processors/json_scan.h"
#include "agent/processors/redact.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace logship::processors {
namespace {

using json_scan::ascii_lower;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_json_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

constexpr PatternSet kRareKinds = pattern_bit(RedactKind::kJwt) | pattern_bit(RedactKind::kAwsKey) |
                                  pattern_bit(RedactKind::kBearer) |
                                  pattern_bit(RedactKind::kPrivateKey);

/// Whether a four-digit hit at `i` is part of a possible card number: tries
/// every group start of its run without the left-boundary test (see
/// card_at). Sets `run_end` to where the run stops.
bool card_candidate(std::string_view s, size_t i, size_t& run_end) {
  const size_t start = digit_run_start(s, i);
  run_end = start;
  while (run_end < s.size()) {
    if (is_digit(s[run_end])) {
      ++run_end;
    } else if ((s[run_end] == ' ' || s[run_end] == '-') && run_end + 1 < s.size() &&
               is_digit(s[run_end + 1])) {
      ++run_end;
    } else {
      break;
    }
  }
  for (size_t g = start; g < run_end; ++g) {
    const bool group_start = is_digit(s[g]) && (g == start || !is_digit(s[g - 1]));
    if (group_start && card_at(s, g, false) != 0) return true;
  }
  return false;
}

/// Whether the quote at `q` closes a key (':' after blanks) that is a name.
bool key_candidate(std::string_view s, size_t q, const KeySet& keys) {
  size_t r = q + 1;
  while (r < s.size() && is_json_ws(s[r])) ++r;
  if (r >= s.size() || s[r] != ':') return false;
  return keys.ends_at(s, q);
}

/// The scalar side: takes each block's masks in order.
class Scan {
 public:
  Scan(std::string_view s, bool json, const RedactConfig& config)
      : s_(s),
        config_(config),
        want_(config.patterns),
        json_(json),
        keys_(json && !config.keys.empty()),
        any_backslash_(keys_ && config.keys.has_escapable()),
        cards_((config.patterns & pattern_bit(RedactKind::kCreditCard)) != 0) {}

  [[nodiscard]] bool cards() const { return cards_; }
  [[nodiscard]] bool keys() const { return keys_ && !c_.key; }
  [[nodiscard]] bool rare() const { return (want_ & kRareKinds) != 0; }
  [[nodiscard]] bool email() const { return (want_ & pattern_bit(RedactKind::kEmail)) != 0; }
  [[nodiscard]] bool json() const { return json_; }
  [[nodiscard]] bool any_backslash() const { return any_backslash_; }

  /// Masks of the block at `off`, bits past the payload already cleared.
  /// A `k` bit marks a quote that may close a key.
  void block(size_t off, uint64_t rare, uint64_t d, uint64_t sp, uint64_t k) {
    for (; rare != 0; rare &= rare - 1) classify(off + static_cast<size_t>(std::countr_zero(rare)));
    c_.patterns &= want_;
    if (cards_) {
      if (have_prev_) check_cards(prev_off_, prev_d_, prev_s_, d, sp);
      prev_d_ = d;
      prev_s_ = sp;
      prev_off_ = off;
      have_prev_ = true;
    }
    if (keys() && k != 0) {
      // Most keys fail the two-byte table: test every candidate without a
      // branch, then verify only the hits. A key's closing quote is at 2 or
      // later ('{' and its opening quote come first).
      if (off == 0) k &= ~uint64_t{3};
      uint64_t hits = 0;
      for (uint64_t m = k; m != 0; m &= m - 1) {
        const size_t bit = static_cast<size_t>(std::countr_zero(m));
        uint16_t pair;  // little-endian: s[q-2] in the low byte
        std::memcpy(&pair, s_.data() + off + bit - 2, 2);
        hits |= uint64_t{config_.keys.may_end_with_pair(pair)} << bit;
      }
      for (; hits != 0; hits &= hits - 1) {
        if (key_candidate(s_, off + static_cast<size_t>(std::countr_zero(hits)), config_.keys)) {
          c_.key = true;
          break;
        }
      }
    }
  }

  RedactCandidates finish() {
    if (cards_ && have_prev_) check_cards(prev_off_, prev_d_, prev_s_, 0, 0);
    return c_;
  }

 private:
  void classify(size_t i) {
    const std::string_view t = s_.substr(i, 4);
    switch (t[0]) {
      case '\\':
        if (json_ && (any_backslash_ || (t.size() > 1 && t[1] == 'u'))) c_.escapes = true;
        break;
      case '@': c_.patterns |= pattern_bit(RedactKind::kEmail); break;
      case 'e':
        if (t.starts_with("eyJ")) c_.patterns |= pattern_bit(RedactKind::kJwt);
        break;
      case 'A':
        if (t == "AKIA" || t == "ASIA") c_.patterns |= pattern_bit(RedactKind::kAwsKey);
        break;
      case '-':
        if (t == "-BEG") c_.patterns |= pattern_bit(RedactKind::kPrivateKey);
        break;
      case 'b':
      case 'B':
        if (t.size() == 4 && ascii_lower(t[1]) == 'e' && ascii_lower(t[2]) == 'a' &&
            ascii_lower(t[3]) == 'r') {
          c_.patterns |= pattern_bit(RedactKind::kBearer);
        }
        break;
      default: break;  // a lookup-table false hit
    }
  }

  // Card candidates of the block at `off` given the next block's masks.
  void check_cards(size_t off, uint64_t d, uint64_t sp, uint64_t d_next, uint64_t sp_next) {
    using U = unsigned __int128;
    const U dd = U{d} | (U{d_next} << 64);
    const U d2 = dd & (dd >> 1);
    const U d4 = d2 & (d2 >> 2);
    if (static_cast<uint64_t>(d4) == 0) return;
    const U ss = U{sp} | (U{sp_next} << 64);
    const U s2 = ss & (ss >> 1);
    const U s4 = s2 & (s2 >> 2);
    const U s8 = s4 & (s4 >> 4);
    const U s13 = s8 & (s4 >> 8) & (ss >> 12);
    for (auto m = static_cast<uint64_t>(d4 & s13); m != 0; m &= m - 1) {
      const size_t i = off + static_cast<size_t>(std::countr_zero(m));
      if (i < card_checked_) continue;
      if (card_candidate(s_, i, card_checked_)) {
        c_.patterns |= pattern_bit(RedactKind::kCreditCard);
        cards_ = false;
        return;
      }
    }
  }

  std::string_view s_;
  const RedactConfig& config_;
  PatternSet want_;
  bool json_;
  bool keys_;
  bool any_backslash_;
  bool cards_;
  RedactCandidates c_;
  size_t card_checked_ = 0;  // card runs before this offset were verified already
  uint64_t prev_d_ = 0;
  uint64_t prev_s_ = 0;
  size_t prev_off_ = 0;
  bool have_prev_ = false;
};

uint64_t valid_bits(size_t n, size_t off) {
  return n - off >= 64 ? ~uint64_t{0} : (uint64_t{1} << (n - off)) - 1;
}

[[maybe_unused]] RedactCandidates prefilter_scalar(std::string_view s, bool json,
                                                   const RedactConfig& config) {
  Scan scan(s, json, config);
  const size_t n = s.size();
  for (size_t off = 0; off < n; off += 64) {
    uint64_t rare = 0, d = 0, sp = 0, k = 0;
    for (size_t j = 0; j < 64 && off + j < n; ++j) {
      const size_t i = off + j;
      const char x0 = s[i];
      const char x1 = i + 1 < n ? s[i + 1] : '\0';
      const bool r = x0 == '\\' || x0 == '@' || x0 == 'e' || x0 == 'A' || x0 == '-' ||
                     x0 == 'b' || x0 == 'B';
      rare |= uint64_t{r} << j;
      d |= uint64_t{is_digit(x0)} << j;
      sp |= uint64_t{is_digit(x0) || x0 == ' ' || x0 == '-'} << j;
      k |= uint64_t{x0 == '"' && (x1 == ':' || x1 == ' ')} << j;
    }
    const uint64_t v = valid_bits(n, off);
    scan.block(off, rare & v, d & v, sp & v, k & v);
  }
  return scan.finish();
}

#if defined(__x86_64__)

// SSE2: byte compares, 16 bytes a step. Loads reach 18 bytes past the
// payload at most: within its padding.
RedactCandidates prefilter_sse2(std::string_view s, bool json, const RedactConfig& config) {
  Scan scan(s, json, config);
  const size_t n = s.size();
  const auto splat = [](char c) { return _mm_set1_epi8(c); };
  const __m128i c_e = splat('e'), c_y = splat('y'), c_J = splat('J'), c_A = splat('A'),
                c_K = splat('K'), c_S = splat('S'), c_I = splat('I'), c_b = splat('b'),
                c_a = splat('a'), c_dash = splat('-'), c_B = splat('B'), c_E = splat('E'),
                c_at = splat('@'), c_bs = splat('\\'), c_u = splat('u'), c_space = splat(' '),
                c_colon = splat(':'), c_quote = splat('"'), c_case = splat(0x20), c_0 = splat('0'),
                c_9 = splat(9);
  const bool rare_on = scan.rare(), email = scan.email(), any_bs = scan.any_backslash();
  for (size_t off = 0; off < n; off += 64) {
    uint64_t rare = 0, d = 0, sp = 0, k = 0;
    const bool cards = scan.cards(), keys = scan.keys();
    for (size_t j = 0; j < 64 && off + j < n; j += 16) {
      const char* p = s.data() + off + j;
      const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
      __m128i r = _mm_setzero_si128();
      if (rare_on) {
        const __m128i x2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2));
        const auto eq = [](__m128i x, __m128i c) { return _mm_cmpeq_epi8(x, c); };
        const auto all3 = [](__m128i a, __m128i b, __m128i c) {
          return _mm_and_si128(_mm_and_si128(a, b), c);
        };
        const __m128i l0 = _mm_or_si128(x0, c_case), l1 = _mm_or_si128(x1, c_case),
                      l2 = _mm_or_si128(x2, c_case);
        r = _mm_or_si128(all3(eq(x0, c_e), eq(x1, c_y), eq(x2, c_J)),
                         all3(eq(x0, c_A), _mm_or_si128(eq(x1, c_K), eq(x1, c_S)), eq(x2, c_I)));
        r = _mm_or_si128(r, all3(eq(l0, c_b), eq(l1, c_e), eq(l2, c_a)));
        r = _mm_or_si128(r, all3(eq(x0, c_dash), eq(x1, c_B), eq(x2, c_E)));
      }
      if (email) r = _mm_or_si128(r, _mm_cmpeq_epi8(x0, c_at));
      if (json) {
        const __m128i bs = _mm_cmpeq_epi8(x0, c_bs);
        r = _mm_or_si128(r, any_bs ? bs : _mm_and_si128(bs, _mm_cmpeq_epi8(x1, c_u)));
      }
      rare |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(r))} << j;
      if (cards) {
        const __m128i t = _mm_sub_epi8(x0, c_0);
        const __m128i dg = _mm_cmpeq_epi8(_mm_min_epu8(t, c_9), t);
        d |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(dg))} << j;
        const __m128i sep = _mm_or_si128(_mm_cmpeq_epi8(x0, c_space), _mm_cmpeq_epi8(x0, c_dash));
        sp |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(dg, sep)))} << j;
      }
      if (keys) {
        const __m128i after = _mm_or_si128(_mm_cmpeq_epi8(x1, c_colon), _mm_cmpeq_epi8(x1, c_space));
        k |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x0, c_quote), after)))} << j;
      }
    }
    const uint64_t v = valid_bits(n, off);
    scan.block(off, rare & v, d & v, sp & v, k & v);
  }
  return scan.finish();
}

// AVX2: each byte is classified by two nibble lookups (vpshufb), one bit
// per trigger, for the byte itself (x0), the next (x1) and the one after
// (x2); a trigger starts where its bit is set in all three. A bit's byte set
// is the product of its low-nibble and high-nibble sets, so sets that are
// not products (K or S) admit a few extra bytes: false hits, verified on the
// scalar side. Bits: 0 "eyJ", 1 "AKI"/"ASI", 2 "bea" any case, 3 "-BE",
// 4 "\u" (or any '\'), 5 a redacted name's last two bytes then '"' (the
// tables come from the key set), 6 digit, 7 digit or ' ' or '-'.
struct Luts {
  std::array<uint8_t, 16> lo[3] = {};
  std::array<uint8_t, 16> hi[3] = {};

  void add(int pos, int bit, std::initializer_list<unsigned char> bytes) {
    for (const unsigned char b : bytes) {
      lo[pos][b & 15] |= static_cast<uint8_t>(1u << bit);
      hi[pos][b >> 4] |= static_cast<uint8_t>(1u << bit);
    }
  }
  void any(int pos, int bit) {
    for (int i = 0; i < 16; ++i) {
      lo[pos][i] |= static_cast<uint8_t>(1u << bit);
      hi[pos][i] |= static_cast<uint8_t>(1u << bit);
    }
  }
};

Luts make_luts(bool any_backslash) {
  Luts t;
  t.add(0, 0, {'e'});
  t.add(1, 0, {'y'});
  t.add(2, 0, {'J'});
  t.add(0, 1, {'A'});
  t.add(1, 1, {'K', 'S'});
  t.add(2, 1, {'I'});
  t.add(0, 2, {'b', 'B'});
  t.add(1, 2, {'e', 'E'});
  t.add(2, 2, {'a', 'A'});
  t.add(0, 3, {'-'});
  t.add(1, 3, {'B'});
  t.add(2, 3, {'E'});
  t.add(0, 4, {'\\'});
  if (any_backslash) {
    t.any(1, 4);
  } else {
    t.add(1, 4, {'u'});
  }
  t.any(2, 4);
  // Bit 5 (keys) comes from the key set: add_keys().
  t.add(2, 5, {'"'});
  t.add(0, 6, {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'});
  t.any(1, 6);
  t.any(2, 6);
  t.add(0, 7, {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ', '-'});
  t.any(1, 7);
  t.any(2, 7);
  return t;
}

const Luts kLuts = make_luts(false);
const Luts kLutsAnyBackslash = make_luts(true);

// The target attribute, not a pragma region: clang (the fuzz build) honours
// only the attribute. Lambdas would not inherit it, so helpers are functions.
#define LOGSHIP_AVX2 __attribute__((target("avx2")))

LOGSHIP_AVX2 __m256i lut(const std::array<uint8_t, 16>& t) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data())));
}

LOGSHIP_AVX2 __m256i classify(__m256i x, __m256i lo, __m256i hi, __m256i nib) {
  const __m256i l = _mm256_shuffle_epi8(lo, _mm256_and_si256(x, nib));
  const __m256i h = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
  return _mm256_and_si256(l, h);
}

/// Only the enabled triggers' bits are kept.
LOGSHIP_AVX2 __m256i feature_mask(PatternSet want, bool json, bool cards, bool keys) {
  int m = 0;
  if (want & pattern_bit(RedactKind::kJwt)) m |= 1;
  if (want & pattern_bit(RedactKind::kAwsKey)) m |= 2;
  if (want & pattern_bit(RedactKind::kBearer)) m |= 4;
  if (want & pattern_bit(RedactKind::kPrivateKey)) m |= 8;
  if (json) m |= 16;
  if (keys) m |= 32;
  if (cards) m |= 64 | 128;
  return _mm256_set1_epi8(static_cast<char>(m));
}

LOGSHIP_AVX2 RedactCandidates prefilter_avx2(std::string_view s, bool json, const RedactConfig& config) {
  Scan scan(s, json, config);
  const size_t n = s.size();
  const Luts& luts = scan.any_backslash() ? kLutsAnyBackslash : kLuts;
  __m256i lo0 = lut(luts.lo[0]), hi0 = lut(luts.hi[0]), lo1 = lut(luts.lo[1]),
          hi1 = lut(luts.hi[1]);
  const __m256i lo2 = lut(luts.lo[2]), hi2 = lut(luts.hi[2]);
  if (scan.keys()) {
    const auto& k = config.keys.nibble_tables();
    lo0 = _mm256_or_si256(lo0, lut(k[0]));
    hi0 = _mm256_or_si256(hi0, lut(k[1]));
    lo1 = _mm256_or_si256(lo1, lut(k[2]));
    hi1 = _mm256_or_si256(hi1, lut(k[3]));
  }
  uint64_t k_carry = 0;  // key bits mark a name's second-last byte: the quote is 2 later
  const __m256i nib = _mm256_set1_epi8(0x0F), rare_bits = _mm256_set1_epi8(0x1F);
  const __m256i c_at = _mm256_set1_epi8('@'), c_colon = _mm256_set1_epi8(':'),
                c_space = _mm256_set1_epi8(' ');
  const PatternSet want = config.patterns;
  bool cards = scan.cards(), keys = scan.keys();
  __m256i feat = feature_mask(want, json, cards, keys);
  const bool email = scan.email();
  for (size_t off = 0; off < n; off += 64) {
    if (cards != scan.cards() || keys != scan.keys()) {
      cards = scan.cards();
      keys = scan.keys();
      feat = feature_mask(want, json, cards, keys);
    }
    uint64_t rare = 0, d = 0, sp = 0, k = 0, after = 0;
    // Loads reach 34 bytes past the payload at most: within its padding.
    for (size_t j = 0; j < 64 && off + j < n; j += 32) {
      const char* p = s.data() + off + j;
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 1));
      const __m256i x2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
      const __m256i t = _mm256_and_si256(
          _mm256_and_si256(classify(x0, lo0, hi0, nib), classify(x1, lo1, hi1, nib)),
          _mm256_and_si256(classify(x2, lo2, hi2, nib), feat));
      __m256i r = _mm256_and_si256(t, rare_bits);
      r = _mm256_andnot_si256(_mm256_cmpeq_epi8(r, _mm256_setzero_si256()), _mm256_set1_epi8(-1));
      if (email) r = _mm256_or_si256(r, _mm256_cmpeq_epi8(x0, c_at));
      rare |= uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(r))} << j;
      k |= uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_slli_epi16(t, 2)))} << j;
      d |= uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_slli_epi16(t, 1)))} << j;
      sp |= uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(t))} << j;
      if (keys) {
        const __m256i cs = _mm256_or_si256(_mm256_cmpeq_epi8(x0, c_colon), _mm256_cmpeq_epi8(x0, c_space));
        after |= uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(cs))} << j;
      }
    }
    const uint64_t v = valid_bits(n, off);
    // A key's quote is followed by ':' or ' ' (then blanks and ':'); the
    // block's last byte is kept, its next byte is in the next block.
    const uint64_t quotes = ((k << 2) | k_carry) & ((after >> 1) | (uint64_t{1} << 63));
    k_carry = k >> 62;
    scan.block(off, rare & v, d & v, sp & v, quotes & v);
  }
  return scan.finish();
}

#undef LOGSHIP_AVX2

using PrefilterFn = RedactCandidates (*)(std::string_view, bool, const RedactConfig&);
const PrefilterFn kPrefilter = [] {
  __builtin_cpu_init();  // harmless if already done; needed if we run before libgcc's constructor
  return __builtin_cpu_supports("avx2") ? &prefilter_avx2 : &prefilter_sse2;
}();

#else
using PrefilterFn = RedactCandidates (*)(std::string_view, bool, const RedactConfig&);
const PrefilterFn kPrefilter = &prefilter_scalar;
#endif

}  // namespace

RedactCandidates redact_prefilter(std::string_view payload, bool json, const RedactConfig& config) {
  return kPrefilter(payload, json, config);
}

RedactCandidates redact_prefilter_portable(std::string_view payload, bool json,
                                           const RedactConfig& config) {
  return prefilter_scalar(payload, json, config);
}

#if defined(__x86_64__)
RedactCandidates redact_prefilter_sse2(std::string_view payload, bool json,
                                       const RedactConfig& config) {
  return prefilter_sse2(payload, json, config);
}
#endif

}  // namespace logship::processors
