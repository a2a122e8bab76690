// slab-churn's shared state (slab_churn.cpp: the fibers' workload, its
// prepare and finish; slab_churn_drills.cpp: the drills its finish runs).
// Internal to those two files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/platform/mutex.h"
#include "core/slab_allocator.h"
#include "scenarios/oracles/slab_oracles.h"
#include "scenarios/stack.h"

namespace segsim::scenarios::slab_churn {

struct Held {
  SlabObject object;
  std::uint8_t fill = 0;
  std::uint32_t fiber = 0;  // the allocating fiber
};

struct SlabChurn {
  std::unique_ptr<SlabOracles> oracles;
  std::unique_ptr<SlabAllocator> slab;
  SlabModelCounts model;
  platform::Mutex mu;           // guards exchange
  std::vector<Held> exchange;   // objects handed to whichever fiber takes them
  std::uint32_t next_fill = 0;  // fibers switch only at scheduling points: no lock needed
  std::size_t slab_bytes = 0;
  std::optional<std::uint32_t> allocator_id;     // what every object of this allocator carries
  std::map<std::uint32_t, std::uint32_t> cache_of_fiber;  // fiber → its thread cache's id
};

// A refused allocate of a valid size: one the run's faults or budget allow,
// or, with every slab slot in use, an OutOfBudget — which is necessary only
// once max_slabs slabs were ever acquired (slabs_acquired only grows, so
// fibers running meanwhile cannot make a necessary refusal look unnecessary).
// Counted for slab-counters first, then the snapshot it is checked against.
void judge_allocate_refusal(Stack& stack, SlabChurn& st, std::size_t bytes, const Error& error);

// Forged handles of one live object (forged_slab_handles.h): each free is
// refused with the code its rule is due and changes nothing; the object stays
// live under its real handle and is then freed. From its own stream: the
// finish's other draws stay as they were.
void forged_frees(Stack& stack, SlabChurn& st);

// A class gone cold: its magazine capacity shrunk to its floor and driven on
// past it, the counters checked after every cycle (slab_churn_drills.cpp).
void cold_class_drill(Stack& stack, SlabChurn& st);

}  // namespace segsim::scenarios::slab_churn
