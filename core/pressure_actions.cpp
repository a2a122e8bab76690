#include "core/pressure_actions.h"

#include "core/assert.h"

namespace segsim {

void StackPressureActions::shrink_cache(std::size_t pages) {
  if (targets_.cache == nullptr) return;
  const std::size_t evicted = targets_.cache->shrink(pages);
  SEGSIM_ASSERT(evicted <= pages, "the cache evicted more pages than asked");
  pages_evicted_ += evicted;
}

void StackPressureActions::release_regions_and_spans() {
  if (targets_.segments != nullptr) (void)targets_.segments->free_unused_regions(0);
  if (targets_.large != nullptr) (void)targets_.large->unmap_free_spans(0);
}

void StackPressureActions::gentle_eviction() {
  shrink_cache(config_.gentle_pages);
  if (targets_.large != nullptr) (void)targets_.large->decommit_idle();
}

void StackPressureActions::aggressive_eviction() {
  shrink_cache(config_.aggressive_pages);
  if (targets_.large != nullptr) (void)targets_.large->decommit_idle(0);
  release_regions_and_spans();
}

void StackPressureActions::emergency_cleanup() {
  shrink_cache(SIZE_MAX);
  if (targets_.large != nullptr) (void)targets_.large->decommit_idle(0);
  release_regions_and_spans();
}

void StackPressureActions::refuse_new_arenas(bool refuse) {
  if (targets_.refuse_arenas) targets_.refuse_arenas(refuse);
}

std::size_t StackPressureActions::reclaimable_bytes() const {
  std::size_t bytes = 0;
  if (targets_.cache != nullptr) bytes += targets_.cache->stats().bytes;
  if (targets_.large != nullptr) bytes += targets_.large->stats().free_bytes;
  return bytes;
}

}  // namespace segsim
