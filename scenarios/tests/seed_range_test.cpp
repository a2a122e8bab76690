// Seed ranges A..B and shards K/N: parsing, one-line refusals, partitions.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "faults/fault_injector.h"
#include "scenarios/plot_svg.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"
#include "scenarios/sweep.h"
#include "scenarios/safe_file.h"
#include "scenarios/tests/test_files.h"
#include "scenarios/trace_json.h"

namespace segsim::scenarios {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;

// ---------------------------------------------------------------------------
// seed ranges and shards

TEST(SeedRange, ParsesInclusiveDecimalRanges) {
  std::string error;
  auto range = parse_seed_range("1..1000", &error);
  ASSERT_TRUE(range.ok()) << error;
  EXPECT_EQ(range->first, 1u);
  EXPECT_EQ(range->last, 1000u);

  range = parse_seed_range("7..7", &error);
  ASSERT_TRUE(range.ok()) << error;
  EXPECT_EQ(range->first, 7u);
  EXPECT_EQ(range->last, 7u);

  range = parse_seed_range("18446744073709551610..18446744073709551615", &error);
  ASSERT_TRUE(range.ok()) << error;
  EXPECT_EQ(range->last, UINT64_MAX);
}

TEST(SeedRange, RefusesBadInputWithOneClearLine) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"", "expected A..B"},
      {"42", "expected A..B"},
      {"1-10", "expected A..B"},
      {"1..", "decimal"},
      {"..10", "decimal"},
      {"a..b", "decimal"},
      {"-1..10", "decimal"},
      {"+1..10", "decimal"},
      {" 1..10", "decimal"},
      {"1..10 ", "decimal"},
      {"0x10..0x20", "decimal"},
      {"1...10", "decimal"},
      {"1..18446744073709551616", "decimal"},
      {"10..1", "after the last"},
      {"0..10000000", "split it"},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto range = parse_seed_range(c.text, &error);
    EXPECT_FALSE(range.ok()) << "'" << c.text << "' parsed";
    if (range.ok()) continue;
    EXPECT_EQ(range.error().code, Errc::InvalidConfig);
    EXPECT_NE(error.find(c.says), std::string::npos) << c.text << " -> " << error;
    EXPECT_NE(error.find(std::string("'") + c.text + "'"), std::string::npos) << "names the input: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

TEST(Shard, ParsesZeroBasedShards) {
  std::string error;
  auto shard = parse_shard("0/1", &error);
  ASSERT_TRUE(shard.ok()) << error;
  EXPECT_EQ(shard->index, 0u);
  EXPECT_EQ(shard->count, 1u);
  shard = parse_shard("3/4", &error);
  ASSERT_TRUE(shard.ok()) << error;
  EXPECT_EQ(shard->index, 3u);
  EXPECT_EQ(shard->count, 4u);
}

TEST(Shard, RefusesBadInputWithOneClearLine) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"", "expected K/N"},    {"3", "expected K/N"},     {"a/b", "expected K/N"},
      {"-1/4", "expected K/N"}, {"1/4/5", "expected K/N"}, {"1/", "expected K/N"},
      {"0/0", "N must be"},    {"0/100001", "N must be"}, {"4/4", "0-based"},
      {"9/4", "0-based"},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto shard = parse_shard(c.text, &error);
    EXPECT_FALSE(shard.ok()) << "'" << c.text << "' parsed";
    if (shard.ok()) continue;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.text << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

TEST(ShardSeeds, ShardsPartitionTheRange) {
  const SeedRange ranges[] = {{1, 100}, {0, 0}, {5, 7}, {1000, 1012}, {UINT64_MAX - 9, UINT64_MAX}};
  for (const SeedRange& range : ranges) {
    for (std::uint32_t count = 1; count <= 13; ++count) {
      std::set<std::uint64_t> seen;
      std::size_t total = 0;
      for (std::uint32_t index = 0; index < count; ++index) {
        const std::vector<std::uint64_t> seeds = shard_seeds(range, Shard{index, count});
        EXPECT_TRUE(std::is_sorted(seeds.begin(), seeds.end()));
        for (std::uint64_t seed : seeds) {
          EXPECT_GE(seed, range.first);
          EXPECT_LE(seed, range.last);
          EXPECT_EQ((seed - range.first) % count, index) << "seed " << seed << " in shard " << index;
          seen.insert(seed);
        }
        total += seeds.size();
      }
      const std::uint64_t expected = range.last - range.first + 1;
      EXPECT_EQ(total, expected) << "disjoint: no seed in two shards";
      EXPECT_EQ(seen.size(), expected) << "complete: every seed in some shard";
    }
  }
}

}  // namespace
}  // namespace segsim::scenarios
