// Forged SegmentAllocator handles: a live handle with one field changed, as a
// caller's memory corruption or a handle from another build would make them.
// Each must be refused by its own rule: as an InvalidPointer (generation 0,
// no such region, another size class, a class past the last — read before
// any table is indexed by it — a slice past the region's end), or, for a
// live handle's address moved into the middle of its slice, as the
// DoubleFree of a handle made for an earlier mapping of its region (the
// allocator's rule: only it makes handles with its id, so an address that
// does not match the region's mapping is an old one).
// SliceOutOfRange names the first slice past the region's end *at the address
// that slice would have* (a caller walking one handle past the last), so only
// the index's range check refuses it: the address matches the index, and a
// refusal that trusted it would read the region's slice table past its end.
#pragma once

#include <cstddef>
#include <optional>

#include "core/error.h"
#include "core/segment.h"

namespace segsim::scenarios {

enum class Forgery : std::uint8_t { NoGeneration, NoRegion, WrongClass, SliceOutOfRange, ClassOutOfRange, WrongAddress };
inline constexpr std::size_t kForgeryCount = 6;

// `live` with the field of `forgery` changed; `region_bytes` is the
// allocator's (config().region_bytes), which says where `live`'s region ends.
// Nullopt when this build's Segment layout is not the one the forger knows
// (checked on `live` itself).
std::optional<Segment> forge(const Segment& live, Forgery forgery, std::size_t region_bytes);
// What the forgery is, as a refusal rule ("a handle of generation 0", ...).
const char* forgery_name(Forgery forgery);
// The refusal due to a release or reset of the forgery.
Errc refusal_of(Forgery forgery);

}  // namespace segsim::scenarios
