// SegmentAllocator's public operations, after the call: the observer hears
// of resets and refusals, and the flight recorder (flight_recorder.h) of
// every operation, here — outside the allocator's locks, so its internals
// need not know who listens.
#include "core/assert.h"
#include "core/flight_recorder.h"
#include "core/segment_allocator.h"

namespace segsim {

Result<Segment> SegmentAllocator::after_allocate(bool zeroed, std::size_t bytes, Result<Segment> result) {
  SEGSIM_ASSERT(!result.ok() || (!result.value().is_null() && result.value().size() >= bytes),
                "an allocation that succeeded returned a null segment or one smaller than asked");
  if (flight_recorder::on()) {
    const auto op = zeroed ? flight_recorder::Op::Allocate : flight_recorder::Op::AllocateUninitialized;
    flight_recorder::detail::note_stack(config().region_bytes, config().budget_bytes);
    flight_recorder::record_operation(op, bytes, result.ok() ? result.value() : Segment{},
                                      result.ok() ? nullptr : &result.error());
  }
  return result;
}

Status SegmentAllocator::after_release(bool reset, const Segment& segment, Status status) {
  if (flight_recorder::on()) {
    flight_recorder::record_operation(reset ? flight_recorder::Op::Reset : flight_recorder::Op::Release, 0, segment,
                                      status.ok() ? nullptr : &status.error());
  }
  SegmentObserver* observer = config().observer;
  if (observer == nullptr) return status;
  if (!status.ok()) {
    observer->refused(reset ? "reset" : "release", segment, status.error());
  } else if (reset) {
    observer->was_reset(segment);
  }
  return status;
}

}  // namespace segsim
