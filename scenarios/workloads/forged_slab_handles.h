// Forged SlabAllocator handles: a live object's handle with one field
// changed, as a caller's memory corruption or a handle of another allocator
// would make them. free() must refuse each by its own rule and change
// nothing: the object stays live under its real handle.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/slab_object.h"

namespace segsim::scenarios {

enum class SlabForgery : std::uint8_t {
  OtherAllocator,   // another allocator's id
  NoSlab,           // a slab id past every slot
  ClassOutOfRange,  // a class past the last
  EvenEpoch,        // an epoch no live slab has (even: a returned slab)
  StaleEpoch,       // another odd epoch: the slab was returned and taken again since
  WrongClass,       // the next class: not its slab's
  IndexOutOfRange,  // a slot far past the slab's objects
  FirstSlotPast,    // the first slot past them, at the address it would have
  NotObjectStart,   // the address 8 bytes into the object
  EvenGeneration,   // a generation no live object has (even: free)
  OtherGeneration,  // another odd generation: an earlier life of the slot
};
inline constexpr std::size_t kSlabForgeryCount = 11;

// `live` with the field of `forgery` changed (FirstSlotPast: its slot and
// address; `objects_per_slab` is its class's, from stats()).
SlabObject forge_slab_object(const SlabObject& live, SlabForgery forgery, std::size_t objects_per_slab);
// The refusal a free of that forgery is due (slab_allocator.h's rules).
Errc slab_forgery_refusal(SlabForgery forgery);
// Which of those rules refuses it (rule-texts): two forgeries are refused
// with one detail text exactly when they share a rule (an even and an
// earlier generation: the object is not live under the handle).
const char* slab_forgery_rule(SlabForgery forgery);
const char* slab_forgery_name(SlabForgery forgery);

}  // namespace segsim::scenarios
