// pressure, pressure-stats: PressureLoop::stats() is what an operator reads of
// the loop, so it must count what the loop did, as the harness saw it:
//   ticks and monitors: the ticks the loop fiber recorded (monitors: those
//     whose action was Monitor and ran);
//   gentle / aggressive / emergency: exactly the calls the ActionLedger
//     forwarded, of which the ticks' own actions are a part (the rest are the
//     reclaims' escalations);
//   reclaims: the allocator's calls of the reclaim hook; satisfied ones at most
//     those the loop answered true;
//   refusing_arenas: the last word the actions were given.
#include <fmt/format.h>

#include "scenarios/oracles/pressure.h"

namespace segsim::scenarios {

void PressureChecks::check_loop_stats(const PressureLoopStats& stats, const ActionLedger& actions,
                                      const ReclaimLedger& reclaims) const {
  auto exact = [&](const char* counter, std::uint64_t reported, std::uint64_t seen) {
    if (reported != seen) {
      oracles_.fail("pressure-stats", fmt::format("stats().{} is {}; the harness saw {}", counter, reported, seen));
    }
  };
  exact("ticks", stats.ticks, ticks_seen_);
  exact("monitors", stats.monitors, monitors_);
  exact("gentle", stats.gentle, actions.gentle);
  exact("aggressive", stats.aggressive, actions.aggressive);
  exact("emergency", stats.emergency, actions.emergency);
  exact("reclaims", stats.reclaims, reclaims.calls);
  if (actions.gentle < gentle_ || actions.aggressive < aggressive_ || actions.emergency < emergency_) {
    oracles_.fail("pressure-stats", fmt::format("ticks took {} / {} / {} gentle / aggressive / emergency actions; the "
                                                "actions were called {} / {} / {} times",
                                                gentle_, aggressive_, emergency_, actions.gentle, actions.aggressive,
                                                actions.emergency));
  }
  if (stats.reclaims_satisfied > reclaims.answered_true) {
    oracles_.fail("pressure-stats", fmt::format("stats().reclaims_satisfied is {}; the loop answered true {} times",
                                                stats.reclaims_satisfied, reclaims.answered_true));
  }
  if (stats.refusing_arenas != actions.refusing_arenas) {
    oracles_.fail("pressure-stats", fmt::format("stats().refusing_arenas is {}; the actions were last told {}",
                                                stats.refusing_arenas, actions.refusing_arenas));
  }
}

}  // namespace segsim::scenarios
