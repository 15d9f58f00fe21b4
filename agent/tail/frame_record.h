#pragma once
// A framer's Frame as the Record the pipeline's processors and encoder see:
// the same views, plus the record's source (set by the pipeline).

#include "agent/core/record.h"
#include "parsers/framing/framer.h"

namespace logship::tail {

[[nodiscard]] inline Record to_record(const framing::Frame& frame) {
  Record r;
  r.ts = frame.ts;
  r.stream = frame.stream;
  r.payload = frame.payload;
  r.attrs = frame.attrs;
  r.truncated = frame.truncated;
  r.partial = frame.partial;
  r.commit_offset = frame.commit_offset;
  return r;
}

}  // namespace logship::tail
