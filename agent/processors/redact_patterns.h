#pragma once
// The built-in secret detectors of LOGSHIP_REDACT_PATTERNS, applied to text
// lines and to JSON string values (decoded). Hand-written scanners, no regex
// engine. What each one matches:
//
//   credit_card  13..19 digits, optionally grouped by one separator kind
//                (single spaces or single dashes; the first group has at
//                least 4 digits, as every card layout does), not touching a
//                letter or digit on either side, in an issuer's range with
//                that issuer's length (card_issuer_ok: Visa, Mastercard,
//                Amex, Diners, JCB, Discover, UnionPay) and Luhn-valid. The
//                issuer rule keeps the false hits on decimal ids and epoch
//                times rare (a random 16-digit id passes Luhn 1 time in 10).
//                A digit run longer than 19 (with its separators) is not a
//                card and is left alone.
//   email        local@domain.tld: local part [A-Za-z0-9._%+-], domain
//                labels [A-Za-z0-9-] with at least one dot, TLD >= 2 letters.
//   bearer       "Bearer" (any case) + blanks + a token68 token
//                ([A-Za-z0-9-._~+/]+ and trailing '='), of >= 8 characters
//                with a digit or symbol in it, or >= 20 characters. Only the
//                token is replaced: "Bearer [REDACTED:bearer]".
//   jwt          eyJ<base64url>.<base64url>.<base64url, may be empty>, the
//                header >= 10 characters, the payload >= 2.
//   aws_key      AKIA or ASIA + 16 of [A-Z0-9], on word boundaries.
//   private_key  "-----BEGIN <label>PRIVATE KEY-----" to the matching
//                "-----END ...-----", or to the end of the text when the
//                block is cut off.
//
// A match is replaced by "[REDACTED:<kind>]".

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/processors/processor_stats.h"

namespace logship::processors {

/// A set of RedactKind detectors, one bit each (bit index = RedactKind).
using PatternSet = uint8_t;

[[nodiscard]] constexpr PatternSet pattern_bit(RedactKind kind) {
  return static_cast<PatternSet>(1u << static_cast<unsigned>(kind));
}

inline constexpr PatternSet kAllPatterns =
    pattern_bit(RedactKind::kCreditCard) | pattern_bit(RedactKind::kEmail) |
    pattern_bit(RedactKind::kBearer) | pattern_bit(RedactKind::kJwt) |
    pattern_bit(RedactKind::kAwsKey) | pattern_bit(RedactKind::kPrivateKey);

/// LOGSHIP_REDACT_PATTERNS' default: every detector but email (addresses are
/// often wanted in logs and cost a scan of every '@').
inline constexpr PatternSet kDefaultPatterns =
    kAllPatterns & static_cast<PatternSet>(~pattern_bit(RedactKind::kEmail));

struct PatternMatch {
  size_t begin = 0;
  size_t end = 0;
  RedactKind kind = RedactKind::kCreditCard;
};

/// Whether a card number of `digits` digits whose first six digits are
/// `prefix6` is in an issuer's range with that issuer's length.
[[nodiscard]] bool card_issuer_ok(unsigned prefix6, size_t digits);

/// The Luhn checksum over the digits of `text` (other bytes are skipped).
[[nodiscard]] bool luhn_valid(std::string_view text);

/// If a card number starts at `text[i]` (a digit), returns the end of it;
/// otherwise 0. `check_left` also requires that text[i-1] is not a letter or
/// digit; the pre-filter passes false because in raw JSON the byte before may
/// be the 'n' of a "\n" escape.
[[nodiscard]] size_t card_at(std::string_view text, size_t i, bool check_left);

/// Start of the digit run (digits and single separators between them) that
/// holds text[i].
[[nodiscard]] size_t digit_run_start(std::string_view text, size_t i);

/// Appends the matches of the detectors in `kinds` to `out`, sorted by start
/// and not overlapping (at the same start the longer wins).
void find_patterns(std::string_view text, PatternSet kinds, std::vector<PatternMatch>& out);

/// Appends `text` to `out` with each match replaced by "[REDACTED:<kind>]".
void replace_matches(std::string_view text, const std::vector<PatternMatch>& matches,
                     std::string& out);

}  // namespace logship::processors
