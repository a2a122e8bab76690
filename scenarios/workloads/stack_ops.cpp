// stack_ops.h: the checks a shared stack allows. Page ids are published once
// and never again, so an id erased from the cache stays out of it.
#include "scenarios/workloads/stack_ops.h"

#include <fmt/format.h>

#include "core/platform/clock.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/page_work.h"

namespace segsim::scenarios {

namespace {
enum Op : std::size_t {
  kMain, kErase, kCacheStats, kPoolStats, kAllocatorStats, kLookupPinned, kMovePin, kLookupHeld, kOpCount
};
// The main path keeps most of the steps: a rare call in roughly one step of five.
constexpr std::uint32_t kMainWeightFactor = 4;

sim::Rng mix_rng(const Stack& stack, std::string_view scenario) {
  return sim::Rng(sim::derive_seed(stack.seed, fmt::format("workload.{}.stack-ops.mix", scenario)));
}
}  // namespace

StackOps::StackOps(Stack& stack, std::string_view scenario, std::uint32_t index, bool on)
    : stack_(stack),
      on_(on),
      rng_(stack.simulation.stream(fmt::format("workload.{}.stack-ops.{}", scenario, index))),
      mix_([&] {
        sim::Rng rng = mix_rng(stack, scenario);
        return OpMix(rng, kOpCount, {kMain});
      }()) {}

void StackOps::between(std::span<const Segment> held) {
  if (!on_) return;
  // The main path's share: kMainWeightFactor extra draws of it.
  for (std::uint32_t i = 0; i < kMainWeightFactor; ++i) {
    if (mix_.pick(rng_) == kMain) return;
  }
  switch (static_cast<Op>(mix_.pick(rng_))) {
    case kMain: return;
    case kErase: return erase();
    case kCacheStats: return cache_stats();
    case kPoolStats: return pool_stats();
    case kAllocatorStats: return allocator_stats();
    case kLookupPinned: return lookup_pinned(false);
    case kMovePin: return lookup_pinned(true);
    case kLookupHeld: return lookup_held(held);
    case kOpCount: return;
  }
}

std::uint64_t StackOps::published_id() {
  return stack_.next_page_id <= 1 ? 0 : 1 + rng_.below(stack_.next_page_id - 1);
}

void StackOps::erase() {
  const std::uint64_t id = published_id();
  if (id == 0 || !stack_.cache.erase(id)) return;
  // Erased, handed back to the pool (or on its last unpin): never again in the cache.
  if (auto handle = stack_.cache.get(id)) {
    stack_.oracles.fail("cache", fmt::format("page {} was erased from the cache, yet get() still finds it", id));
  }
}

void StackOps::cache_stats() {
  const PageCacheStats stats = stack_.cache.stats();
  // Counters only grow. (Not "deferred <= evictions": a deferred eviction
  // is counted at the unpin, under the lock, its hand-over after the
  // listener ran — a snapshot in between sees more deferred than handed over.)
  if (stats.hits < last_cache_.hits || stats.misses < last_cache_.misses || stats.evictions < last_cache_.evictions ||
      stats.deferred_evictions < last_cache_.deferred_evictions) {
    stack_.oracles.fail("cache", fmt::format("cache stats went back: hits {} → {}, misses {} → {}, evictions {} → {}, "
                                             "deferred {} → {}",
                                             last_cache_.hits, stats.hits, last_cache_.misses, stats.misses,
                                             last_cache_.evictions, stats.evictions, last_cache_.deferred_evictions,
                                             stats.deferred_evictions));
  }
  last_cache_ = stats;
}

void StackOps::pool_stats() {
  const LeafPagePoolStats stats = stack_.pool.stats();
  if (stats.created < last_pool_.created || stats.reused < last_pool_.reused ||
      stats.given_back < last_pool_.given_back || stats.idle > stats.created ||
      &stack_.pool.allocator() != &stack_.allocator) {
    stack_.oracles.fail("pool", fmt::format("pool stats went back or disagree: created {} → {}, reused {} → {}, "
                                            "given back {} → {}, {} idle",
                                            last_pool_.created, stats.created, last_pool_.reused, stats.reused,
                                            last_pool_.given_back, stats.given_back, stats.idle));
  }
  last_pool_ = stats;
}

void StackOps::allocator_stats() {
  const std::uint64_t events = stack_.oracles.slice_events();
  const AllocatorStats stats = stack_.allocator.stats();
  const bool alone = events == stack_.oracles.slice_events();
  if (alone && (stats.live_slices() != stack_.oracles.model_live_slices() ||
                stats.live_bytes() != stack_.oracles.model_live_bytes())) {
    stack_.oracles.fail("accounting", fmt::format("stats() reports {} live slices of {} bytes; the model holds {} of {}",
                                                  stats.live_slices(), stats.live_bytes(),
                                                  stack_.oracles.model_live_slices(), stack_.oracles.model_live_bytes()));
  }
  if (stats.cleanups_finished() > stats.cleanups_started()) {
    stack_.oracles.fail("accounting", fmt::format("stats() reports {} cleanups finished of {} started",
                                                  stats.cleanups_finished(), stats.cleanups_started()));
  }
  if (stats.peak_virtual_bytes < stats.virtual_bytes) {
    stack_.oracles.fail("accounting", fmt::format("stats() reports a peak of {} virtual bytes below the {} mapped now",
                                                  stats.peak_virtual_bytes, stats.virtual_bytes));
  }
  stack_.oracles.check_counters_grow(last_allocator_, stats);
  last_allocator_ = stats;
}

// A pinned page's segments are live: lookup of their start returns them. A
// moved pin keeps its key and page; the page still reads as published.
void StackOps::lookup_pinned(bool move) {
  const std::uint64_t id = published_id();
  if (id == 0) return;
  PageCache::Handle handle = stack_.cache.get(id);
  if (!handle) return;
  if (handle.key() != id) stack_.oracles.fail("cache", fmt::format("get({}) pinned key {}", id, handle.key()));
  if (move) {
    LeafPage* page = handle.page();
    PageCache::Handle moved;
    moved = std::move(handle);
    PageCache::Handle& same = moved;  // self-assignment keeps the pin
    moved = std::move(same);
    if (handle || moved.key() != id || moved.page() != page) {
      stack_.oracles.fail("cache", "a moved handle changed its key or page, or its source still pins");
    }
    platform::yield();  // evictions race the moved pin
    return verify_page(stack_, id, *moved.page());
  }
  const Segment segment = handle.page()->slot_segment();
  if (segment.is_null()) return;
  Result<Segment> found = stack_.allocator.lookup(segment.data());
  if (!found || !(*found == segment)) {
    if (!found) check_error_text(stack_.oracles, found.error());
    stack_.oracles.fail("lookup", fmt::format("lookup of pinned page {}'s slot segment: {}", id,
                                              found ? std::string("another handle") : found.error().describe()),
                        segment.data());
  }
}

void StackOps::lookup_held(std::span<const Segment> held) {
  if (held.empty()) return;
  const Segment& segment = held[rng_.below(held.size())];
  Result<Segment> found = stack_.allocator.lookup(segment.data());
  if (!found || !(*found == segment)) {
    stack_.oracles.fail("lookup", "lookup of a held segment's start did not return its handle", segment.data());
  }
}

}  // namespace segsim::scenarios
