#pragma once
// docker's json-file line: {"log":"...","stream":"stdout|stderr","attrs":{...},"time":"<RFC 3339>"}.
// A line is a docker line only when log and stream are strings (stream
// stdout or stderr) and time is a valid RFC 3339 timestamp.

#include <string>
#include <string_view>

#include "agent/core/time_format.h"

namespace logship::framing {

enum class DockerVerdict {
  kOk,
  kNotJson,        ///< not a JSON object
  kNoLog,          ///< a JSON object without a string "log": an application's JSON line
  kBadEnvelope,    ///< "log" is a string but "stream" is missing or not stdout/stderr
  kBadTimestamp,   ///< envelope fine, "time" missing or not RFC 3339
};

struct DockerLine {
  std::string_view log;     ///< unescaped, without its trailing '\n'; json::kPadding bytes follow
  std::string_view stream;  ///< "stdout" or "stderr"
  std::string_view time;    ///< verbatim
  Rfc3339Time parsed_time;
  std::string_view attrs;   ///< compact JSON object text; empty when absent
  bool partial = false;     ///< the log had no trailing '\n': more follows
};

/// Parses docker lines. Views in DockerLine stay valid until the next parse.
/// One per framer; the simdjson parser underneath is shared per thread.
class DockerLineParser {
 public:
  /// `line` must be followed by json::kPadding readable bytes.
  [[nodiscard]] DockerVerdict parse(std::string_view line, DockerLine& out);

 private:
  std::string log_;
  std::string time_;
  std::string attrs_;
};

/// Cheap pre-check for per-line detection: could this be a docker line?
/// (a '{' first and a "log" key), so application JSON lines in a plain-text
/// file are not parsed twice.
[[nodiscard]] bool looks_like_docker(std::string_view line);

/// The tail of a docker line whose head was cut off (copytruncate, dockerd's
/// corrupted-file case): ends with the envelope's "time" field and '}'.
[[nodiscard]] bool looks_like_torn_docker(std::string_view line);

}  // namespace logship::framing
