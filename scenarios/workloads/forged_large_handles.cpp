// forged_large_handles.h: LargeObject's fields are private and it is
// trivially copyable; the forger bit-casts it to a mirror of its layout, and
// only after a round trip of `live` shows the mirror reads every field as the
// accessors do.
#include "scenarios/workloads/forged_large_handles.h"

#include <bit>
#include <type_traits>

namespace segsim::scenarios {

namespace {

struct LargeObjectMirror {
  std::byte* data;
  std::size_t bytes;
  std::size_t offset;
  std::uint32_t allocator;
  std::uint32_t span;
  std::uint32_t generation;
  unsigned char padding[4];  // LargeObject's tail padding: indeterminate, so bytes
};

constexpr bool kSameSize =
    sizeof(LargeObjectMirror) == sizeof(LargeObject) && std::is_trivially_copyable_v<LargeObject>;

bool mirrors(const LargeObject& object, const LargeObjectMirror& m) {
  return m.data == object.data() && m.bytes == object.size() && m.offset == object.offset() &&
         m.allocator == object.allocator_id() && m.span == object.span_id() && m.generation == object.generation();
}

}  // namespace

Errc refusal_of(LargeForgery forgery) {
  return forgery == LargeForgery::SpanZero || forgery == LargeForgery::SpanPastLast ? Errc::InvalidPointer
                                                                                     : Errc::DoubleFree;
}

const char* forgery_name(LargeForgery forgery) {
  switch (forgery) {
    case LargeForgery::SpanZero: return "span id 0";
    case LargeForgery::SpanPastLast: return "a span id past the last";
    case LargeForgery::OtherGeneration: return "another generation";
    case LargeForgery::OtherSize: return "one granule more";
  }
  return "?";
}

std::optional<LargeObject> forge(const LargeObject& live, LargeForgery forgery, std::size_t granule_bytes,
                                 std::uint32_t past_last_span) {
  if constexpr (!kSameSize) {
    return std::nullopt;
  } else {
    LargeObjectMirror m = std::bit_cast<LargeObjectMirror>(live);
    if (!mirrors(live, m)) return std::nullopt;
    switch (forgery) {
      case LargeForgery::SpanZero: m.span = 0; break;
      case LargeForgery::SpanPastLast: m.span = past_last_span; break;
      case LargeForgery::OtherGeneration: m.generation += 1; break;
      case LargeForgery::OtherSize: m.bytes += granule_bytes; break;
    }
    return std::bit_cast<LargeObject>(m);
  }
}

}  // namespace segsim::scenarios
