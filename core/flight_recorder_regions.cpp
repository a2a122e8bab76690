// The flight recorder's table of mapped regions (flight_recorder_regions.h).
#include "core/flight_recorder_regions.h"

#include <atomic>

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/platform/clock.h"
#include "core/probe.h"

namespace segsim::flight_recorder::detail {

namespace {

// One noted region: key = allocator << 32 | region (0: empty, kRegionGone:
// freed, kRegionClaimed: being placed); the base is written before the key
// is published.
struct RegionEntry {
  std::atomic<std::uint64_t> key{0};
  std::atomic<std::uintptr_t> base{0};
};
constexpr std::uint64_t kRegionGone = ~std::uint64_t{0};
// Not kRegionGone: a placement claims only an empty or gone entry, so two
// threads placing keys at once never claim the same one.
constexpr std::uint64_t kRegionClaimed = ~std::uint64_t{0} - 1;
// Rounds of the farthest placement's compare-exchange: far more than the
// threads that can race it (each failure means another raised it, or spurious).
constexpr std::size_t kMaxProbeUpdateRounds = std::size_t{1} << 20;

RegionEntry g_regions[kRegionTableEntries];
// The farthest any key was placed from its home entry. Entries are freed as
// "gone", never back to empty (a reader may be probing past them), so a
// process that creates many allocators (a fuzzer: one per input) fills the
// table with gone entries and a search that ran to an empty one would scan it
// all; a key is never beyond this distance, so searches stop there.
std::atomic<std::size_t> g_max_probe{0};

// Never 0 (empty): an allocator id is never 0; nor a marker: no allocator
// maps region ids near 2^32 (a region table holds budget / region entries).
std::uint64_t key_of(std::uint32_t allocator, std::uint32_t region) noexcept {
  return std::uint64_t{allocator} << 32 | region;
}

std::size_t home_of(std::uint64_t key) noexcept {
  return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> 50) & (kRegionTableEntries - 1);
}

// The entry holding `key`, or null. Probes until an empty entry or the
// farthest placement (freed ones are passed over: a key may sit beyond them).
RegionEntry* find(std::uint64_t key) noexcept {
  const std::size_t max_probe = g_max_probe.load(std::memory_order_acquire);
  for (std::size_t n = 0, i = home_of(key); n <= max_probe; ++n, i = (i + 1) & (kRegionTableEntries - 1)) {
    const std::uint64_t k = g_regions[i].key.load(std::memory_order_acquire);
    if (k == key) return &g_regions[i];
    if (k == 0) return nullptr;
  }
  return nullptr;
}

}  // namespace

void note_region_mapped(std::uint32_t allocator, std::uint32_t region, std::uintptr_t base) {
  const std::uint64_t key = key_of(allocator, region);
  if (RegionEntry* entry = find(key); entry != nullptr) {  // mapped again: its new base
    entry->base.store(base, std::memory_order_release);
    return;
  }
  // A region id is mapped by one thread at a time (its class lock); other
  // keys race for free entries through the compare-exchange.
  for (std::size_t n = 0, i = home_of(key); n < kRegionTableEntries; ++n, i = (i + 1) & (kRegionTableEntries - 1)) {
    std::uint64_t k = g_regions[i].key.load(std::memory_order_acquire);
    if (k == kRegionClaimed) {
      SEGSIM_PROBE("recorder.regions.passed_claimed");
      continue;
    }
    if (k != 0 && k != kRegionGone) continue;
    // The base is published with the key; until then the entry is claimed (skipped by readers).
    if (!g_regions[i].key.compare_exchange_strong(k, kRegionClaimed, std::memory_order_acq_rel)) continue;
    g_regions[i].base.store(base, std::memory_order_relaxed);
    if (n > 0) SEGSIM_PROBE("recorder.regions.displaced");
    std::size_t max_probe = g_max_probe.load(std::memory_order_relaxed);
    // Others place keys meanwhile, nearer or farther from their homes: the
    // farthest placement only grows, whatever the order of the updates.
    if (SEGSIM_FAULT_POINT("recorder.regions.claim.yield")) {
      try {
        platform::yield();
      } catch (...) {  // a simulation ending its run cancels the fiber here: the entry is free again
        g_regions[i].key.store(kRegionGone, std::memory_order_release);
        throw;
      }
    }
    // Each failed exchange reloads the farthest placement, which only grows:
    // the loop settles within a few rounds per racing placement. Bounded, so
    // a fault here fails loudly instead of spinning.
    for (std::size_t rounds = 0;
         n > max_probe && !g_max_probe.compare_exchange_weak(max_probe, n, std::memory_order_acq_rel); ++rounds) {
      SEGSIM_ASSERT(rounds < kMaxProbeUpdateRounds, "the farthest placement's update never settled");
    }
    g_regions[i].key.store(key, std::memory_order_release);
    return;
  }
}

void forget_region(std::uint32_t allocator, std::uint32_t region) noexcept {
  if (RegionEntry* entry = find(key_of(allocator, region)); entry != nullptr) {
    entry->key.store(kRegionGone, std::memory_order_release);
  }
}

std::uintptr_t region_base(std::uint32_t allocator, std::uint32_t region) noexcept {
  const RegionEntry* entry = find(key_of(allocator, region));
  return entry == nullptr ? 0 : entry->base.load(std::memory_order_acquire);
}

std::size_t region_home_entry(std::uint32_t allocator, std::uint32_t region) noexcept {
  return home_of(key_of(allocator, region));
}

std::size_t region_entry(std::uint32_t allocator, std::uint32_t region) noexcept {
  const RegionEntry* entry = find(key_of(allocator, region));
  return entry == nullptr ? kRegionTableEntries : static_cast<std::size_t>(entry - g_regions);
}

std::size_t region_max_displacement() noexcept { return g_max_probe.load(std::memory_order_acquire); }

}  // namespace segsim::flight_recorder::detail
