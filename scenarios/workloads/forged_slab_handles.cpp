// forged_slab_handles.h: SlabObject's fields are private; SlabAccess, the
// friend slab_object.h declares for the harness, is defined here only.
#include "scenarios/workloads/forged_slab_handles.h"

namespace segsim {

struct SlabAccess {
  static SlabObject forge(const SlabObject& live, scenarios::SlabForgery forgery, std::size_t objects_per_slab) {
    using scenarios::SlabForgery;
    SlabObject f = live;
    switch (forgery) {
      case SlabForgery::OtherAllocator: f.allocator_ = live.allocator_ + 1; break;
      case SlabForgery::NoSlab: f.slab_ = UINT32_MAX; break;
      case SlabForgery::ClassOutOfRange: f.size_class_ = static_cast<std::uint8_t>(kSlabClassCount); break;
      case SlabForgery::EvenEpoch: f.epoch_ = live.epoch_ + 1; break;
      case SlabForgery::StaleEpoch: f.epoch_ = live.epoch_ + 2; break;
      case SlabForgery::WrongClass:
        f.size_class_ = static_cast<std::uint8_t>((live.size_class_ + 1) % kSlabClassCount);
        break;
      case SlabForgery::IndexOutOfRange: f.index_ = UINT16_MAX; break;
      case SlabForgery::FirstSlotPast:
        f.index_ = static_cast<std::uint16_t>(objects_per_slab);
        f.data_ = live.data_ + (objects_per_slab - live.index_) * kSlabClassBytes[live.size_class_];
        break;
      case SlabForgery::NotObjectStart: f.data_ = live.data_ + 8; break;
      case SlabForgery::EvenGeneration: f.generation_ = live.generation_ + 1; break;
      case SlabForgery::OtherGeneration: f.generation_ = live.generation_ + 2; break;
    }
    return f;
  }
};

namespace scenarios {

SlabObject forge_slab_object(const SlabObject& live, SlabForgery forgery, std::size_t objects_per_slab) {
  return SlabAccess::forge(live, forgery, objects_per_slab);
}

Errc slab_forgery_refusal(SlabForgery forgery) {
  switch (forgery) {
    case SlabForgery::StaleEpoch:  // "its slab was returned since"
    case SlabForgery::EvenGeneration:
    case SlabForgery::OtherGeneration: return Errc::DoubleFree;  // not live under this handle
    default: return Errc::InvalidPointer;  // no such object of this allocator
  }
}

const char* slab_forgery_rule(SlabForgery forgery) {
  switch (forgery) {
    case SlabForgery::IndexOutOfRange:
    case SlabForgery::FirstSlotPast: return "slab free of a slot past its slab's objects";
    case SlabForgery::EvenGeneration:
    case SlabForgery::OtherGeneration: return "slab free of an object not live under the handle";
    default: return slab_forgery_name(forgery);
  }
}

const char* slab_forgery_name(SlabForgery forgery) {
  switch (forgery) {
    case SlabForgery::OtherAllocator: return "free of another allocator's handle";
    case SlabForgery::NoSlab: return "free of a handle naming no slab";
    case SlabForgery::ClassOutOfRange: return "free of a handle with a class past the last";
    case SlabForgery::EvenEpoch: return "free of a handle with an even slab epoch";
    case SlabForgery::StaleEpoch: return "free of a handle of an earlier slab epoch";
    case SlabForgery::WrongClass: return "free of a handle naming another class";
    case SlabForgery::IndexOutOfRange: return "free of a handle with a slot past the slab";
    case SlabForgery::FirstSlotPast: return "free of a handle naming the first slot past the slab";
    case SlabForgery::NotObjectStart: return "free of a handle pointing inside the object";
    case SlabForgery::EvenGeneration: return "free of a handle with an even generation";
    case SlabForgery::OtherGeneration: return "free of a handle of an earlier generation";
  }
  return "free of a forged handle";
}

}  // namespace scenarios

}  // namespace segsim
