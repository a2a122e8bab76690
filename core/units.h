// Byte units, one definition for the whole tree (sizes are in bytes
// everywhere; names with these units say so: budget_bytes = 64 * MiB).
#pragma once

#include <cstddef>
#include <cstdint>

namespace segsim {

inline constexpr std::size_t KiB = 1024;
inline constexpr std::size_t MiB = 1024 * KiB;

}  // namespace segsim
