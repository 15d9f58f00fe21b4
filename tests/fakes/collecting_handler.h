#pragma once
// A FrameHandler that copies every frame, and helpers to feed lines to a
// framer the way FileReader does (with padding after each line).

#include <string>
#include <vector>

#include "parsers/framing/framer.h"
#include "parsers/json/payload_parser.h"

namespace logship::testing {

struct CollectedFrame {
  std::string ts, stream, payload;
  bool truncated = false;
  uint64_t commit_offset = 0;
  bool partial = false;
  std::string attrs;
};

class CollectingHandler final : public framing::FrameHandler {
 public:
  void on_frame(const framing::Frame& f) override {
    frames.push_back({std::string(f.ts), std::string(f.stream), std::string(f.payload), f.truncated,
                      f.commit_offset, f.partial, std::string(f.attrs)});
  }
  std::vector<CollectedFrame> frames;
};

/// Feeds `text` (lines separated by '\n') to `framer`, tracking offsets.
/// A last line without '\n' is left unread unless `finish` is true.
inline void feed(framing::Framer& framer, framing::FrameHandler& handler, const std::string& text,
                 bool finish = true) {
  std::string padded = text;
  padded.append(json::kPadding, '\0');
  const std::string_view all(padded.data(), text.size());
  uint64_t pos = 0;
  while (pos < all.size()) {
    const size_t nl = all.find('\n', pos);
    if (nl == std::string_view::npos) break;
    framer.on_line({all.substr(pos, nl - pos), pos, nl + 1, false}, handler);
    pos = nl + 1;
  }
  if (finish) {
    if (pos < all.size()) {
      framer.on_line({all.substr(pos), pos, all.size(), false}, handler);
      pos = all.size();
    }
    framer.finish(pos, handler);
  }
}

}  // namespace logship::testing
