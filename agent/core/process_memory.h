#pragma once
// The process's resident memory, for keeping LOGSHIP_MEMORY_LIMIT a bound on
// the whole process: what is resident before the first batch (the binary's
// and libraries' touched pages, the allocator's arenas, caches built at
// start) is set aside before batches get their budget.

#include <cstddef>
#include <optional>
#include <string_view>

namespace logship {

/// Resident bytes from /proc/self/statm's second field; nullopt where there
/// is no procfs.
[[nodiscard]] std::optional<size_t> resident_bytes();

/// The resident page count in a statm text ("size resident shared ..."),
/// nullopt if it is not there. Pure, for tests.
[[nodiscard]] std::optional<size_t> parse_statm_resident_pages(std::string_view statm);

}  // namespace logship
