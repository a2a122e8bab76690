// The page cache under the flight recorder, on purpose (issue 10): the
// sweeps' page caches run with the recorder off, and recorder_page_ops
// records one page's borrow and give-back only, so a PageCache's recorded
// operations, the report's "cache" bounds and the cache's give-back
// listener were reached by no sweep.
//
// The episode records, on a private pool and three private caches over the
// stack's allocator, a scripted sequence whose every result is known: six
// borrows; every LeafPage call the recorder records, on the first page (a
// value; refusals past the last slot, past max_value_bytes and after a
// return; a DeweyID; clear; two returns; the reset that re-arms it); puts (new, the same page again, another page under a pinned key),
// a hit and a miss, an eviction by the entry bound, an erase of a missing
// and of a cached key, a pinned page's deferred eviction at its unpin, a
// shrink, a clear, a give-back the pool must refuse (DoubleFree), and a
// RecordPageCache's put and erase over the same pool (its listener). Each
// call's result is checked ("cache", "pool": the page the get pins, erase's
// and shrink's answers, the order and status of the give-backs the listener
// hears, the stats at the end), then a report is written and checked
// ("flight-recorder"): the program's page-layer calls, and only they, at
// depth 0 in call order with their keys, page ids, hit flags and results;
// the give-backs of the evictions nested in the calls that made them; the
// "cache" bounds of the last cache made.
//
// Runs at quiescence with the run's fault points lifted and its own enable()
// (a ring that keeps every call, a fresh report count); the recorder is
// enabled again with the seed's config afterwards. The pool's pages come
// from the stack's allocator, whose budget may refuse them: then the episode
// gives back what it borrowed and checks nothing more.
#pragma once

#include "scenarios/stack.h"
#include "scenarios/workloads/recorder_ops.h"

namespace segsim::scenarios {

void recorder_cache_ops(Stack& stack, RecorderCheck& check);

}  // namespace segsim::scenarios
