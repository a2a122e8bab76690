// SlabAllocator: the public paths (allocate, free, lookup) and the lock-free
// handle check. The depot and slab layer is in slab_depot.cpp, the per-thread
// caches in slab_thread_cache.cpp, stats and audit in slab_audit.cpp.
#include "core/slab_allocator.h"

#include "core/flight_recorder.h"

#include <atomic>

#include "core/asan.h"
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"
#include "core/slab_internal.h"

namespace segsim {

using slab_detail::ClassCache;
using slab_detail::ObjRef;
using slab_detail::SlabRecord;
using slab_detail::ThreadCache;

namespace {

// Allocator identities, carried by every handle: never 0, never repeated.
constinit detail::IdCounter g_slab_allocator_ids{1};
constexpr std::size_t kMaxSlabSlots = std::size_t{1} << 24;
constexpr std::uint32_t kMaxMagazineCapacity = 1024;

Status validate(const SlabAllocatorConfig& config) {
  if (class_of(config.slab_bytes) < 0 || class_bytes(static_cast<std::size_t>(class_of(config.slab_bytes))) != config.slab_bytes ||
      config.slab_bytes < kSlabLargestObjectBytes) {
    return make_error(Errc::InvalidConfig, "slab_bytes must be a segment class of at least 4 KiB");
  }
  for (std::uint32_t capacity : config.magazine_capacity) {
    if (capacity == 0 || capacity > kMaxMagazineCapacity) {
      return make_error(Errc::InvalidConfig, "magazine_capacity must be in 1..1024");
    }
  }
  if (config.max_slabs == 0 || config.max_slabs > kMaxSlabSlots) {
    return make_error(Errc::InvalidConfig, "max_slabs must be in 1..2^24");
  }
  return {};
}

}  // namespace

detail::IdCounter& detail::slab_allocator_ids() noexcept { return g_slab_allocator_ids; }

SlabAllocator::Impl::Impl(SegmentAllocator& segments_in, const SlabAllocatorConfig& cfg, std::uint32_t id_in)
    : segments(segments_in),
      config(cfg),
      id(id_in),
      max_objects_per_slab(static_cast<std::uint32_t>(cfg.slab_bytes / kSlabClassBytes[0])),
      records(new std::atomic<SlabRecord*>[cfg.max_slabs]) {
  for (std::size_t s = 0; s < cfg.max_slabs; ++s) records[s].store(nullptr, std::memory_order_relaxed);
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    auto& depot = depots[c];
    depot.objects_per_slab = static_cast<std::uint32_t>(cfg.slab_bytes / kSlabClassBytes[c]);
    const std::uint32_t initial = cfg.magazine_capacity[c];
    depot.min_capacity = cfg.adaptive_magazines ? std::max<std::uint32_t>(1, initial / 2) : initial;
    depot.max_capacity = cfg.adaptive_magazines ? std::min(kMaxMagazineCapacity, initial * 2) : initial;
    depot.capacity.store(initial, std::memory_order_relaxed);
  }
}

Result<std::unique_ptr<SlabAllocator>> SlabAllocator::create(SegmentAllocator& segments, SlabAllocatorConfig config) {
  if (Status valid = validate(config); !valid.ok()) {
    SEGSIM_PROBE("slab.config.invalid");
    return valid.error();
  }
  const std::uint32_t id = g_slab_allocator_ids.take();
  if (id == 0) [[unlikely]] {
    SEGSIM_PROBE("slab.create.ids_exhausted");
    return make_error(Errc::OutOfMemory, detail::kIdsExhausted);
  }
  auto slab = std::unique_ptr<SlabAllocator>(new SlabAllocator(std::make_unique<Impl>(segments, config, id)));
  if (flight_recorder::on()) {
    flight_recorder::detail::SlabNote note;
    note.allocator = slab->impl_->id;
    note.slab_bytes = config.slab_bytes;
    for (std::size_t c = 0; c < kSlabClassCount; ++c) note.magazine_capacity[c] = config.magazine_capacity[c];
    note.adaptive = config.adaptive_magazines;
    note.depot_full_magazines_max = config.depot_full_magazines_max;
    note.empty_slabs_kept = config.empty_slabs_kept;
    note.max_slabs = config.max_slabs;
    flight_recorder::detail::note_slab(note);
  }
  return slab;
}

