// A production thread inside a sweep (issue 10): the per-thread caches of
// SegmentAllocator and SlabAllocator have a second half that no fiber walks —
// a real thread's thread_local cache table, its retirement at thread exit,
// and the uncached paths of a thread that allocates and frees after its
// thread-locals are gone (from a thread_local destructor, as a logging
// library might). The episode runs that half on a real std::thread while the
// calling fiber waits for it in join(): nothing else runs meanwhile, so the
// seed's schedule and outcome stay deterministic (the thread does no
// scheduling: no runtime is installed on it, every platform call takes its
// native half).
//
// The allocators are the episode's own, on a private SimOs (no faults, no
// proactive cleanup: no async worker thread outlives the episode), with an
// observer that keeps SegmentObserver's default was_reset / refused. Every
// call is checked against a model kept by the episode ("native-thread"
// oracle): each valid-size allocation succeeds with its class's bytes, zeroed
// where promised, no overlap with a live object; contents survive until
// freed; a freed slab object is poisoned exactly when ASan is on; a second
// free / release / reset is DoubleFree and changes nothing; the observer saw
// exactly the successful hand-outs and releases; after the thread is gone its
// caches are retired (no thread cache left, no object in a magazine), the
// slab counts exactly the remote frees it made (frees through lookup()'s
// handles, which its cache counted until it exited), every audit is clean
// and nothing is live. Failures on the thread are collected
// and reported by the fiber after join().
#pragma once

#include <cstddef>
#include <cstdint>

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

// The episode's allocator (the flight recorder's report may name it).
inline constexpr std::size_t kNativeThreadRegionBytes = std::size_t{1} << 20;
inline constexpr std::size_t kNativeThreadBudgetBytes = std::size_t{32} << 20;

// Runs the episode from the calling fiber (at quiescence: the conductor's
// finish). `with_slab`: a SlabAllocator on the episode's segments too.
void run_native_thread_episode(Stack& stack, sim::Rng& rng, bool with_slab);

// Episodes this process has run on real threads, this one's and other
// drills' (count_native_thread_episode): what ScenarioInfo::native_threads
// claims is checked against it.
std::uint64_t native_thread_episodes_run();
// Counts one episode or drill that runs a real thread beside the simulation's
// (run_native_thread_episode counts itself).
void count_native_thread_episode();

}  // namespace segsim::scenarios
