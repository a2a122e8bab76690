// The lookup-race drill: see lookup_race_drill.h.
#include "scenarios/workloads/lookup_race_drill.h"

#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

namespace lookup_race_drill {
namespace {

constexpr std::size_t kLookupSite = fault_points::id_of("lookup.index.yield");
constexpr std::size_t kLookupBudgetBytes = 32 * kDrillRegionBytes;
constexpr int kRounds = 4;

[[noreturn]] void fail(Stack& stack, const std::string& what) {
  stack.oracles.fail("lookup-race", "lookup-race drill: " + what);
}

Segment take(Stack& stack, SegmentAllocator& allocator, int c) {
  Result<Segment> got = allocator.allocate(class_bytes(static_cast<std::size_t>(c)));
  if (!got.ok()) fail(stack, fmt::format("allocate of class {} refused: {}", c, got.error().describe()));
  return got.value();
}

std::string answer_text(const Result<Segment>& found) {
  if (!found.ok()) return found.error().describe();
  return fmt::format("region {} slice {} generation {}", found->region_id(), found->slice_index(), found->generation());
}

// Where the region holding a handle's slice starts.
const std::byte* region_base(const Segment& s) {
  return s.data() - s.offset_in_region();
}

// The stale handle released (or reset) again after its region was unmapped:
// DoubleFree, and the diagnosis names what became of its slice — the region
// gone, its slot mapped anew elsewhere, or mapped at the same base with the
// slice free or reallocated (then with the generation it has now).
void check_stale_release(Stack& stack, SegmentAllocator& allocator, const Segment& stale,
                         const std::optional<Segment>& other) {
  const char* due = "its region has since been unmapped";
  std::uint32_t due_live = 0;
  if (other && other->region_id() == stale.region_id()) {  // its class reused the slot
    if (region_base(*other) != region_base(stale)) {
      due = "its region has since been unmapped and mapped anew";
    } else if (other->data() == stale.data()) {
      due = "slice was reallocated since";
      due_live = other->generation();
    } else {
      due = "slice is free";
    }
  }
  const bool reset = (stale.slice_index() + stale.generation()) % 2 == 0;  // no draw: later rounds stay
  const Status status = reset ? allocator.reset(stale) : allocator.release(stale);
  if (!status.ok() && status.error().code == Errc::DoubleFree && std::strcmp(status.error().detail, due) == 0 &&
      status.error().live_generation == due_live) {
    return;
  }
  fail(stack, fmt::format("{} of a stale handle (region {} slice {} generation {}) whose region was unmapped{} "
                          "answered {}; due: DoubleFree, '{}' (slice generation now {})",
                          reset ? "reset" : "release", stale.region_id(), stale.slice_index(), stale.generation(),
                          other ? fmt::format(" (and region {} mapped)", other->region_id()) : std::string(),
                          outcome_text(status, "ok"), due, due_live));
}

void round(Stack& stack, SegmentAllocator& allocator, sim::Rng& rng) {
  const int c = static_cast<int>(rng.below(kSizeClassCount));
  const Segment stale = take(stack, allocator, c);
  const std::byte* address = stale.data();
  if (Status released = allocator.release(stale); !released.ok()) {
    fail(stack, "release of a live slice refused: " + released.error().describe());
  }
  // After the unmapping: nothing, or a region of the same class or another
  // (SimOs may map it at the freed base), one slice of it held.
  const std::uint64_t remap = rng.below(3);
  const int c2 = remap == 1 ? c : static_cast<int>(rng.below(kSizeClassCount));
  std::optional<Segment> other;
  std::size_t unmapped = 0;
  fault_points::ActOnce controller(kLookupSite, [&] {
    unmapped = allocator.free_unused_regions(0);
    if (remap != 0) other = take(stack, allocator, c2);
  });
  Result<Segment> found = make_error(Errc::InvalidPointer, "not asked");
  {
    fault_points::ControllerScope scope(&controller);
    found = allocator.lookup(address);
  }
  if (!controller.acted()) fail(stack, "the lookup never reached its fault point (lookup.index.yield)");
  if (unmapped == 0) fail(stack, "free_unused_regions(0) unmapped nothing with every slice free");
  // What is mapped at the address now: the new region's slice, if it is there.
  std::string due;
  bool ok = false;
  if (other) {
    const std::size_t c2_bytes = class_bytes(static_cast<std::size_t>(c2));
    const std::byte* base = region_base(*other);
    if (address >= base && address < base + kDrillRegionBytes) {
      const auto offset = static_cast<std::size_t>(address - base);
      if (offset % c2_bytes != 0) {
        due = "InvalidPointer (inside a slice of the region mapped there since)";
        ok = !found.ok() && found.error().code == Errc::InvalidPointer &&
             std::strcmp(found.error().detail, "points inside a slice, not at its start") == 0;
      } else if (address == other->data()) {
        due = fmt::format("the live slice mapped there since (region {} slice {} generation {})", other->region_id(),
                          other->slice_index(), other->generation());
        ok = found.ok() && *found == *other;
      } else {
        due = "DoubleFree (a free slice of the region mapped there since)";
        ok = !found.ok() && found.error().code == Errc::DoubleFree;
      }
    }
  }
  if (due.empty()) {
    due = fmt::format("InvalidPointer, its region was unmapped while the lookup ran, naming class {}", c);
    ok = !found.ok() && found.error().code == Errc::InvalidPointer &&
         std::strcmp(found.error().detail, "its region was unmapped while the lookup ran") == 0 &&
         found.error().size_class == c;
  }
  if (!ok) {
    fail(stack, fmt::format("a lookup of a class-{} slice's start whose region was unmapped during the call{} "
                            "answered {}; due: {}",
                            c, other ? fmt::format(" (and a class-{} region mapped)", c2) : std::string(),
                            answer_text(found), due));
  }
  check_stale_release(stack, allocator, stale, other);
  if (other) {
    if (Status released = allocator.release(*other); !released.ok()) {
      fail(stack, "release of the new region's slice refused: " + released.error().describe());
    }
  }
}

}  // namespace
}  // namespace lookup_race_drill

void run_lookup_race_drill(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // only the drill's own controller acts
  auto os = make_episode_os(stack, rng, kDrillReservationBytes, "lookup-race");
  SegmentAllocatorConfig config;
  config.region_bytes = kDrillRegionBytes;
  config.budget_bytes = lookup_race_drill::kLookupBudgetBytes;
  config.thread_cache_bytes = 0;     // a released slice is free in the pool: its region can go
  config.proactive_cleanup = false;  // no task frees regions behind the drill
  auto allocator = make_episode_allocator(stack, *os, config, "lookup-race");
  for (int r = 0; r < lookup_race_drill::kRounds; ++r) lookup_race_drill::round(stack, *allocator, rng);
  if (const std::vector<std::string> audit = allocator->audit(); !audit.empty()) {
    stack.oracles.fail("accounting", "lookup-race drill: the allocator audits: " + audit.front());
  }
}

}  // namespace segsim::scenarios
