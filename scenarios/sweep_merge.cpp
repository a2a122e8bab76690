// Merging the shard results of one sweep (same settings): seeds joined,
// probe hits summed, a seed that disagrees with itself refused.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "scenarios/sweep_result.h"

namespace segsim::scenarios {

Result<SweepResult> merge_sweeps(const std::vector<SweepResult>& shards, std::string* error_line) {
  if (shards.empty()) return invalid_sweep(error_line, "merge: no sweep results to merge");
  SweepResult merged = shards.front();
  merged.seeds.clear();
  merged.probes.clear();
  merged.wall_seconds = 0;
  std::map<std::uint64_t, SeedResult> by_seed;
  std::map<std::string, std::size_t> probe_index;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const SweepResult& shard = shards[i];
    if (const std::string difference = settings_difference(shards.front(), shard); !difference.empty()) {
      return invalid_sweep(error_line, fmt::format("merge: result {} ran with other settings than result 1 ({}): not "
                                             "shards of one sweep",
                                             i + 1, difference));
    }
    // Shards run side by side: the merged sweep took as long as the slowest.
    merged.wall_seconds = std::max(merged.wall_seconds, shard.wall_seconds);
    merged.interrupted = merged.interrupted != 0 ? merged.interrupted : shard.interrupted;
    for (const ProbeCount& p : shard.probes) {
      auto [it, inserted] = probe_index.emplace(p.name, merged.probes.size());
      if (inserted) merged.probes.push_back(ProbeCount{p.name, 0});
      std::uint64_t& hits = merged.probes[it->second].hits;
      hits = hits > UINT64_MAX - p.hits ? UINT64_MAX : hits + p.hits;
    }
    for (const SeedResult& s : shard.seeds) {
      auto [it, inserted] = by_seed.emplace(s.seed, s);
      if (inserted) continue;
      const SeedResult& earlier = it->second;
      if (earlier.outcome != s.outcome) {
        return invalid_sweep(error_line, fmt::format("merge: seed {} is {} in one result and {} in another", s.seed,
                                               seed_outcome_name(earlier.outcome), seed_outcome_name(s.outcome)));
      }
      // A run is a function of its spec: a seed that passed twice with two
      // trace hashes is nondeterminism, the very thing segsim must not hide.
      if (s.outcome == SeedOutcome::Passed && earlier.trace_hash != s.trace_hash) {
        return invalid_sweep(error_line, fmt::format("merge: seed {} passed with trace hash {} in one result "
                                               "and {} in another (nondeterminism)",
                                               s.seed, fmt::format("0x{:016x}", earlier.trace_hash),
                                               fmt::format("0x{:016x}", s.trace_hash)));
      }
    }
  }
  merged.seeds.reserve(by_seed.size());
  for (auto& [seed, s] : by_seed) merged.seeds.push_back(std::move(s));
  return merged;
}

}  // namespace segsim::scenarios
