// Every probe of core/, grouped by component (see core/probe.h). `required`:
// the CI campaign (ci/campaign.sh) must reach it; a probe that only a rare
// fault or a debugging session reaches stays optional.
// Included by core/probe.h only.
#pragma once

namespace segsim::probes {

inline constexpr std::array kProbes = {
    // ---- SegmentAllocator (segment_allocator.cpp) ----
    Probe{"alloc.invalid_size.zero", "allocate of zero bytes refused", true},
    Probe{"alloc.invalid_size.too_large", "allocate above the largest class refused", true},
    // ---- SlabAllocator (slab_allocator.cpp, slab_depot.cpp, slab_thread_cache.cpp) ----
    Probe{"slab.config.invalid", "SlabAllocator::create refused a configuration", false},
    Probe{"slab.invalid_size.zero", "slab allocate of zero bytes refused", true},
    Probe{"slab.invalid_size.too_large", "slab allocate above 4 KiB refused", true},
    Probe{"slab.alloc.uncached", "allocate on a thread whose thread-locals are gone (no cache)", false},
    Probe{"slab.free.uncached", "free on a thread whose thread-locals are gone (no cache)", false},
    Probe{"slab.free.foreign", "free of a null, forged or other allocator's handle refused", true},
    Probe{"slab.free.stale_slab", "free of a handle whose slab was returned since: double free", false},
    Probe{"slab.free.wrong_class", "free naming another class than the object's refused", true},
    Probe{"slab.free.not_object_start", "free of a handle not at an object start refused", false},
    Probe{"slab.free.double_free", "free of an object not live under the handle refused", true},
    Probe{"slab.free.remote", "an object freed by another thread than the allocating one", true},
    Probe{"slab.lookup.foreign", "lookup of an address outside every slab refused", true},
    Probe{"slab.lookup.inside_object", "lookup of an address inside an object refused", false},
    Probe{"slab.lookup.free_object", "lookup of a free object: double free", true},
    Probe{"slab.magazine.grow", "a class's magazine capacity grew (threads ping-pong at the depot)", false},
    Probe{"slab.magazine.shrink", "a class's magazine capacity shrank (threads rarely reach the depot)", false},
    Probe{"slab.depot.full_magazine", "an allocation miss loaded a full magazine from the depot", true},
    Probe{"slab.depot.drain", "the depot held too many full magazines and drained one to the slabs", true},
    Probe{"slab.grow.partial_fill", "a slab could not be taken but the magazine got some objects", false},
    Probe{"slab.grow.segment_refused", "the segment allocator refused a new slab", false},
    Probe{"slab.grow.slots_exhausted", "every slab slot is in use (max_slabs)", false},
    Probe{"slab.release.empty", "an empty slab went back to the segment allocator", true},
    Probe{"slab.thread_exit.flush", "a thread's exit flushed its magazines", false},
    Probe{"slab.cache.new_fiber", "a simulated fiber got its own thread cache", false},
    // ---- TxnArenaManager (txn_arena.cpp) ----
    Probe{"arena.config.invalid", "TxnArenaManager::create refused a configuration", false},
    Probe{"arena.alloc.invalid_size", "arena allocate of 0 or more than 256 KiB refused", true},
    Probe{"arena.alloc.invalid_alignment", "arena allocate with a bad alignment refused", true},
    Probe{"arena.alloc.next_initial_chunk", "a large root moved on to its next initial chunk", false},
    Probe{"arena.grow.smaller_chunk", "near the limit, growth took the least chunk holding the request", true},
    Probe{"arena.grow.over_limit", "arena growth refused by the transaction's profile limit", true},
    Probe{"arena.grow.segment_refused", "arena growth refused by the segment allocator", false},
    Probe{"arena.begin.segment_refused", "begin refused: the initial chunk could not be taken", false},
    Probe{"arena.begin.too_many", "begin refused: max_live_arenas arenas are open", false},
    Probe{"arena.id.never_issued", "an arena id that was never issued refused", true},
    Probe{"arena.id.ended", "an arena id whose arena has ended refused (double end)", true},
    Probe{"arena.end.live_child", "commit / rollback of an arena with a live child refused", true},
    Probe{"arena.commit.into_parent", "a savepoint committed into its parent", true},
    Probe{"arena.rollback.child", "a savepoint rolled back, its chunks returned", true},
};

}  // namespace segsim::probes
