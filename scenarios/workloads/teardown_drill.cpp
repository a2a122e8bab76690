// The teardown drill: see teardown_drill.h.
#include "scenarios/workloads/teardown_drill.h"

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/size_class.h"
#include "scenarios/oracles/os_ledger.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace {

constexpr const char* kDrill = "teardown drill";

}  // namespace

void run_teardown_drill(Stack& stack, sim::Rng& rng) {
  // The cleanup yields at its delay point before it starts its work: still in
  // flight when the allocator's destructor begins.
  fault_points::FireSites delayed(fault_points::FireSites::Times::EveryAsk,
                                  {fault_points::id_of("alloc.cleanup.delay")});
  fault_points::ControllerScope only_the_delay(&delayed);
  auto sim_os = make_episode_os(stack, rng, kDrillReservationBytes, kDrill);
  OsLedgerOs os(*sim_os);
  const int c = static_cast<int>(rng.below(3));  // classes with many slices a region
  const std::size_t slice_bytes = class_bytes(static_cast<std::size_t>(c));
  SegmentAllocatorConfig config;
  config.region_bytes = kDrillRegionBytes;
  config.budget_bytes = kDrillBudgetBytes;
  config.thread_cache_bytes = 0;  // every release reaches the pool
  config.cleanup_start_free_slices = 0;
  config.cleanup_every_free_slices = kDrillRegionBytes / slice_bytes;  // due once the region is all free
  auto created = SegmentAllocator::create(os, config);
  if (!created.ok()) stack.oracles.fail("exception", fmt::format("{}: allocator: {}", kDrill, created.error().describe()));
  std::unique_ptr<SegmentAllocator> allocator = std::move(created.value());
  const EpisodeCalls calls{stack, *allocator, kDrill};
  std::vector<Segment> region;
  for (std::size_t i = 0; i < kDrillRegionBytes / slice_bytes; ++i) region.push_back(calls.allocate(slice_bytes, "a slice"));
  const OsLedger filled = os.ledger();
  for (const Segment& s : region) calls.release(s, "a slice of the region");
  if (const std::uint64_t started = allocator->stats().cleanups_started(); started != 1) {
    stack.oracles.fail("exception", fmt::format("{}: releasing a whole region of {} B slices started {} cleanups; "
                                                "1 was due", kDrill, slice_bytes, started));
  }
  const OsLedger before = os.ledger();
  allocator.reset();  // the cleanup may still be in flight: it must finish first
  const OsLedger& after = os.ledger();
  // Sound whether or not the cleanup had finished before the destructor: its
  // release of the all-free region happens, and before any unmap.
  const std::uint64_t advised = after.dont_need_ok + after.dont_need_failed - filled.dont_need_ok - filled.dont_need_failed;
  if (advised == 0) {
    stack.oracles.fail("teardown-unmapped", "~SegmentAllocator with a cleanup in flight (its class's region all "
                                            "free) tore down without letting it release the region: no DontNeed "
                                            "advise");
  }
  if (std::string problem = teardown_unmapped_problem("~SegmentAllocator (a cleanup in flight)", "region(s)", before,
                                                      after);
      !problem.empty()) {
    stack.oracles.fail("teardown-unmapped", problem);
  }
}

}  // namespace segsim::scenarios
