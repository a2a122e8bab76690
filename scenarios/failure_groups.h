// Failures of a sweep grouped by a stable signature: a campaign of 10^6 seeds
// that finds one bug 40 000 times must say "one bug, 40 000 seeds, replay this
// one", not list 40 000 lines. `segsim merge` prints the groups (one screen)
// and writes them with --groups F.json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/sweep.h"

namespace segsim::scenarios {

// A seed's failure with its numbers taken out: the outcome, then the detail
// with every number that stands alone (decimal, fraction or 0x-hex; not one
// inside a word such as SIGSEGV or a probe name) replaced by "N". Seeds that
// hit one bug at different counts, offsets or steps share a signature:
//   "failed: double-free: the allocator refused N release(s) of a slice ..."
// Identical for a seed however the sweep was sharded, on any machine.
std::string failure_signature(const SeedResult& seed);
// The number masking alone, on any text.
std::string mask_numbers(std::string_view text);

struct FailureGroup {
  std::string signature;
  SeedOutcome outcome = SeedOutcome::Failed;
  std::uint64_t count = 0;       // seeds with this signature
  std::uint64_t first_seed = 0;  // the lowest of them
  // The representative: the lowest seed that has a repro (the first seed when
  // none has one), its repro file ("" if none) and its detail verbatim.
  std::uint64_t repro_seed = 0;
  std::string repro_path;
  std::string detail;
  std::vector<std::uint64_t> example_seeds;  // the lowest kExampleSeeds seeds
};
inline constexpr std::size_t kExampleSeeds = 10;

// Every failing seed of `result` in exactly one group; groups by count
// (most first), ties by first seed. Depends only on the set of seed results.
std::vector<FailureGroup> group_failures(const SweepResult& result);

// The summary a person reads in one screen: a headline, then two lines per
// group for the first `max_groups` groups, then how many more there are.
// "" when nothing failed.
std::string failure_groups_summary(const SweepResult& result, const std::vector<FailureGroup>& groups,
                                   std::size_t max_groups = 8);

// The groups as JSON (format "segsim-failure-groups", version 1): the sweep's
// settings, seed and failure counts, then every group with its fields above.
std::string failure_groups_to_json(const SweepResult& result, const std::vector<FailureGroup>& groups);

}  // namespace segsim::scenarios
