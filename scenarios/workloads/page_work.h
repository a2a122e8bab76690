// Page-level work shared by the scenarios: build a page with a shadow, verify
// it, publish it in the cache, read published pages while holding them.
#pragma once

#include <cstdint>

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

struct PageShape {
  std::size_t max_slots = 12;        // slots written: 1..max_slots
  std::size_t max_value_bytes = 6000;
  double dewey_chance = 0.3;         // the page gets DeweyIDs (its own segment)
  double regrow_chance = 0.3;        // a slot is rewritten larger (forces resizes)
};

// Whether an allocator error is one the run's configuration allows (faults
// injected, a tight budget); anything else fails the "exception" oracle.
bool tolerated(const Stack& stack, const Error& error, bool budget_tight = false);

// allocate / allocate_uninitialized, checked by the allocation oracle (the
// result is one the API allows; a refusal was necessary). Errors the run's
// configuration allows are returned; others fail the run.
Result<Segment> checked_allocate(Stack& stack, std::size_t bytes, bool zero = true);
// release of a live handle the workload holds: it must succeed.
void checked_release(Stack& stack, const Segment& segment);
// free_unused_regions / release_unused_regions, counted as region operations
// in flight (they can hold budget while they run); free_unused_regions's
// count is checked against SimOs's unmaps (regions-unmapped).
std::size_t tracked_free_unused_regions(Stack& stack, std::size_t target_virtual_bytes);
std::size_t tracked_release_unused_regions(Stack& stack, int size_class);

// Borrows and fills page `id` per `shape`, recording its shadow. Null when an
// allowed allocator error stopped it (the page is given back).
LeafPage* build_page(Stack& stack, sim::Rng& rng, std::uint64_t id, const PageShape& shape);
// Checks every slot and DeweyID of `page` against the shadow of `id`.
void verify_page(Stack& stack, std::uint64_t id, const LeafPage& page);
// Caches the page; the cache owns it from now on (eviction gives it back).
void publish(Stack& stack, std::uint64_t id, LeafPage* page);
// Pins `count` random published pages, yields `hold_yields` times while
// holding each (so evictions race the pin), and verifies them.
void read_published(Stack& stack, sim::Rng& rng, int count, int hold_yields);

}  // namespace segsim::scenarios
