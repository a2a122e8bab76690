// Seed ranges A..B and shards K/N (seed_range.h).
#include "scenarios/seed_range.h"

#include <fmt/format.h>

#include "core/assert.h"
#include "scenarios/values.h"

namespace segsim::scenarios {

namespace {

// A sweep's seeds are materialised (shard_seeds returns a vector): 10 M seeds
// is 80 MB and, at ~100 seeds/s, more than a day of work — split it instead.
constexpr std::uint64_t kMaxSeedsPerRange = 10'000'000;
constexpr std::uint32_t kMaxShards = 100'000;

bool parse_decimal_u64(std::string_view text, std::uint64_t& out) {
  auto value = parse_whole(text, 0, UINT64_MAX, "", nullptr);
  if (value.ok()) out = value.value();
  return value.ok();
}

}  // namespace

Result<SeedRange> parse_seed_range(const std::string& text, std::string* error_line) {
  const auto fail = [&](std::string line) -> Result<SeedRange> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "seed range");
  };
  const std::size_t dots = text.find("..");
  if (dots == std::string::npos) {
    return fail(fmt::format("bad seed range '{}': expected A..B (e.g. 1..1000)", text));
  }
  SeedRange range;
  if (!parse_decimal_u64(std::string_view(text).substr(0, dots), range.first) ||
      !parse_decimal_u64(std::string_view(text).substr(dots + 2), range.last)) {
    return fail(fmt::format("bad seed range '{}': A and B must be decimal numbers below 2^64", text));
  }
  if (range.first > range.last) {
    return fail(fmt::format("bad seed range '{}': the first seed is after the last", text));
  }
  if (range.last - range.first >= kMaxSeedsPerRange) {
    return fail(fmt::format("seed range '{}' has more than {} seeds: split it into several sweeps",
                            text, kMaxSeedsPerRange));
  }
  return range;
}

Result<Shard> parse_shard(const std::string& text, std::string* error_line) {
  const auto fail = [&](std::string line) -> Result<Shard> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "shard");
  };
  const std::size_t slash = text.find('/');
  std::uint64_t index = 0;
  std::uint64_t count = 0;
  if (slash == std::string::npos ||
      !parse_decimal_u64(std::string_view(text).substr(0, slash), index) ||
      !parse_decimal_u64(std::string_view(text).substr(slash + 1), count)) {
    return fail(fmt::format("bad shard '{}': expected K/N with 0 <= K < N (e.g. 0/4)", text));
  }
  if (count == 0 || count > kMaxShards) {
    return fail(fmt::format("bad shard '{}': N must be 1..{}", text, kMaxShards));
  }
  if (index >= count) {
    return fail(fmt::format("bad shard '{}': K is 0-based, so it must be below N", text));
  }
  return Shard{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(count)};
}

std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard) {
  SEGSIM_ASSERT(range.first <= range.last, "a seed range runs forwards");
  SEGSIM_ASSERT(shard.count >= 1 && shard.index < shard.count, "a shard is K/N with K < N");
  const std::uint64_t span = range.last - range.first;  // seeds - 1: no overflow at 2^64 - 1
  SEGSIM_ASSERT(span < kMaxSeedsPerRange, "seed ranges are bounded by parse_seed_range");
  std::vector<std::uint64_t> seeds;
  if (shard.index > span) return seeds;
  seeds.reserve(static_cast<std::size_t>((span - shard.index) / shard.count + 1));
  for (std::uint64_t offset = shard.index;; offset += shard.count) {
    seeds.push_back(range.first + offset);
    if (span - offset < shard.count) break;
  }
  return seeds;
}

}  // namespace segsim::scenarios
