// refusal-fields: a refused release or reset of a handle names that handle
// and the rule that refused it.
// The Error is what a caller logs and what the flight recorder and every
// failure report read, so a refusal that carries another address, size class
// or generation than the handle it refused sends a diagnosis to the wrong
// slice. A handle of a class past the largest (forged, corrupted) is named
// as it came too; only a null handle has nothing to name. Checked on every
// refusal the observer hears of.
// A DoubleFree also says what the slice is now: its live generation, or 0
// when free or its region was unmapped since. The ownership model changes in
// step with the slice's generation word (both under the class lock, or with no
// scheduling point between them on a thread cache's path), so when no slice
// changed during the call, the model now is what the allocator read.
#include <fmt/format.h>

#include "scenarios/oracles/error_text.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_refusal_fields(const char* call, const Segment& segment, const Error& error) {
  // Every refusal says which rule refused it, and its line reads as error-text says.
  if (error.detail == nullptr || error.detail[0] == '\0') {
    report("refusal-fields", fmt::format("the refused {} of region #{} slice {} says no rule: '{}'", call,
                                         segment.region_id(), segment.slice_index(), error.describe()),
           segment.data());
  }
  if (auto problem = error_text_problem(error, error.describe())) report("error-text", *problem, segment.data());
  if (segment.is_null()) return;
  const auto address = reinterpret_cast<std::uintptr_t>(segment.data());
  if (error.address == address && error.size_class == segment.size_class() &&
      error.generation == segment.generation()) {
    return;
  }
  auto name = [&](std::uintptr_t a) { return stable_address_name(a).value_or(fmt::format("{:#x}", a)); };
  report("refusal-fields",
         fmt::format("the refused {} of {} (class {}, generation {}) carries address {}, class {}, generation {}",
                     call, name(address), segment.size_class(), segment.generation(), name(error.address),
                     error.size_class, error.generation),
         segment.data());
}

void Oracles::check_live_generation(const char* call, const Segment& segment, const Error& error,
                                    std::uint64_t window) {
  if (error.code != Errc::DoubleFree || window != ownership_.slice_events()) return;
  const std::uint32_t due = ownership_.generation_now(segment);
  if (error.live_generation == due) return;
  fail("refusal-fields",
       fmt::format("the refused {} of region #{} slice {} (generation {}) as a double free says the slice's "
                   "generation now is {}; the model says {} ({})",
                   call, segment.region_id(), segment.slice_index(), segment.generation(), error.live_generation,
                   due, due == 0 ? "free, or its region unmapped since" : "live"),
       segment.data());
}

}  // namespace segsim::scenarios