SlabAllocator::SlabAllocator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Every slab goes back whole, live objects and cached ones included (their
// memory dies with us); no free list is walked, so this works whatever state
// a failed run left behind.
SlabAllocator::~SlabAllocator() {
  impl_->caches.detach_all();  // cached objects die with their slabs
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    auto& depot = impl_->depots[c];
    platform::LockGuard guard(depot.mu);
    depot.full.clear();
    depot.depot_objects = 0;
  }
  for (std::uint32_t s = 0; s < impl_->next_slot; ++s) {
    SlabRecord* rec = impl_->record(s);
    if (!holds_slab(rec)) continue;
    const int c = rec->size_class.load();
    SEGSIM_ASSERT(c >= 0 && c < static_cast<int>(kSlabClassCount), "a slab in use without a size class");
    platform::LockGuard guard(impl_->depots[static_cast<std::size_t>(c)].mu);
    impl_->release_slab(c, s);
  }
}

const SlabAllocatorConfig& SlabAllocator::config() const noexcept { return impl_->config; }
SegmentAllocator& SlabAllocator::segments() const noexcept { return impl_->segments; }

Error SlabAllocator::Impl::refuse(Error error) const {
  if (error.code == Errc::DoubleFree) {
    const_cast<Impl*>(this)->double_frees.bump();
  } else {
    const_cast<Impl*>(this)->invalid_pointers.bump();
  }
  return error;
}

// ---------------------------------------------------------------------------
// allocate

SlabObject SlabAllocator::Impl::hand_out(int c, ObjRef ref, std::uint32_t cache_id) {
  SlabRecord* rec = record(ref.slab);
  SEGSIM_ASSERT(rec != nullptr && rec->size_class.load(std::memory_order_relaxed) == c,
                "magazine held an object of another class");
  // Debug-only: a load the fast path does not otherwise make.
  SEGSIM_DEBUG_ASSERT(ref.index < rec->objects.load(std::memory_order_relaxed),
                      "magazine held an index past its slab's objects");
  std::atomic<std::uint32_t>& word = rec->words[ref.index];
  const std::uint32_t generation = word.load(std::memory_order_relaxed) + 1;
  SlabObject object;
  object.data_ = rec->base.load(std::memory_order_relaxed) + std::size_t{ref.index} * kSlabClassBytes[c];
  object.allocator_ = id;
  object.slab_ = ref.slab;
  object.epoch_ = rec->epoch.load(std::memory_order_relaxed);
  object.generation_ = generation;
  object.cache_ = cache_id;
  object.index_ = ref.index;
  object.size_class_ = static_cast<std::uint8_t>(c);
  if (config.observer != nullptr) config.observer->handing_out(object);
  SEGSIM_ASSERT((generation & 1) != 0, "a free list held a live object");
  word.store(generation, std::memory_order_release);
  asan::unpoison(object.data_, kSlabClassBytes[c]);
  return object;
}

Result<SlabObject> SlabAllocator::allocate(std::size_t bytes) {
  flight_recorder::Scope scope;
  Result<SlabObject> got = allocate_unrecorded(bytes);
  if (flight_recorder::on()) [[unlikely]] {
    const SlabObject object = got.ok() ? got.value() : SlabObject{};
    flight_recorder::record_object_operation(flight_recorder::Op::SlabAllocate, impl_->id, object.slab_id(),
                                             object.index(), object.generation(), object.slab_epoch(), bytes,
                                             got.ok() ? object.size_class() : slab_class_of(bytes),
                                             got.ok() ? nullptr : &got.error());
  }
  return got;
}

