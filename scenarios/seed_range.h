// A sweep's seeds: the range A..B the command line names, and the shard K/N
// of it one process runs (as ctest's GTEST_SHARD_INDEX / GTEST_TOTAL_SHARDS).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace segsim::scenarios {

struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};
// "A..B" with A <= B (decimal). InvalidConfig with `error_line` otherwise.
Result<SeedRange> parse_seed_range(const std::string& text, std::string* error_line);

struct Shard {
  std::uint32_t index = 0;  // 0-based
  std::uint32_t count = 1;
};
// "K/N" with 0 <= K < N (0-based, as GTEST_SHARD_INDEX).
Result<Shard> parse_shard(const std::string& text, std::string* error_line);
// The seeds of `range` this shard runs: every seed s with (s - first) % count == index.
std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard);

}  // namespace segsim::scenarios
