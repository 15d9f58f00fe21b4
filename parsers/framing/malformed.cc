#include "parsers/framing/malformed.h"

namespace logship::framing {

std::string_view malformed_format_name(MalformedFormat f) {
  switch (f) {
    case MalformedFormat::kAuto: return "auto";
    case MalformedFormat::kCri: return "cri";
    case MalformedFormat::kDocker: return "docker";
    case MalformedFormat::kRaw: return "raw";
    case MalformedFormat::kCount: break;
  }
  return "unknown";
}

std::string_view malformed_reason_name(MalformedReason r) {
  switch (r) {
    case MalformedReason::kEmptyLine: return "empty_line";
    case MalformedReason::kNoPrefix: return "no_prefix";
    case MalformedReason::kBadEnvelope: return "bad_envelope";
    case MalformedReason::kBadTimestamp: return "bad_timestamp";
    case MalformedReason::kTorn: return "torn";
    case MalformedReason::kUnframed: return "unframed";
    case MalformedReason::kPartialExpired: return "partial_expired";
    case MalformedReason::kPartialFlushed: return "partial_flushed";
    case MalformedReason::kResumeSkipped: return "resume_skipped";
    case MalformedReason::kCount: break;
  }
  return "unknown";
}

}  // namespace logship::framing