Result<SlabObject> SlabAllocator::allocate_unrecorded(std::size_t bytes) {
  const int c = slab_class_of(bytes);
  if (c < 0) {
    if (bytes == 0) {
      SEGSIM_PROBE("slab.invalid_size.zero");
      return make_error(Errc::InvalidSize, "zero bytes requested");
    }
    SEGSIM_PROBE("slab.invalid_size.too_large");
    return make_error(Errc::InvalidSize, "larger than the 4 KiB slab class");
  }
  ThreadCache* cache = impl_->cache_for_caller();
  if (cache == nullptr) {  // a thread past its thread-local destruction
    SEGSIM_PROBE("slab.alloc.uncached");
    Result<ObjRef> ref = impl_->allocate_uncached(c);
    if (!ref.ok()) return ref.error();
    SlabObject object = impl_->hand_out(c, ref.value(), 0);
    // No cache to count it in: counted with the retired caches' counters, or
    // stats() and audit() would miss it (live objects = allocations - frees).
    platform::LockGuard guard(impl_->caches.registry_mu);
    impl_->retired[c].allocations += 1;
    impl_->retired[c].requested_bytes += bytes;
    return object;
  }
  ClassCache& cc = cache->classes[c];
  SEGSIM_ASSERT(cc.loaded != nullptr && cc.previous != nullptr, "a thread cache without a loaded or previous magazine");
  ++cc.ops_since_exchange;
  // previous is never null (a placeholder when there is none, empty), so this
  // test reads no null pointer whatever it is.
  if (cc.loaded->refs.empty() && !cc.previous->refs.empty()) {
    std::swap(cc.loaded, cc.previous);
    // Postcondition: only an empty loaded magazine is swapped, only for one
    // holding objects.
    SEGSIM_ASSERT(!cc.loaded->refs.empty() && cc.previous->refs.empty() && !cc.loaded->placeholder,
                  "the allocate swap exchanged other than an empty loaded magazine for a previous one with objects");
  }
  if (!cc.loaded->refs.empty()) {
    cc.fast_allocations.add(1);
  } else if (Status refilled = impl_->refill(c, cc); !refilled.ok()) {
    return refilled.error();  // nothing changed but the depot's adaptation window
  }
  cc.allocations.add(1);
  cc.requested_bytes.add(bytes);
  SEGSIM_ASSERT(!cc.loaded->refs.empty(), "allocating from an empty loaded magazine");
  const ObjRef ref = cc.loaded->refs.back();
  cc.loaded->refs.pop_back();
  const std::size_t cached = cc.cached.load(std::memory_order_relaxed);
  SEGSIM_ASSERT(cached > 0, "cached object count underflow");
  cc.cached.store(cached - 1, std::memory_order_relaxed);
  return impl_->hand_out(c, ref, cache->id);
}

// ---------------------------------------------------------------------------
// free

// Validates `object` against the slot it names without a lock, then flips its
// generation from live to free with one CAS: of two racing frees of one
// handle exactly one wins, the other is a DoubleFree.
namespace {
// Built only on a refusal: the success path constructs no Error.
[[gnu::cold, gnu::noinline]] Error claim_error(const SlabObject& object, Errc code, const char* detail,
                                                std::uint32_t live_generation = 0) {
  Error error = make_error(code, detail);
  error.address = reinterpret_cast<std::uintptr_t>(object.data());
  error.generation = object.generation();
  error.live_generation = live_generation;
  return error;
}

// Which rule refuses a handle whose slab record cannot be trusted: claim()
// tests the three at once, one branch on its hot path, and names the rule
// only when it refuses.
[[gnu::cold, gnu::noinline]] const char* unknown_slab_rule(const void* record, const SlabObject& object) {
  if (record == nullptr) {
    SEGSIM_PROBE("slab.free.no_slab");
    return "no such slab";
  }
  if (object.size_class() >= static_cast<int>(kSlabClassCount)) {
    SEGSIM_PROBE("slab.free.no_such_class");
    return "a size class past the largest";
  }
  SEGSIM_PROBE("slab.free.even_epoch");
  return "an even slab epoch, which no slab in use has";
}
}  // namespace

