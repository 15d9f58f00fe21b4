#pragma once
// Error handling for the data path: fallible calls return Result<T>
// (std::expected) and are [[nodiscard]]. Exceptions are reserved for config
// loading and are caught in main.

#include <expected>
#include <string>
#include <utility>

namespace logship {

/// Broad error classes. The class decides what the caller does next:
/// kRetry-able conditions are retried with backoff, the rest fail the run.
enum class Errc {
  kIo,           ///< a system call failed (errno text in the message)
  kInvalid,      ///< bad input or state that retrying cannot fix
  kUnavailable,  ///< the peer or device is temporarily unavailable: retry
  kClosed,       ///< the component was shut down
};

/// An error with a human-readable message naming what failed and why.
struct Error {
  Errc code = Errc::kInvalid;
  std::string message;
  int sys_errno = 0;  ///< the errno behind an kIo error, 0 otherwise
};

template <typename T>
using Result = std::expected<T, Error>;

/// Builds an unexpected Error; `return fail(Errc::kIo, "open " + path + ": " + strerror(errno));`
[[nodiscard]] inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

/// "open /x: No such file or directory" from the current errno.
[[nodiscard]] std::string errno_message(const std::string& what);

/// An kIo error from the current errno: message as errno_message, errno kept.
[[nodiscard]] std::unexpected<Error> fail_errno(const std::string& what);

}  // namespace logship
