#pragma once
// The one reader of secret files (*_FILE settings, the Kubernetes service
// account token). One rule for every secret: the file is read whole (at most
// 1 MiB: a bigger file is a wrong path, not a secret) and its trailing line
// breaks (\n, \r\n, any number) are removed; everything else, spaces
// included, is the secret. Errors name the path and errno, never the content.

#include <string>

#include "agent/core/result.h"

namespace logship {

inline constexpr size_t kMaxSecretFileBytes = size_t{1} << 20;

[[nodiscard]] Result<std::string> read_secret_file(const std::string& path);

}  // namespace logship