Status SlabAllocator::Impl::claim(const SlabObject& object) {
  if (object.is_null() || object.allocator_ != id) [[unlikely]] {
    SEGSIM_PROBE("slab.free.foreign");
    return refuse(claim_error(object, Errc::InvalidPointer,
                              object.is_null() ? "null handle" : "a handle of another allocator"));
  }
  SlabRecord* rec = record(object.slab_);
  if (rec == nullptr || object.size_class_ >= kSlabClassCount || (object.epoch_ & 1) == 0) [[unlikely]] {
    return refuse(claim_error(object, Errc::InvalidPointer, unknown_slab_rule(rec, object)));
  }
  // What the refusal above guarantees, for every use of rec and the class below.
  SEGSIM_ASSERT(rec != nullptr && object.size_class_ < kSlabClassCount,
                "claim went on with no slab record or no size class (a weakened refusal)");
  if (rec->epoch.load(std::memory_order_acquire) != object.epoch_) [[unlikely]] {
    SEGSIM_PROBE("slab.free.stale_slab");
    return refuse(claim_error(object, Errc::DoubleFree, "its slab was returned since"));
  }
  const int c = rec->size_class.load(std::memory_order_relaxed);
  if (c != object.size_class_) [[unlikely]] {
    SEGSIM_PROBE("slab.free.wrong_class");
    return refuse(claim_error(object, Errc::InvalidPointer, "the object belongs to another class"));
  }
  if (object.index_ >= rec->objects.load(std::memory_order_relaxed)) [[unlikely]] {
    SEGSIM_PROBE("slab.free.index_out_of_range");
    return refuse(claim_error(object, Errc::InvalidPointer, "a slot past its slab's objects"));
  }
  if (rec->base.load(std::memory_order_relaxed) + std::size_t{object.index_} * kSlabClassBytes[c] != object.data_)
      [[unlikely]] {
    SEGSIM_PROBE("slab.free.not_object_start");
    return refuse(claim_error(object, Errc::InvalidPointer, "not the start of the object its slot names"));
  }
  std::uint32_t expected = object.generation_;
  if ((expected & 1) == 0 ||
      !rec->words[object.index_].compare_exchange_strong(expected, object.generation_ + 1, std::memory_order_acq_rel))
      [[unlikely]] {
    SEGSIM_PROBE("slab.free.double_free");
    // A handle of even generation was never live: no compare-exchange read
    // the object's word, and the refusal must say what the object is now.
    if ((object.generation_ & 1) == 0) expected = rec->words[object.index_].load(std::memory_order_acquire);
    return refuse(claim_error(object, Errc::DoubleFree, "the object is not live under this handle",
                              (expected & 1) != 0 ? expected : 0));
  }
  return {};
}

Status SlabAllocator::free(const SlabObject& object) {
  flight_recorder::Scope scope;
  Status freed = free_unrecorded(object);
  if (flight_recorder::on()) [[unlikely]] {
    flight_recorder::record_object_operation(flight_recorder::Op::SlabFree, impl_->id, object.slab_id(),
                                             object.index(), object.generation(), object.slab_epoch(), 0,
                                             object.is_null() ? -1 : object.size_class(),
                                             freed.ok() ? nullptr : &freed.error());
  }
  return freed;
}

