// allocation: each completed allocate / allocate_uninitialized is one the API
// allows (segment_allocator.h): a success has the request's class, at
// least its bytes and a generation other than 0 (free), and is live in the
// ownership model; InvalidSize exactly for
// 0 and > 256 KiB; OutOfMemory only when a fault plan can fail mmap, with
// the errno of the calling fiber's failed map (refusal-fields); and
// OutOfBudget only when it was necessary — every region that could have been
// unmapped held a live slice.
//
// Necessity is judged only for calls that ran alone enough to judge: no slice
// was handed out or released during the call, no free_unused_regions /
// release_unused_regions overlapped it, and no proactive cleanup or fault plan
// may hold budget. Then the regions that must stay mapped are those holding a
// live slice, plus one per other allocation still in flight (it may hold a
// reservation); if those and one new region fit the budget, the refusal was
// not necessary.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/rule_texts.h"

namespace segsim::scenarios {

void Oracles::check_allocation(std::size_t requested_bytes, bool zeroed, const Result<Segment>& result,
                               const CallWindow& window) {
  const char* call = zeroed ? "allocate" : "allocate_uninitialized";
  const int expected_class = class_of(requested_bytes);
  check_map_retry(call, requested_bytes, window.maps_before, result);
  if (result.ok()) {
    const Segment& segment = result.value();
    if (expected_class < 0) {
      fail("allocation", fmt::format("{}({}) succeeded; the API refuses it with InvalidSize", call, requested_bytes),
           segment.data());
    }
    if (segment.size_class() != expected_class || segment.size() < requested_bytes) {
      fail("allocation", fmt::format("{}({}) returned a {}-byte segment of class {}; class {} was due", call,
                                     requested_bytes, segment.size(), segment.size_class(), expected_class),
           segment.data());
    }
    if (segment.generation() == 0) {
      fail("allocation", fmt::format("{}({}) returned generation 0, which marks a free slice", call, requested_bytes),
           segment.data());
    }
    if (!model_live(segment)) {
      fail("ownership", fmt::format("{}({}) returned region #{} slice {} generation {}, which the model does "
                                    "not hold live",
                                    call, requested_bytes, segment.region_id(), segment.slice_index(),
                                    segment.generation()),
           segment.data());
    }
    return;
  }
  const Error& error = result.error();
  if (expected_class < 0) {
    if (error.code != Errc::InvalidSize) {
      fail("allocation", fmt::format("{}({}) refused with '{}'; InvalidSize was due", call, requested_bytes,
                                     errc_name(error.code)));
    }
    check_size_rule(*this, call, requested_bytes, error.detail, kPastSegmentClassRuleText);
    return;
  }
  switch (error.code) {
    case Errc::OutOfMemory:
      if (!window.faults_active) {
        fail("allocation", fmt::format("{}({}): OutOfMemory with no fault plan: {}", call, requested_bytes,
                                       error.describe()));
      }
      // A map refused it (error.h): the refusal carries that map's errno.
      if (allocator_os_ != nullptr && (error.os_errno == 0 || error.os_errno != allocator_os_->last_map_errno_of_current_fiber())) {
        fail("refusal-fields", fmt::format("{}({}) refused with OutOfMemory carrying errno {}; the calling fiber's "
                                           "last failed map gave errno {}",
                                           call, requested_bytes, error.os_errno,
                                           allocator_os_->last_map_errno_of_current_fiber()));
      }
      return;
    case Errc::OutOfBudget: {
      if (!window.budget_judgeable || window.slice_events != ownership_.slice_events() || allocator_ == nullptr) {
        return;
      }
      const SegmentAllocatorConfig& config = allocator_->config();
      const std::size_t budget_regions = config.budget_bytes / config.region_bytes;
      const std::size_t pinned_regions = ownership_.live_regions() + window.allocations_in_flight;
      if (pinned_regions + 1 <= budget_regions) {
        fail("refusal", fmt::format("{}({}) refused with OutOfBudget, but only {} of {} regions hold live "
                                    "slices ({} other allocations overlapped it): the refusal was not necessary",
                                    call, requested_bytes, ownership_.live_regions(),
                                    budget_regions, window.allocations_in_flight));
      }
      return;
    }
    default:
      fail("allocation", fmt::format("{}({}) refused with an error the API does not give: {}", call,
                                     requested_bytes, error.describe()));
  }
}

}  // namespace segsim::scenarios
