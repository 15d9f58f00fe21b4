#include "agent/core/result.h"

#include <cerrno>
#include <cstring>

namespace logship {

std::string errno_message(const std::string& what) {
  const int saved = errno;
  return what + ": " + std::strerror(saved);
}

std::unexpected<Error> fail_errno(const std::string& what) {
  const int saved = errno;
  return std::unexpected(Error{Errc::kIo, what + ": " + std::strerror(saved), saved});
}

}  // namespace logship
