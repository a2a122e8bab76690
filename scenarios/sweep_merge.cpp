// Merging the shard results of one sweep (same settings): seeds joined,
// probe hits and fault point counts summed, a seed that disagrees with itself
// refused.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "scenarios/sweep_result.h"

namespace segsim::scenarios {

void add_counts_by_name(std::vector<ProbeCount>& into, const std::vector<ProbeCount>& from) {
  for (const ProbeCount& p : from) {
    auto it = std::find_if(into.begin(), into.end(), [&](const ProbeCount& q) { return q.name == p.name; });
    if (it == into.end()) it = into.insert(into.end(), ProbeCount{p.name, 0});
    it->hits = it->hits > UINT64_MAX - p.hits ? UINT64_MAX : it->hits + p.hits;
  }
}

Result<SweepResult> merge_sweeps(const std::vector<SweepResult>& shards, std::string* error_line) {
  if (shards.empty()) return invalid_sweep(error_line, "merge: no sweep results to merge");
  SweepResult merged = shards.front();
  merged.seeds.clear();
  merged.probes.clear();
  merged.fault_point_asks.clear();
  merged.fault_point_fires.clear();
  merged.wall_seconds = 0;
  std::map<std::uint64_t, SeedResult> by_seed;
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
    add_counts_by_name(merged.probes, shard.probes);
    add_counts_by_name(merged.fault_point_asks, shard.fault_point_asks);
    add_counts_by_name(merged.fault_point_fires, shard.fault_point_fires);
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
