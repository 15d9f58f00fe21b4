#pragma once
// Secret redaction (LOGSHIP_REDACT_KEYS, LOGSHIP_REDACT_PATTERNS).
//
// JSON records: the value of every member whose key is in the key set
// (ASCII case-insensitive, escapes decoded, at any depth, in objects inside
// arrays too) becomes "[REDACTED]" (strings, numbers, non-empty objects and
// arrays; null, booleans, "" and empty containers hold nothing and stay);
// every other string value goes through the pattern detectors
// (redact_patterns.h), decoded first when it holds escapes and re-escaped
// after. Text records go through the detectors whole.
//
// Speed: a SIMD pre-filter (AVX2 nibble lookups when the CPU has them, SSE2
// otherwise; redact_prefilter.cc) looks for the detectors' trigger bytes
// ("eyJ", "AKIA"/"ASIA", "bear", "-BEG", '@', 13-byte runs of digits and
// separators verified as a possible card on the spot) and for keys' closing
// quotes followed by ':' whose last two bytes could end a redacted key name
// (verified against the set). A record with no candidate is passed on
// untouched, byte for byte; only a record the walk really changes is
// re-serialised into the processor's buffer (with 64 padding bytes).
// A "\u" escape anywhere sends a JSON record to the full walk, as an escape
// can spell any byte of a key or a secret.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/processor.h"
#include "agent/processors/processor_stats.h"
#include "agent/processors/redact_patterns.h"

namespace logship::processors {

/// The redacted key names, lower case, with a two-byte pre-filter table.
class KeySet {
 public:
  KeySet() = default;
  explicit KeySet(const std::vector<std::string>& names);

  [[nodiscard]] bool empty() const { return names_.empty(); }
  /// Whether `key` (decoded key text) is one of the names, ASCII case-insensitive.
  [[nodiscard]] bool contains(std::string_view key) const;
  /// Whether s[q] could close a key that is one of the names: some name's
  /// bytes (any case) end at q, right after a '"'. Escapes are not decoded.
  [[nodiscard]] bool ends_at(std::string_view s, size_t q) const;
  /// Whether a key whose last two bytes are `a`,`b` (as written, any case;
  /// '"' then the byte for a one-byte key) may be one of the names. The
  /// table holds every case variant, so no lower-casing is needed here.
  [[nodiscard]] bool may_end_with(char a, char b) const {
    return may_end_with_pair(static_cast<unsigned>(static_cast<unsigned char>(a)) |
                             (static_cast<unsigned>(static_cast<unsigned char>(b)) << 8));
  }
  /// The same with the two bytes as one little-endian 16-bit value.
  [[nodiscard]] bool may_end_with_pair(unsigned pair) const {
    return (pairs_[pair >> 6] >> (pair & 63)) & 1;
  }
  /// Nibble lookup tables (bit 0x20) for the AVX2 pre-filter: low and high
  /// nibbles of the byte before a name's last one ('"' for a one-byte name),
  /// then of its last byte, every case.
  [[nodiscard]] const std::array<std::array<uint8_t, 16>, 4>& nibble_tables() const {
    return nibbles_;
  }
  [[nodiscard]] size_t max_length() const { return max_length_; }
  /// A name holds a byte JSON may escape optionally ('/'): then the
  /// pre-filter cannot trust raw key bytes when a record has a backslash.
  [[nodiscard]] bool has_escapable() const { return has_escapable_; }

 private:
  std::vector<std::string> names_;
  std::array<uint64_t, 1024> pairs_{};
  /// Names by the hash of their last two bytes (pair_bucket()), for ends_at().
  std::array<std::vector<uint16_t>, 64> buckets_{};
  std::array<std::array<uint8_t, 16>, 4> nibbles_{};
  size_t max_length_ = 0;
  bool has_escapable_ = false;
};

struct RedactConfig {
  KeySet keys;  ///< empty: key redaction off
  PatternSet patterns = 0;
  [[nodiscard]] bool enabled() const { return !keys.empty() || patterns != 0; }
};

/// What the pre-filter found in a payload.
struct RedactCandidates {
  PatternSet patterns = 0;  ///< detectors with a trigger
  bool key = false;         ///< a key that may be redacted
  bool escapes = false;     ///< an escape that may hide either: walk everything
  [[nodiscard]] bool any() const { return patterns != 0 || key || escapes; }
};

/// The pre-filter (redact_prefilter.cc). `json` selects key and escape
/// checks. Reads up to 34 bytes past the payload (within its padding).
[[nodiscard]] RedactCandidates redact_prefilter(std::string_view payload, bool json,
                                                const RedactConfig& config);
/// The same with the portable scalar and the SSE2 mask producers, whatever
/// the CPU: for tests that hold the three to the same answers.
[[nodiscard]] RedactCandidates redact_prefilter_portable(std::string_view payload, bool json,
                                                         const RedactConfig& config);
#if defined(__x86_64__)
[[nodiscard]] RedactCandidates redact_prefilter_sse2(std::string_view payload, bool json,
                                                     const RedactConfig& config);
#endif

/// Redacts one payload. Returns false (and leaves `out` unspecified) when
/// nothing changed; otherwise `out` holds the new payload (no padding) and
/// `counts` (indexed by RedactKind) is increased by what was replaced.
[[nodiscard]] bool redact_payload(std::string_view payload, PayloadKind kind,
                                  const RedactConfig& config, std::string& out,
                                  std::array<uint32_t, kRedactKindCount>& counts);

/// redact_payload() without the pre-filter: every detector on every string.
/// The reference the pre-filter is tested against; not for the data path.
[[nodiscard]] bool redact_payload_unfiltered(std::string_view payload, PayloadKind kind,
                                             const RedactConfig& config, std::string& out,
                                             std::array<uint32_t, kRedactKindCount>& counts);

class RedactProcessor final : public Processor {
 public:
  RedactProcessor(std::shared_ptr<const RedactConfig> config, ProcessorStats& stats)
      : config_(std::move(config)), stats_(stats) {}
  [[nodiscard]] std::string_view name() const override { return "redact"; }
  void process(const Record& record, RecordEmitter& next) override;

 private:
  std::shared_ptr<const RedactConfig> config_;
  ProcessorStats& stats_;
  std::string buffer_;  ///< the changed payload + padding
};

class RedactFactory final : public ProcessorFactory {
 public:
  RedactFactory(std::shared_ptr<const RedactConfig> config, ProcessorStats& stats)
      : config_(std::move(config)), stats_(stats) {}
  /// Null when redaction is off.
  [[nodiscard]] ProcessorPtr create(const SourceInfo& source) const override;

 private:
  std::shared_ptr<const RedactConfig> config_;
  ProcessorStats& stats_;
};

}  // namespace logship::processors
