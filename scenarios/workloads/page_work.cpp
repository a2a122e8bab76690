#include "scenarios/workloads/page_work.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/platform/clock.h"
#include "core/size_class.h"

namespace segsim::scenarios {

bool tolerated(const Stack& stack, const Error& error, bool budget_tight) {
  if (error.code == Errc::OutOfMemory && stack.faults_active) return true;
  if (error.code == Errc::OutOfBudget && (stack.faults_active || budget_tight)) return true;
  return false;
}

namespace {
void unexpected(Stack& stack, const Error& error, const char* doing) {
  stack.oracles.fail("exception", fmt::format("{}: unexpected {}", doing, error.describe()));
}

// fault-reach: with a plan that targets fault points, a call through thread
// caches offers the cache's bypass to it (a hit included). Its asks so far;
// nullopt when the call offers none.
std::optional<std::uint64_t> cache_bypass_asks(const Stack& stack, std::size_t site_id) {
  if (stack.injector == nullptr || !stack.injector->may_fire() || stack.allocator.config().thread_cache_bytes == 0) {
    return std::nullopt;
  }
  return stack.injector->asks(site_id);
}
}  // namespace

Result<Segment> checked_allocate(Stack& stack, std::size_t bytes, bool zero) {
  constexpr std::size_t kBypass = fault_points::id_of("alloc.tcache.bypass");
  const std::optional<std::uint64_t> bypass_asks =
      class_of(bytes) >= 0 ? cache_bypass_asks(stack, kBypass) : std::nullopt;
  Oracles::CallWindow window;
  window.slice_events = stack.oracles.slice_events();
  window.faults_active = stack.faults_active;
  window.maps_before = stack.oracles.allocator_maps_of_current_fiber();
  const std::uint64_t region_ops_before = stack.region_ops_started;
  const bool region_ops_idle = stack.region_ops_in_flight == 0;
  // Every other allocation that overlapped this one may have held a region's
  // worth of budget (a reservation, or a region it was unmapping).
  const std::uint32_t in_flight_before = stack.allocations_in_flight;
  const std::uint64_t started_before = stack.allocations_started;
  ++stack.allocations_in_flight;
  ++stack.allocations_started;
  Result<Segment> result = zero ? stack.allocator.allocate(bytes) : stack.allocator.allocate_uninitialized(bytes);
  --stack.allocations_in_flight;
  window.allocations_in_flight =
      in_flight_before + static_cast<std::uint32_t>(stack.allocations_started - started_before - 1);
  window.budget_judgeable = region_ops_idle && region_ops_before == stack.region_ops_started &&
                            !stack.allocator.config().proactive_cleanup && !stack.faults_active;
  stack.oracles.check_allocation(bytes, zero, result, window);
  if (bypass_asks) {
    stack.oracles.check_fault_point_asked("alloc.tcache.bypass", stack.injector->asks(kBypass) - *bypass_asks,
                                          [bytes] { return fmt::format("allocate({})", bytes); });
  }
  return result;
}

void checked_release(Stack& stack, const Segment& segment) {
  constexpr std::size_t kBypass = fault_points::id_of("release.tcache.bypass");
  const std::optional<std::uint64_t> bypass_asks = cache_bypass_asks(stack, kBypass);
  const Oracles::HeardCalls heard_before = stack.oracles.heard_by_current_fiber();
  Status released = stack.allocator.release(segment);
  if (!released.ok()) stack.oracles.fail("double-free", "release of a live segment refused: " + released.error().describe(), segment.data());
  stack.oracles.check_heard("release", segment, released, heard_before);
  if (bypass_asks) {  // a live handle of this allocator: the cache's release path asks the bypass
    stack.oracles.check_fault_point_asked("release.tcache.bypass", stack.injector->asks(kBypass) - *bypass_asks, [&segment] {
      return fmt::format("release of region #{} slice {}", segment.region_id(), segment.slice_index());
    });
  }
}

namespace {
template <class F>
std::size_t region_op(Stack& stack, F&& op) {
  ++stack.region_ops_started;
  ++stack.region_ops_in_flight;
  const std::size_t regions = op();
  --stack.region_ops_in_flight;
  return regions;
}
}  // namespace

std::size_t tracked_free_unused_regions(Stack& stack, std::size_t target_virtual_bytes) {
  // SimOs's ledger of this fiber's unmaps, around the call: what the returned
  // count must be, and at most what the target asks (regions-unmapped).
  const std::uint64_t unmaps_before = stack.sim_os.unmaps_by_current_caller();
  const std::uint64_t maps_before = stack.sim_os.map_calls();
  RegionsUnmappedCall call;
  call.target_bytes = target_virtual_bytes;
  call.virtual_before = stack.allocator.stats().virtual_bytes;
  call.region_bytes = stack.allocator.config().region_bytes;
  call.reported = region_op(stack, [&] { return stack.allocator.free_unused_regions(target_virtual_bytes); });
  call.unmapped_by_call = stack.sim_os.unmaps_by_current_caller() - unmaps_before;
  call.maps_meanwhile = stack.sim_os.map_calls() - maps_before;
  stack.oracles.check_regions_unmapped(call);
  return call.reported;
}

std::size_t tracked_release_unused_regions(Stack& stack, int size_class) {
  // The ledger of this fiber's successful DontNeed advises, around the call:
  // one per region released (regions-released).
  const std::uint64_t dropped_before = stack.oracles.allocator_dont_needs_ok_by_current_fiber();
  const std::size_t regions = region_op(stack, [&] { return stack.allocator.release_unused_regions(size_class); });
  stack.oracles.check_regions_released(regions, stack.oracles.allocator_dont_needs_ok_by_current_fiber() - dropped_before);
  return regions;
}

LeafPage* build_page(Stack& stack, sim::Rng& rng, std::uint64_t id, const PageShape& shape) {
  auto borrowed = stack.pool.borrow(id);
  if (!borrowed.ok()) {
    if (tolerated(stack, borrowed.error())) return nullptr;
    unexpected(stack, borrowed.error(), "borrowing a page");
  }
  LeafPage* page = borrowed.value();
  std::map<std::size_t, SlotShadow> slots;
  std::map<std::size_t, SlotShadow> dewey;
  auto give_up = [&](const Error& error, const char* doing) -> LeafPage* {
    if (!tolerated(stack, error) && error.code != Errc::PageFull) unexpected(stack, error, doing);
    Status back = stack.pool.give_back(page);
    if (!back.ok()) unexpected(stack, back.error(), "giving back a page");
    return nullptr;
  };
  const std::size_t slot_count = 1 + rng.below(shape.max_slots);
  const bool with_dewey = rng.chance(shape.dewey_chance);
  for (std::size_t s = 0; s < slot_count; ++s) {
    SlotShadow value{1 + rng.below(shape.max_value_bytes), static_cast<std::uint8_t>(1 + rng.below(255))};
    Status written = page->set_slot(s, std::vector<std::byte>(value.bytes, std::byte{value.fill}));
    if (!written.ok()) {
      // A full page (values past the largest class) is a designed refusal.
      if (written.error().code == Errc::PageFull) break;
      return give_up(written.error(), "writing a slot");
    }
    slots[s] = value;
    if (rng.chance(shape.regrow_chance)) {  // rewrite larger: forces a resize through the classes
      SlotShadow bigger{value.bytes * 2, static_cast<std::uint8_t>(value.fill ^ 0x5a)};
      Status rewritten = page->set_slot(s, std::vector<std::byte>(bigger.bytes, std::byte{bigger.fill}));
      if (rewritten.ok()) {
        slots[s] = bigger;
      } else if (rewritten.error().code != Errc::PageFull) {
        return give_up(rewritten.error(), "rewriting a slot");
      }
    }
    if (with_dewey) {
      SlotShadow id_value{1 + rng.below(16), static_cast<std::uint8_t>(1 + rng.below(255))};
      Status set = page->set_dewey_id(s, std::vector<std::byte>(id_value.bytes, std::byte{id_value.fill}));
      if (!set.ok()) return give_up(set.error(), "writing a DeweyID");
      dewey[s] = id_value;
    }
  }
  stack.shadow[id] = std::move(slots);
  stack.dewey_shadow[id] = std::move(dewey);
  return page;
}

void verify_page(Stack& stack, std::uint64_t id, const LeafPage& page) {
  const auto& slots = stack.shadow.at(id);
  const auto& dewey = stack.dewey_shadow.at(id);
  // Every written slot, and the two after the last: unset slots read empty.
  std::size_t limit = 2;
  if (!slots.empty()) limit = std::max(limit, slots.rbegin()->first + 3);
  if (!dewey.empty()) limit = std::max(limit, dewey.rbegin()->first + 3);
  limit = std::min(limit, page.slot_count());
  for (std::size_t s = 0; s < limit; ++s) {
    auto expected = slots.find(s);
    const SlotShadow want = expected == slots.end() ? SlotShadow{} : expected->second;
    stack.oracles.check_content(id, s, page.get_slot(s), want, page.slot_segment().data());
    auto expected_id = dewey.find(s);
    const SlotShadow want_id = expected_id == dewey.end() ? SlotShadow{} : expected_id->second;
    stack.oracles.check_content(id, s, page.get_dewey_id(s), want_id, page.dewey_segment().data());
  }
  // Past the last slot, from its first index on, every read is empty.
  for (std::size_t past = page.slot_count(); past < page.slot_count() + 2; ++past) {
    stack.oracles.check_content(id, past, page.get_slot(past), SlotShadow{}, page.slot_segment().data());
    stack.oracles.check_content(id, past, page.get_dewey_id(past), SlotShadow{}, page.dewey_segment().data());
  }
}

void publish(Stack& stack, std::uint64_t id, LeafPage* page) { stack.cache.put(id, page); }

void read_published(Stack& stack, sim::Rng& rng, int count, int hold_yields) {
  if (stack.next_page_id <= 1) return;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t id = 1 + rng.below(stack.next_page_id - 1);
    auto handle = stack.cache.get(id);
    if (!handle) continue;
    for (int y = 0; y < hold_yields; ++y) platform::yield();  // evictions race the pin
    verify_page(stack, id, *handle.page());
  }
}

}  // namespace segsim::scenarios
