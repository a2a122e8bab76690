// SegmentAllocator's public operations, after the call: the observer hears
// of resets and refusals here, outside the allocator's locks, so the
// allocator's internals need not know who listens.
#include <cstring>

#include "core/segment_allocator.h"

namespace segsim {

Status SegmentAllocator::after_release(const char* call, const Segment& segment, Status status) {
  SegmentObserver* observer = config().observer;
  if (observer == nullptr) return status;
  if (!status.ok()) {
    observer->refused(call, segment, status.error());
  } else if (std::strcmp(call, "reset") == 0) {
    observer->was_reset(segment);
  }
  return status;
}

}  // namespace segsim
