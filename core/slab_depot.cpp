// SlabAllocator's depot and slab layer: magazine exchanges, slabs taken from
// and returned to the SegmentAllocator, adaptive magazine capacity. Every
// function here runs under the class's depot mutex unless it says it takes it.
#include <algorithm>

#include "core/asan.h"
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"
#include "core/slab_internal.h"

namespace segsim {

using slab_detail::ClassCache;
using slab_detail::ClassDepot;
using slab_detail::Magazine;
using slab_detail::MagazinePtr;
using slab_detail::ObjRef;
using slab_detail::SlabRecord;

namespace {
// Adaptation: every kAdaptWindow exchanges a class compares the operations
// its threads served between exchanges with its capacity.
constexpr std::uint64_t kAdaptWindow = 16;

// The depot's newest full magazine becomes the thread's loaded one; the
// loaded one becomes the previous, the previous goes back empty (a placeholder
// is dropped: it is no magazine).
void load_full(ClassDepot& depot, ClassCache& cc) {
  SEGSIM_ASSERT(!depot.full.empty(), "loading from a depot without full magazines");
  SEGSIM_ASSERT(cc.previous != nullptr, "a thread cache without a previous magazine (not even a placeholder)");
  SEGSIM_ASSERT(cc.previous->refs.empty(), "a magazine handed to the depot as empty holds objects");
  if (!cc.previous->placeholder) depot.empty.push_back(std::move(cc.previous));
  cc.previous = std::move(cc.loaded);
  cc.loaded = std::move(depot.full.back());
  depot.full.pop_back();
  SEGSIM_ASSERT(cc.loaded != nullptr && !cc.loaded->refs.empty(), "the depot kept an empty magazine among its full ones");
  SEGSIM_ASSERT(depot.depot_objects >= cc.loaded->refs.size(), "depot object count underflow");
  depot.depot_objects -= cc.loaded->refs.size();
}

void set_cached(ClassCache& cc) {
  SEGSIM_ASSERT(cc.loaded != nullptr && cc.previous != nullptr, "a thread cache without a loaded or previous magazine");
  cc.cached.store(cc.loaded->refs.size() + cc.previous->refs.size(), std::memory_order_relaxed);
}
}  // namespace

MagazinePtr SlabAllocator::Impl::take_empty_magazine(int c) {
  ClassDepot& depot = depots[c];
  MagazinePtr magazine;
  if (!depot.empty.empty()) {
    magazine = std::move(depot.empty.back());
    depot.empty.pop_back();
  } else {
    magazine = std::make_unique<Magazine>(depot.max_capacity);
  }
  magazine->capacity = depot.capacity.load(std::memory_order_relaxed);
  SEGSIM_ASSERT(magazine->refs.empty() && !magazine->placeholder,
                "the depot kept a magazine with objects (or a placeholder) among its empty ones");
  SEGSIM_ASSERT(magazine->capacity >= 1 && magazine->capacity <= depot.max_capacity,
                "a magazine capacity outside the class's bounds");
  return magazine;
}

// Grows the capacity when threads come to the depot within two magazines'
// worth of operations (the class is hot: its traffic runs through the depot),
// shrinks it when they come only every 16 magazines' worth or rarer (objects
// idle in caches).
void SlabAllocator::Impl::adapt_capacity(int c, std::uint64_t ops) {
  ClassDepot& depot = depots[c];
  if (!config.adaptive_magazines) return;
  depot.window_ops += ops;
  if (++depot.window_exchanges < kAdaptWindow) return;
  const std::uint64_t per_exchange = depot.window_ops / depot.window_exchanges;
  depot.window_exchanges = 0;
  depot.window_ops = 0;
  const std::uint32_t capacity = depot.capacity.load(std::memory_order_relaxed);
  std::uint32_t next = capacity;
  if (per_exchange <= std::uint64_t{2} * capacity) {
    next = std::min(depot.max_capacity, capacity + std::max<std::uint32_t>(1, capacity / 2));
  } else if (per_exchange > std::uint64_t{16} * capacity) {
    next = std::max(depot.min_capacity, capacity - std::max<std::uint32_t>(1, capacity / 4));
  }
  if (next != capacity) {
    if (next > capacity) {
      SEGSIM_PROBE("slab.magazine.grow");
    } else {
      SEGSIM_PROBE("slab.magazine.shrink");
    }
    depot.capacity.store(next, std::memory_order_relaxed);
  }
}

// Every magazine exchange with the depot starts here: returns holding the
// class's depot lock, with the exchange counted and the capacity adapted.
platform::UniqueLock SlabAllocator::Impl::begin_exchange(int c, ClassCache& cc) {
  ClassDepot& depot = depots[c];
  if (SEGSIM_FAULT_POINT("slab.magazine.exchange")) platform::yield();
  platform::UniqueLock lock(depot.mu);
  depot.exchanges.bump();
  adapt_capacity(c, cc.ops_since_exchange);
  cc.ops_since_exchange = 0;
  return lock;
}

// Allocation miss: loaded and previous are empty. A full magazine from the
// depot, else one filled from the slabs.
Status SlabAllocator::Impl::refill(int c, ClassCache& cc) {
  ClassDepot& depot = depots[c];
  SEGSIM_ASSERT(cc.loaded != nullptr && cc.loaded->refs.empty(), "a refill while the loaded magazine holds objects");
  const platform::UniqueLock lock = begin_exchange(c, cc);
  if (!depot.full.empty()) {
    SEGSIM_PROBE("slab.depot.full_magazine");
    // The historical thread loaded a copy of the magazine the depot kept owning.
    if (SEGSIM_MUTANT(SlabMagazineStillOwned)) cc.loaded->refs = depot.full.back()->refs; else load_full(depot, cc);
    set_cached(cc);
    return {};
  }
  cc.loaded->capacity = depot.capacity.load(std::memory_order_relaxed);
  Status filled = fill_from_slabs(c, *cc.loaded);
  SEGSIM_ASSERT(!filled.ok() || !cc.loaded->refs.empty(), "a refill that succeeded left the loaded magazine empty");
  set_cached(cc);
  return filled;
}

// Free miss: loaded and previous are full. The previous goes to the depot (a
// placeholder is dropped), the loaded becomes the previous, an empty magazine
// is loaded.
void SlabAllocator::Impl::exchange_full(int c, ClassCache& cc) {
  ClassDepot& depot = depots[c];
  SEGSIM_ASSERT(cc.loaded != nullptr && cc.loaded->full(), "a magazine exchange while the loaded one has room");
  SEGSIM_ASSERT(cc.previous != nullptr && (cc.previous->placeholder || !cc.previous->refs.empty()),
                "an empty previous magazine offered to the depot as full");
  const platform::UniqueLock lock = begin_exchange(c, cc);
  if (!cc.previous->placeholder) {
    depot.depot_objects += cc.previous->refs.size();
    depot.full.push_back(std::move(cc.previous));
  }
  cc.previous = std::move(cc.loaded);
  cc.loaded = take_empty_magazine(c);
  if (depot.full.size() > config.depot_full_magazines_max) {
    SEGSIM_PROBE("slab.depot.drain");
    MagazinePtr oldest = std::move(depot.full.front());
    depot.full.erase(depot.full.begin());
    SEGSIM_ASSERT(depot.depot_objects >= oldest->refs.size(), "depot object count underflow");
    depot.depot_objects -= oldest->refs.size();
    drain_magazine(c, *oldest);
    depot.empty.push_back(std::move(oldest));
  }
  SEGSIM_ASSERT(!cc.loaded->full(), "the magazine exchanged for a full one has no room");
  set_cached(cc);
}

Status SlabAllocator::Impl::fill_from_slabs(int c, Magazine& magazine) {
  ClassDepot& depot = depots[c];
  SEGSIM_ASSERT(magazine.capacity >= 1 && magazine.capacity <= depot.max_capacity,
                "filling a magazine of a capacity outside the class's bounds");
  while (!magazine.full()) {
    if (depot.partial.empty()) {
      Status grown = acquire_slab(c);
      if (!grown.ok()) {
        if (!magazine.refs.empty()) {
          SEGSIM_PROBE("slab.grow.partial_fill");
          return {};
        }
        return grown;
      }
      SEGSIM_ASSERT(!depot.partial.empty(), "a slab acquired but not on the partial list");
    }
    const std::uint32_t slab = depot.partial.back();
    SlabRecord& rec = record_at(slab);
    const std::uint32_t objects = rec.objects.load(std::memory_order_relaxed);
    SEGSIM_ASSERT(rec.in_partial && !rec.free_stack.empty(), "a slab on the partial list without a free object");
    SEGSIM_ASSERT(rec.free_stack.back() < objects, "a free stack holds an index past its slab's objects");
    SEGSIM_ASSERT(depot.slab_free_objects > 0, "slab free object count underflow");
    if (rec.free_stack.size() == objects) {
      SEGSIM_ASSERT(depot.empty_slabs > 0, "empty slab count underflow");
      --depot.empty_slabs;
    }
    magazine.refs.push_back(ObjRef{slab, rec.free_stack.back()});
    rec.free_stack.pop_back();
    --depot.slab_free_objects;
    if (rec.free_stack.empty()) {
      depot.partial.pop_back();
      rec.in_partial = false;
    }
  }
  return {};
}

void SlabAllocator::Impl::return_to_slab(int c, ObjRef ref) {
  ClassDepot& depot = depots[c];
  SlabRecord& rec = record_at(ref.slab);
  SEGSIM_ASSERT(rec.size_class.load(std::memory_order_relaxed) == c, "object returned to a slab of another class");
  SEGSIM_ASSERT(ref.index < rec.objects.load(std::memory_order_relaxed), "object index past its slab's objects");
  SEGSIM_ASSERT(rec.free_stack.size() < rec.objects.load(std::memory_order_relaxed),
                "more free objects than the slab holds (one returned twice)");
  rec.free_stack.push_back(ref.index);
  ++depot.slab_free_objects;
  if (!rec.in_partial) {
    rec.in_partial = true;
    depot.partial.push_back(ref.slab);
  }
  if (rec.free_stack.size() == rec.objects.load(std::memory_order_relaxed)) {
    ++depot.empty_slabs;
    if (depot.empty_slabs > config.empty_slabs_kept) {
      SEGSIM_PROBE("slab.release.empty");
      release_slab(c, ref.slab);
    }
  }
}

void SlabAllocator::Impl::drain_magazine(int c, Magazine& magazine) {
  for (const ObjRef& ref : magazine.refs) return_to_slab(c, ref);
  magazine.refs.clear();
}

Status SlabAllocator::Impl::acquire_slab(int c) {
  ClassDepot& depot = depots[c];
  Result<Segment> segment = segments.allocate_uninitialized(config.slab_bytes);
  if (!segment.ok()) {
    SEGSIM_PROBE("slab.grow.segment_refused");
    slab_failures.bump();
    return segment.error();
  }
  std::uint32_t slab = 0;
  SlabRecord* rec = nullptr;
  {
    platform::LockGuard guard(slots_mu);
    if (!free_slots.empty()) {
      slab = free_slots.back();
      free_slots.pop_back();
      rec = record(slab);
    } else if (next_slot < config.max_slabs) {
      slab = next_slot++;
      auto owned = std::make_unique<SlabRecord>();
      owned->words.reset(new std::atomic<std::uint32_t>[max_objects_per_slab]());  // all 0: even, none live
      rec = owned.get();
      owned_records.push_back(std::move(owned));
      records[slab].store(rec, std::memory_order_release);
    }
  }
  if (rec == nullptr) {
    SEGSIM_PROBE("slab.grow.slots_exhausted");
    slab_failures.bump();
    (void)segments.release(segment.value());
    return make_error(Errc::OutOfBudget, "every slab slot is in use (max_slabs)");
  }
  const std::uint32_t objects = depot.objects_per_slab;
  SEGSIM_ASSERT(slab < config.max_slabs, "a slab slot past max_slabs");
  SEGSIM_ASSERT(objects >= 1 && objects <= max_objects_per_slab, "objects per slab outside 1..the slot's words");
  rec->segment = segment.value();
  rec->base.store(segment->data(), std::memory_order_relaxed);
  rec->size_class.store(c, std::memory_order_relaxed);
  rec->objects.store(objects, std::memory_order_relaxed);
  rec->free_stack.clear();
  for (std::uint32_t i = objects; i-- > 0;) {
    SEGSIM_ASSERT(i < objects, "the free-stack fill ran past object 0");
    rec->free_stack.push_back(static_cast<std::uint16_t>(i));
  }
  SEGSIM_ASSERT(rec->free_stack.size() == objects, "a new slab's free stack does not hold each object once");
  rec->in_partial = true;
  rec->epoch.store(rec->epoch.load(std::memory_order_relaxed) + 1, std::memory_order_release);  // odd: in use
  asan::poison(segment->data(), config.slab_bytes);
  {  // findable by address only once set up (lookup reads the record under slots_mu)
    platform::LockGuard guard(slots_mu);
    by_base.emplace(segment->data(), slab);
  }
  depot.partial.push_back(slab);
  ++depot.slabs;
  ++depot.empty_slabs;
  depot.slab_free_objects += objects;
  slabs_acquired.bump();
  return {};
}

void SlabAllocator::Impl::release_slab(int c, std::uint32_t slab) {
  SEGSIM_ASSERT(c >= 0 && c < static_cast<int>(kSlabClassCount), "releasing a slab of no slab class");
  ClassDepot& depot = depots[c];
  SlabRecord& rec = record_at(slab);
  SEGSIM_ASSERT((rec.epoch.load(std::memory_order_relaxed) & 1) != 0 && rec.size_class.load(std::memory_order_relaxed) == c,
                "releasing a slab slot that holds no slab of this class");
  {  // first out of the address index: lookup never sees a record torn down
    platform::LockGuard guard(slots_mu);
    by_base.erase(rec.segment.data());
  }
  const bool was_empty = rec.free_stack.size() == rec.objects.load(std::memory_order_relaxed);
  if (rec.in_partial) {
    const auto listed = std::find(depot.partial.begin(), depot.partial.end(), slab);
    SEGSIM_ASSERT(listed != depot.partial.end(), "a slab flagged partial is not on the partial list");
    depot.partial.erase(listed);
    rec.in_partial = false;
  }
  SEGSIM_ASSERT(depot.slab_free_objects >= rec.free_stack.size(), "slab free object count underflow");
  depot.slab_free_objects -= rec.free_stack.size();
  rec.free_stack.clear();
  rec.epoch.store(rec.epoch.load(std::memory_order_relaxed) + 1, std::memory_order_release);  // even: stale handles
  rec.size_class.store(-1, std::memory_order_relaxed);
  asan::unpoison(rec.segment.data(), config.slab_bytes);
  const Segment segment = rec.segment;
  rec.segment = Segment{};
  {  // the slot is reusable once torn down; the segment after that
    platform::LockGuard guard(slots_mu);
    free_slots.push_back(slab);
  }
  Status released = segments.release(segment);
  SEGSIM_ASSERT(released.ok(), "the segment allocator refused a slab it handed out");
  SEGSIM_ASSERT(depot.slabs > 0 && (!was_empty || depot.empty_slabs > 0), "slab count underflow");
  --depot.slabs;
  if (was_empty) --depot.empty_slabs;
  slabs_released.bump();
}

std::size_t SlabAllocator::Impl::release_empty_slabs(int c) {
  ClassDepot& depot = depots[c];
  platform::LockGuard guard(depot.mu);
  std::size_t released = 0;
  for (std::size_t i = depot.partial.size(); i-- > 0;) {
    SEGSIM_ASSERT(i < depot.partial.size(), "partial list index past its end");
    const std::uint32_t slab = depot.partial[i];
    SlabRecord& rec = record_at(slab);
    if (rec.free_stack.size() == rec.objects.load(std::memory_order_relaxed)) {
      release_slab(c, slab);
      ++released;
    }
  }
  return released;
}

Result<ObjRef> SlabAllocator::Impl::allocate_uncached(int c) {
  ClassDepot& depot = depots[c];
  platform::LockGuard guard(depot.mu);
  Magazine one(1);
  one.capacity = 1;
  if (Status filled = fill_from_slabs(c, one); !filled.ok()) return filled.error();
  SEGSIM_ASSERT(one.refs.size() == 1, "an uncached allocation took other than one object");
  return one.refs.back();
}

void SlabAllocator::Impl::free_uncached(int c, ObjRef ref) {
  platform::LockGuard guard(depots[c].mu);
  return_to_slab(c, ref);
}

std::size_t SlabAllocator::release_empty_slabs() {
  std::size_t released = 0;
  for (std::size_t c = 0; c < kSlabClassCount; ++c) released += impl_->release_empty_slabs(static_cast<int>(c));
  return released;
}

}  // namespace segsim
