// Forged LargeObjectAllocator handles: a live handle with one field changed,
// as a caller's memory corruption or a handle from another build would make
// them. A span id the allocator never gave (0, or past the last) is refused
// as InvalidPointer ("no span of this allocator has that id"); a span it gave
// whose (offset, generation, size) names no live object as DoubleFree,
// naming the forged generation and the one live at that place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/error.h"
#include "core/large_object_allocator.h"

namespace segsim::scenarios {

enum class LargeForgery : std::uint8_t { SpanZero, SpanPastLast, OtherGeneration, OtherSize };
inline constexpr std::size_t kLargeForgeryCount = 4;

// The refusal the allocator owes a handle forged so from a live one.
Errc refusal_of(LargeForgery forgery);
const char* forgery_name(LargeForgery forgery);

// `live` with the field of `forgery` changed (OtherSize: one granule more,
// `granule_bytes` the allocator's; SpanPastLast: `past_last_span`, an id
// after the last the allocator gave). Nullopt when this build's LargeObject
// layout is not the one the forger knows (checked on `live` itself).
std::optional<LargeObject> forge(const LargeObject& live, LargeForgery forgery, std::size_t granule_bytes,
                                 std::uint32_t past_last_span);

}  // namespace segsim::scenarios
