// Forged SegmentAllocator handles: a live handle with one field changed, as a
// caller's memory corruption or a handle from another build would make them.
// Each must be refused as an InvalidPointer, by its own rule (generation 0,
// no such region, another size class, a slice past the region's end).
#pragma once

#include <optional>

#include "core/segment.h"

namespace segsim::scenarios {

enum class Forgery : std::uint8_t { NoGeneration, NoRegion, WrongClass, SliceOutOfRange };
inline constexpr std::size_t kForgeryCount = 4;

// `live` with the field of `forgery` changed. Nullopt when this build's
// Segment layout is not the one the forger knows (checked on `live` itself).
std::optional<Segment> forge(const Segment& live, Forgery forgery);

}  // namespace segsim::scenarios
