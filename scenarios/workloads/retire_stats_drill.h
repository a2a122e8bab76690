// The retire-stats drill (issue 10): a production thread that exits retires
// its segment cache — the cache leaves the registry and its hit and remote-
// release counts move to the allocator's retired totals, under one hold of
// the registry lock. stats() must read those totals in the same hold as the
// list of caches (thread_cache.h, ThreadCaches::all): a retire that lands
// between a read of the totals and the listing would be counted by neither,
// and cache_hits / remote_releases would go down between two snapshots
// (seed 42's mutant segment_audit.cpp:32 moved the read before the lock; no
// sweep retired a thread's cache at that moment, since only real threads
// retire caches — a fiber's cache lives as long as its allocator).
//
// On a ClockedInstance the drill walks the window deterministically: a real
// std::thread allocates and releases slices of a class (cache hits), releases
// slices the caller allocated (remote releases), and parks; the caller takes
// a snapshot (the parked thread's cache is listed), then calls stats() again
// with an at_lock action that, at that call's first lock, lets the thread
// exit and joins it (its cache retires in the window). The second snapshot
// must show the same hits and remote releases, one cache fewer, and the
// class's live and free slices unchanged (the retiring flush moves cached
// slices, free, to the pool); a third, at quiescence, the same again. Nothing
// else runs meanwhile: the caller waits for the thread in real time, so the
// seed's schedule and outcome stay deterministic. Failures: "counters-grow".
// The first snapshot, with the thread parked and nothing joining or leaving
// the registry, must take each class's lock once, the regions' once and the
// registry's once ("stats-locks": seed 69's mutant segment_audit.cpp:29 looked
// the registry up again under every class lock).
//
// Run at quiescence (tcache-churn's finish, every seed).
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_retire_stats_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
