#include "agent/tail/stdin_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "agent/core/log.h"
#include "agent/core/time_format.h"
#include "agent/tail/file_reader.h"
#include "agent/tail/frame_record.h"
#include "agent/tail/tail_source.h"

namespace logship::tail {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kMaxIdleWait = std::chrono::milliseconds(250);
constexpr uint32_t kStdinId = 0;

/// Frames to records for the output.
class Handler final : public framing::FrameHandler {
 public:
  explicit Handler(SourceOutput& out) : out_(out) {}
  void on_frame(const framing::Frame& frame) override {
    Record r = to_record(frame);
    out_.on_record(kStdinId, r);
  }

 private:
  SourceOutput& out_;
};

}  // namespace

StdinSource::StdinSource(framing::FramerOptions framer, Stats& stats, int fd)
    : framer_(std::move(framer)), stats_(stats), fd_(fd) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

StdinSource::~StdinSource() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Result<void> StdinSource::commit(std::span<const FilePosition>) { return {}; }

void StdinSource::wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

Result<void> StdinSource::run(SourceOutput& out) {
  FileReader reader(kChunkBytes, framer_.max_record_bytes + kLineSlack);
  reader.attach_stream(fd_);
  auto framer = framing::make_framer(framer_);
  Handler handler(out);
  out.on_source_opened(kStdinId, "-", false);
  out.on_position(FilePosition{kStdinId, 0, {}, false});
  std::string read_time;
  Result<void> result;
  while (!out.should_stop()) {
    out.on_tick();
    // Wait for input, but never past what the output (batch age, processor
    // deadlines) or a pending partial needs: an app that writes a line now
    // and then must still see it shipped promptly.
    auto until = std::min(out.next_deadline(), Clock::now() + kMaxIdleWait);
    if (auto d = framer->partial_deadline()) until = std::min(until, *d);
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(wait.count(), 0)));
    if (auto d = framer->partial_deadline(); d && *d <= Clock::now()) {
      (void)framer->expire(Clock::now(), reader.consumed(), handler);
    }
    if (ready <= 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    read_time.clear();
    append_rfc3339_nano(read_time, std::chrono::system_clock::now());
    framer->set_read_time(read_time);
    auto n = reader.read_some(*framer, handler);
    if (!n) {
      log::warn("tail", "read failed", {{"path", "-"}, {"error", n.error().message}});
      stats_.file_errors.fetch_add(1, std::memory_order_relaxed);
      result = std::unexpected(n.error());
      break;
    }
    if (*n == 0) break;  // end of input
    stats_.bytes_read.fetch_add(*n, std::memory_order_relaxed);
  }
  if (!out.should_stop()) reader.finish(*framer, handler);
  out.on_source_closed(kStdinId, FilePosition{kStdinId, reader.consumed(), {}, false});
  return result;
}

}  // namespace logship::tail
