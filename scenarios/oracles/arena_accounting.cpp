// arena-accounting: at quiescence no arena is live, every chunk taken went
// back, commits and rollbacks account for every arena begun — each count,
// and the roots by profile, the workload's own — refusals equal
// the model's (segment refusals exactly the allocations and begins the
// workload saw refused by the segment allocator), and audit() is clean.
#include <fmt/format.h>

#include "scenarios/oracles/arena_oracles.h"

namespace segsim::scenarios {

void ArenaOracles::check_quiescent(const TxnArenaManager& manager, const ArenaModelCounts& model) {
  const TxnArenaStats stats = manager.stats();
  auto expect = [&](const char* what, std::uint64_t counted, std::uint64_t modelled) {
    if (counted != modelled) {
      hub_.fail("arena-accounting", fmt::format("the manager counts {} {}, the model {}", counted, what, modelled));
    }
  };
  expect("live arenas", stats.live_arenas, 0);
  expect("reserved bytes", stats.reserved_bytes, 0);
  expect("chunks returned", stats.chunks_returned, stats.chunks_taken);
  expect("ended arenas", stats.commits + stats.rollbacks, stats.begun + stats.children_begun);
  expect("roots begun", stats.begun, model.begun);
  expect("savepoints begun", stats.children_begun, model.children_begun);
  expect("commits", stats.commits, model.commits);
  expect("rollbacks", stats.rollbacks, model.rollbacks);
  expect("allocations refused by a profile limit", stats.over_limit, model.over_limit);
  for (std::size_t p = 0; p < kArenaProfileCount; ++p) {
    if (stats.begun_by_profile[p] != model.begun_by_profile[p]) {
      hub_.fail("arena-accounting", fmt::format("the manager counts {} roots begun as {}, the model {}",
                                                stats.begun_by_profile[p],
                                                profile_spec(static_cast<ArenaProfile>(p)).name,
                                                model.begun_by_profile[p]));
    }
  }
  expect("refused ends", stats.refused_ends, model.refused_ends);
  if (stats.segment_refusals != segment_refusals_seen_) {
    hub_.fail("arena-accounting", fmt::format("the manager counts {} chunks refused by the segment allocator; the "
                                              "workload saw {} allocations and begins refused so",
                                              stats.segment_refusals, segment_refusals_seen_));
  }
  if (!live_.empty()) hub_.fail("arena-accounting", fmt::format("{} arena object(s) still live", live_.size()));
  if (auto violations = manager.audit(); !violations.empty()) {
    hub_.fail("arena-accounting", fmt::format("audit: {} (and {} more)", violations.front(), violations.size() - 1));
  }
}

}  // namespace segsim::scenarios
