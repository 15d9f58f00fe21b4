#pragma once
// Standard input as a source (LOGSHIP_INPUT_PATHS=-): `app | logship`, or a
// sidecar's entrypoint wrapper. Every line is a record (format auto detects
// CRI or docker lines too). A stream cannot be re-read, so nothing is
// checkpointed; backpressure simply stops reading, which blocks the writer.
//
// Threading: run() on the worker thread; wake() from any thread.

#include "agent/core/source.h"
#include "agent/core/stats.h"
#include "parsers/framing/framer.h"

namespace logship::tail {

class StdinSource final : public Source {
 public:
  StdinSource(framing::FramerOptions framer, Stats& stats, int fd = 0);
  ~StdinSource() override;

  [[nodiscard]] Result<void> run(SourceOutput& out) override;
  [[nodiscard]] Result<void> commit(std::span<const FilePosition> positions) override;
  void wake() override;
  [[nodiscard]] bool checkpointed() const override { return false; }

 private:
  framing::FramerOptions framer_;
  Stats& stats_;
  int fd_;
  int wake_fd_ = -1;
};

}  // namespace logship::tail
