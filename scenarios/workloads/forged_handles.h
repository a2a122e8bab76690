// Forged SegmentAllocator handles: a live handle with one field changed, as a
// caller's memory corruption or a handle from another build would make them.
// Each must be refused as an InvalidPointer, by its own rule (generation 0,
// no such region, another size class, a class past the last — read before
// any table is indexed by it — a slice past the region's end).
// SliceOutOfRange names the first slice past the region's end *at the address
// that slice would have* (a caller walking one handle past the last), so only
// the index's range check refuses it: the address matches the index, and a
// refusal that trusted it would read the region's slice table past its end.
#pragma once

#include <cstddef>
#include <optional>

#include "core/segment.h"

namespace segsim::scenarios {

enum class Forgery : std::uint8_t { NoGeneration, NoRegion, WrongClass, SliceOutOfRange, ClassOutOfRange };
inline constexpr std::size_t kForgeryCount = 5;

// `live` with the field of `forgery` changed; `region_bytes` is the
// allocator's (config().region_bytes), which says where `live`'s region ends.
// Nullopt when this build's Segment layout is not the one the forger knows
// (checked on `live` itself).
std::optional<Segment> forge(const Segment& live, Forgery forgery, std::size_t region_bytes);
// What the forgery is, as a refusal rule ("a handle of generation 0", ...).
const char* forgery_name(Forgery forgery);

}  // namespace segsim::scenarios
