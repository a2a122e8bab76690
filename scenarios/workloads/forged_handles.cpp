// forged_handles.h: Segment's fields are private and it is trivially
// copyable; the forger bit-casts it to a mirror of its layout, and only after
// a round trip of `live` shows the mirror reads every field as the accessors do.
#include "scenarios/workloads/forged_handles.h"

#include <bit>
#include <cstdint>
#include <type_traits>

#include "core/size_class.h"

namespace segsim::scenarios {

namespace {

struct SegmentMirror {
  std::byte* data;
  std::uint32_t allocator;
  std::uint32_t generation;
  std::uint32_t region;
  std::uint16_t slice;
  std::uint8_t size_class;
  std::uint8_t spare;  // Segment's spare_: 0, and defined, in every handle
};

constexpr bool kSameSize = sizeof(SegmentMirror) == sizeof(Segment) && std::is_trivially_copyable_v<Segment>;

bool mirrors(const Segment& segment, const SegmentMirror& m) {
  return m.spare == 0 && m.data == segment.data() && m.allocator == segment.allocator_id() && m.generation == segment.generation() &&
         m.region == segment.region_id() && m.slice == segment.slice_index() &&
         static_cast<int>(m.size_class) == segment.size_class();
}

}  // namespace

std::optional<Segment> forge(const Segment& live, Forgery forgery, std::size_t region_bytes) {
  if constexpr (!kSameSize) {
    return std::nullopt;
  } else {
    SegmentMirror m = std::bit_cast<SegmentMirror>(live);
    if (!mirrors(live, m)) return std::nullopt;
    switch (forgery) {
      case Forgery::NoGeneration: m.generation = 0; break;
      case Forgery::NoRegion: m.region = UINT32_MAX; break;
      case Forgery::WrongClass: m.size_class = static_cast<std::uint8_t>((m.size_class + 1) % kSizeClassCount); break;
      case Forgery::ClassOutOfRange: m.size_class = static_cast<std::uint8_t>(kSizeClassCount); break;
      case Forgery::WrongAddress: m.data += live.size() / 2; break;
      case Forgery::SliceOutOfRange: {
        // Slices are laid out from the region's base, one per size(): the
        // first index past the end, and the address it would have.
        const std::size_t past_end = region_bytes / live.size();
        if (past_end > UINT16_MAX) return std::nullopt;
        const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(live.data()) - live.offset_in_region();
        m.slice = static_cast<std::uint16_t>(past_end);
        m.data = reinterpret_cast<std::byte*>(base + past_end * live.size());
        break;
      }
    }
    return std::bit_cast<Segment>(m);
  }
}

const char* forgery_name(Forgery forgery) {
  switch (forgery) {
    case Forgery::NoGeneration: return "a forged handle of generation 0";
    case Forgery::NoRegion: return "a forged handle naming no region";
    case Forgery::WrongClass: return "a forged handle naming another class than its region's";
    case Forgery::SliceOutOfRange: return "a forged handle naming a slice past its region";
    case Forgery::ClassOutOfRange: return "a forged handle of a class past the largest";
    case Forgery::WrongAddress: return "a forged handle whose address is inside its slice";
  }
  return "a forged handle";
}

Errc refusal_of(Forgery forgery) {
  return forgery == Forgery::WrongAddress ? Errc::DoubleFree : Errc::InvalidPointer;
}

}  // namespace segsim::scenarios
