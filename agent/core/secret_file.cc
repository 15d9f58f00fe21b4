#include "agent/core/secret_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace logship {

Result<std::string> read_secret_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno("cannot read " + path);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = fail_errno("cannot read " + path);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxSecretFileBytes) {
      ::close(fd);
      return fail(Errc::kInvalid, path + " is larger than 1 MiB; not a secret file?");
    }
  }
  ::close(fd);
  // Editors and `echo` end files with a newline that is not part of the
  // secret; spaces may be (a password), so only line breaks go.
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace logship
