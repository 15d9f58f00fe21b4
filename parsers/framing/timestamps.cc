#include "parsers/framing/timestamps.h"

namespace logship::framing {

std::optional<TimestampFormat> parse_timestamp_format(std::string_view value) {
  if (value == "verbatim") return TimestampFormat::kVerbatim;
  if (value == "utc") return TimestampFormat::kUtc;
  return std::nullopt;
}

std::string_view TimestampShaper::shape(std::string_view verbatim, Rfc3339Time t) {
  if (format_ == TimestampFormat::kVerbatim) return verbatim;
  // Already canonical (containerd): "2026-11-26T23:08:04.123456789Z".
  if (verbatim.size() == 30 && verbatim[10] == 'T' && verbatim[19] == '.' && verbatim[29] == 'Z') return verbatim;
  if (t.unix_seconds != cached_secs_) {
    cached_prefix_.clear();
    append_rfc3339_utc(cached_prefix_, {t.unix_seconds, 0});
    // Years outside 0000-9999 (an offset across the edge) have no RFC 3339 form.
    if (cached_prefix_.size() != 30) {
      cached_secs_ = INT64_MIN;
      return verbatim;
    }
    cached_prefix_.resize(19);
    cached_secs_ = t.unix_seconds;
  }
  buf_.assign(cached_prefix_);
  char frac[11] = {'.'};
  uint32_t n = t.nanos;
  for (int i = 9; i >= 1; --i) {
    frac[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  frac[10] = 'Z';
  buf_.append(frac, sizeof frac);
  return buf_;
}

}  // namespace logship::framing
