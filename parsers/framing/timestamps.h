#pragma once
// The `ts` a framed record ships with (LOGSHIP_TIMESTAMP_FORMAT): the
// runtime's text verbatim, or normalised to RFC 3339 UTC with 'Z' and 9
// fractional digits so consumers parse one shape (CRI-O writes "+10:00",
// containerd "Z", docker a variable number of digits).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/time_format.h"
#include "parsers/framing/framer.h"

namespace logship::framing {

/// "verbatim" or "utc"; nullopt for anything else (config rejects it).
[[nodiscard]] std::optional<TimestampFormat> parse_timestamp_format(std::string_view value);

class TimestampShaper {
 public:
  explicit TimestampShaper(TimestampFormat format) : format_(format) {}

  /// The timestamp to ship for `verbatim`, already validated as `t`. The
  /// view is valid until the next call.
  [[nodiscard]] std::string_view shape(std::string_view verbatim, Rfc3339Time t);

 private:
  TimestampFormat format_;
  std::string buf_;
  // Lines of one file share their second: reuse "YYYY-MM-DDTHH:MM:SS".
  int64_t cached_secs_ = INT64_MIN;
  std::string cached_prefix_;
};

}  // namespace logship::framing