Status SlabAllocator::free_unrecorded(const SlabObject& object) {
  if (Status claimed = impl_->claim(object); !claimed.ok()) return claimed;
  const int c = object.size_class_;
  if (impl_->config.observer != nullptr) impl_->config.observer->released(object);
  asan::poison(object.data_, kSlabClassBytes[c]);
  const ObjRef ref{object.slab_, object.index_};
  ThreadCache* cache = impl_->cache_for_caller();
  if (cache == nullptr) {
    SEGSIM_PROBE("slab.free.uncached");
    impl_->free_uncached(c, ref);
    platform::LockGuard guard(impl_->caches.registry_mu);  // as an uncached allocation
    impl_->retired[c].frees += 1;
    return {};
  }
  ClassCache& cc = cache->classes[c];
  SEGSIM_ASSERT(cc.loaded != nullptr && cc.previous != nullptr, "a thread cache without a loaded or previous magazine");
  cc.frees.add(1);
  ++cc.ops_since_exchange;
  if (object.cache_ != cache->id) {
    SEGSIM_PROBE("slab.free.remote");
    cc.remote_frees.add(1);
    if (SEGSIM_MUTANT(SlabRemoteFreeCountedTwice)) cc.frees.add(1);
    // The hand-over: the object is free (its generation says so) but in no
    // magazine yet; a simulation may run others here.
    if (SEGSIM_FAULT_POINT("slab.remote_free.handover")) platform::yield();
  }
  // A placeholder (no previous magazine) is empty but has no room: never swapped in.
  if (cc.loaded->full() && !cc.previous->placeholder && cc.previous->refs.empty()) {
    std::swap(cc.loaded, cc.previous);
    // Postcondition: only a full loaded magazine is swapped, only for an empty one.
    SEGSIM_ASSERT(cc.loaded->refs.empty() && !cc.loaded->placeholder && cc.previous->full(),
                  "the free swap exchanged other than a full loaded magazine for an empty previous one");
  }
  if (!cc.loaded->full()) {
    cc.fast_frees.add(1);
  } else {
    impl_->exchange_full(c, cc);
  }
  SEGSIM_ASSERT(cc.loaded->refs.size() < cc.loaded->capacity, "freeing into a full loaded magazine");
  cc.loaded->refs.push_back(ref);
  cc.cached.store(cc.cached.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return {};
}

Result<SlabObject> SlabAllocator::lookup(const std::byte* data) const {
  Error error = make_error(Errc::InvalidPointer, "not inside a slab");
  error.address = reinterpret_cast<std::uintptr_t>(data);
  std::uint32_t object_epoch = 0;
  std::uint32_t slab = 0;
  SlabRecord* rec = nullptr;
  int c = -1;
  std::uint16_t index = 0;
  {  // a slab in by_base is set up and not being torn down (slab_depot.cpp)
    platform::LockGuard guard(impl_->slots_mu);
    auto it = impl_->by_base.upper_bound(data);
    if (it == impl_->by_base.begin() || data >= std::prev(it)->first + impl_->config.slab_bytes) {
      SEGSIM_PROBE("slab.lookup.foreign");
      return impl_->refuse(error);
    }
    --it;
    slab = it->second;
    rec = &impl_->record_at(slab);
    c = rec->size_class.load(std::memory_order_relaxed);
    SEGSIM_ASSERT(c >= 0 && c < static_cast<int>(kSlabClassCount), "an indexed slab without a size class");
    const std::size_t offset = static_cast<std::size_t>(data - it->first);
    if (offset % kSlabClassBytes[c] != 0 || offset / kSlabClassBytes[c] >= rec->objects.load()) {
      SEGSIM_PROBE("slab.lookup.inside_object");
      error.detail = "inside an object, not at its start";
      return impl_->refuse(error);
    }
    index = static_cast<std::uint16_t>(offset / kSlabClassBytes[c]);
    object_epoch = rec->epoch.load(std::memory_order_acquire);
  }
  const std::uint32_t word = rec->words[index].load(std::memory_order_acquire);
  if ((word & 1) == 0) {
    SEGSIM_PROBE("slab.lookup.free_object");
    error.code = Errc::DoubleFree;
    error.detail = "the object is free";
    return impl_->refuse(error);
  }
  SlabObject object;
  object.data_ = const_cast<std::byte*>(data);
  object.allocator_ = impl_->id;
  object.slab_ = slab;
  object.epoch_ = object_epoch;
  object.generation_ = word;
  object.cache_ = 0;  // unknown: a free through it counts as remote
  object.index_ = index;
  object.size_class_ = static_cast<std::uint8_t>(c);
  return object;
}

Status SlabAllocator::free(const std::byte* data, std::size_t bytes) {
  Result<SlabObject> object = lookup(data);
  if (!object.ok()) return object.error();
  if (slab_class_of(bytes) != object->size_class()) {
    SEGSIM_PROBE("slab.free.wrong_class");
    Error error = make_error(Errc::InvalidPointer, "the object belongs to another class than the size given");
    error.address = reinterpret_cast<std::uintptr_t>(data);
    return impl_->refuse(error);
  }
  return free(object.value());
}

void SlabAllocator::flush_thread_cache() {
  flight_recorder::Scope scope;
  flight_recorder::record_object_operation(flight_recorder::Op::SlabFlush, impl_->id, 0, 0, 0, 0, 0, -1, nullptr);
  // Never makes a cache: a thread (fiber) without one has nothing to flush.
  if (ThreadCache* cache = impl_->caches.existing_for_caller(); cache != nullptr) impl_->flush_cache(*cache);
}

}  // namespace segsim
