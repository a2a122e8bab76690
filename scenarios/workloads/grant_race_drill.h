// The grant race drill (issue 10): a thread cache takes a released slice only
// within its grant of the limit on all caches (thread_caches_max_bytes). The
// simulated hit release checks that its cache has room and grant, then
// reaches a scheduling point; another thread's reclaim may empty the cache
// and give its grant back there, and a third call take the limit's room —
// so the release asks for the grant again, and when refused the locked path
// must release the slice to the pool. The sweeps reach that interleaving
// about once in 300 seeds of eight fibers (probe
// tcache.limit.release_hit_refused), so the drill walks it deterministically:
// on a private allocator whose caches share one grant unit (256 KiB), under a
// ManualClock, thread A allocates a slice and releases it; at the release's
// first scheduling point thread B runs a reclaim (free_unused_regions(0) or
// release_unused_regions of the class: every cache flushed, each grant given
// back) and, on most rounds, allocates — its cache's refill takes the whole
// limit. Then A's release finishes, and must have released the slice: to the
// pool when B took the room (A's cache no fuller), to A's cache otherwise; a
// second release of the handle is DoubleFree; stats() counts B's slice live
// and nothing else; audit() finds nothing (cache-policy, accounting). The
// same promise holds on the full path (release_cached asks for the grant
// after its scheduling point too), so the verdict does not depend on which
// path the release took.
//
// Run at quiescence (tcache-churn's finish, every seed); nothing of the run's
// stack is touched, and the simulation sees no scheduling point.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_grant_race_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
