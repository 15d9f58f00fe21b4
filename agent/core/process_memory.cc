#include "agent/core/process_memory.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace logship {

std::optional<size_t> parse_statm_resident_pages(std::string_view statm) {
  const size_t sp = statm.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  const std::string_view rest = statm.substr(sp + 1);
  size_t pages = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pages);
  if (ec != std::errc() || end == rest.data()) return std::nullopt;
  return pages;
}

std::optional<size_t> resident_bytes() {
  std::ifstream in("/proc/self/statm");
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto pages = parse_statm_resident_pages(text);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (!pages || page <= 0) return std::nullopt;
  return *pages * static_cast<size_t>(page);
}

}  // namespace logship
