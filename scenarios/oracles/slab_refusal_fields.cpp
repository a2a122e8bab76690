// refusal-fields (slab objects): a refused free of a handle names that handle
// — its address and generation — and a DoubleFree names the generation the
// object has now: the live generation of whoever holds it, or 0 when it is
// free or its slab was given back since. That is what a caller logs and what
// a report reads to say "freed twice, reused since by ...". The ownership
// model (slab_ownership.cpp) says which: the live hand-out at the object's
// offset, if it is of the handle's slab incarnation. Hand-out and free update
// the model with no scheduling point between them and the object's generation
// word, so at a refusal the model is the word.
#include <fmt/format.h>

#include "scenarios/oracles/slab_oracles.h"

namespace segsim::scenarios {

void SlabOracles::expect_refused(const Status& got, Errc expected, const char* doing, const SlabObject& handle) {
  expect_refused(got, expected, doing, handle.data());
  check_refusal_fields(handle, got.error());
}

void SlabOracles::expect_refused_pointer(const Status& got, Errc expected, const char* doing,
                                         const std::byte* given) {
  expect_refused(got, expected, doing, given);
  if (got.error().address != reinterpret_cast<std::uintptr_t>(given)) {
    hub_.fail("refusal-fields", fmt::format("the refused {} of {} carries address {:#x}", doing, name(given),
                                            got.error().address),
              given);
  }
}

void SlabOracles::check_refusal_fields(const SlabObject& handle, const Error& error) {
  const auto address = reinterpret_cast<std::uintptr_t>(handle.data());
  if (error.address != address || error.generation != handle.generation()) {
    hub_.fail("refusal-fields",
              fmt::format("the refused free of {} (generation {}) carries address {:#x}, generation {}",
                          name(handle.data()), handle.generation(), error.address, error.generation),
              handle.data());
  }
  if (error.code != Errc::DoubleFree) return;
  std::uint32_t live_now = 0;
  if (const auto offset = os_.offset_of(handle.data())) {
    if (auto it = live_.find(*offset);
        it != live_.end() && it->second.slab == handle.slab_id() && it->second.epoch == handle.slab_epoch()) {
      live_now = it->second.generation;
    }
  }
  if (error.live_generation != live_now) {
    hub_.fail("refusal-fields",
              fmt::format("the refused double free of {} (generation {}) says the object's generation now is {}; "
                          "the model says {}",
                          name(handle.data()), handle.generation(), error.live_generation, live_now),
              handle.data());
  }
}

}  // namespace segsim::scenarios
