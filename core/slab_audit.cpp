// SlabAllocator::stats() and audit(): counters summed over thread caches,
// and every accounting invariant checked object by object.
#include <set>

#include <fmt/format.h>

#include "core/slab_internal.h"

namespace segsim {

using slab_detail::ClassCache;
using slab_detail::ClassDepot;
using slab_detail::ObjRef;
using slab_detail::SlabRecord;
using slab_detail::ThreadCache;

std::size_t SlabStats::live_objects() const noexcept {
  std::size_t n = 0;
  for (const auto& c : classes) n += c.live_objects;
  return n;
}

std::size_t SlabStats::cached_objects() const noexcept {
  std::size_t n = 0;
  for (const auto& c : classes) n += c.cached_objects + c.depot_objects;
  return n;
}

double SlabStats::fast_path_hit_rate() const noexcept {
  std::uint64_t all = 0, fast = 0;
  for (const auto& c : classes) {
    all += c.allocations + c.frees;
    fast += c.fast_allocations + c.fast_frees;
  }
  return all == 0 ? 0.0 : static_cast<double>(fast) / static_cast<double>(all);
}

namespace {

std::vector<std::shared_ptr<ThreadCache>> all_caches(const SlabAllocator::Impl& impl) {
  return impl.caches.all();
}

}  // namespace

SlabStats SlabAllocator::stats() const {
  SlabStats stats;
  // The retired totals and the live caches in one look (ThreadCaches::all):
  // a thread exiting meanwhile is counted once, so no count goes down from one
  // snapshot to a later one.
  const auto caches = impl_->caches.all([&] {
    for (std::size_t c = 0; c < kSlabClassCount; ++c) {
      // stats() reads, it judges nothing (audit() does): a class past the
      // last is this loop's own mistake, an index past every per-class array.
      SEGSIM_ASSERT(c < kSlabClassCount, "stats() past the last slab class");
      const auto& r = impl_->retired[c];
      auto& s = stats.classes[c];
      s.allocations = r.allocations;
      s.fast_allocations = r.fast_allocations;
      s.frees = r.frees;
      s.fast_frees = r.fast_frees;
      s.remote_frees = r.remote_frees;
      s.requested_bytes = r.requested_bytes;
    }
  });
  for (const auto& cache : caches) {
    for (std::size_t c = 0; c < kSlabClassCount; ++c) {
      SEGSIM_ASSERT(c < kSlabClassCount, "stats() past the last slab class");
      const ClassCache& cc = cache->classes[c];
      auto& s = stats.classes[c];
      s.allocations += cc.allocations.get();
      s.fast_allocations += cc.fast_allocations.get();
      s.frees += cc.frees.get();
      s.fast_frees += cc.fast_frees.get();
      s.remote_frees += cc.remote_frees.get();
      s.requested_bytes += cc.requested_bytes.get();
      s.cached_objects += cc.cached.load(std::memory_order_relaxed);
    }
  }
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    SEGSIM_ASSERT(c < kSlabClassCount, "stats() past the last slab class");
    const ClassDepot& depot = impl_->depots[c];
    auto& s = stats.classes[c];
    platform::LockGuard guard(depot.mu);
    s.object_bytes = kSlabClassBytes[c];
    s.objects_per_slab = depot.objects_per_slab;
    s.slabs = depot.slabs;
    s.empty_slabs = depot.empty_slabs;
    s.slab_free_objects = depot.slab_free_objects;
    s.depot_objects = depot.depot_objects;
    s.magazine_capacity = depot.capacity.load(std::memory_order_relaxed);
    s.depot_exchanges = depot.exchanges.get();
    s.live_objects = s.allocations >= s.frees ? static_cast<std::size_t>(s.allocations - s.frees) : 0;
  }
  stats.slabs_acquired = impl_->slabs_acquired.get();
  stats.slabs_released = impl_->slabs_released.get();
  stats.slab_failures = impl_->slab_failures.get();
  stats.double_frees = impl_->double_frees.get();
  stats.invalid_pointers = impl_->invalid_pointers.get();
  stats.thread_caches = caches.size();
  return stats;
}

namespace {

struct ClassAudit {
  std::set<ObjRef> free_refs;  // seen once each
  std::size_t duplicates = 0, foreign = 0, live_words = 0;
};

void note_free(const SlabAllocator::Impl& impl, int c, ObjRef ref, ClassAudit& audit) {
  SlabRecord* rec = impl.record(ref.slab);
  if (!holds_slab(rec) || rec->size_class.load() != c ||
      (rec->words[ref.index].load() & 1) != 0) {
    ++audit.foreign;
  }
  if (!audit.free_refs.insert(ref).second) ++audit.duplicates;
}

// Every slot made holds a slab or is on the free slot list, once: a slot lost
// from both is never reused, and the table fills up for good.
void audit_slots(const SlabAllocator::Impl& impl, std::vector<std::string>& violations) {
  platform::LockGuard guard(impl.slots_mu);
  std::vector<bool> listed(impl.next_slot, false);
  for (const std::uint32_t slab : impl.free_slots) {
    if (slab >= impl.next_slot || listed[slab]) {
      violations.push_back(fmt::format("slab slot {} is on the free slot list twice or was never made", slab));
      continue;
    }
    listed[slab] = true;
    const SlabRecord* rec = impl.record(slab);
    if (holds_slab(rec)) {
      violations.push_back(fmt::format("slab slot {} is on the free slot list and holds a slab", slab));
    } else if (rec != nullptr &&
               (rec->size_class.load() != -1 || rec->in_partial || rec->segment.data() != nullptr)) {
      // Torn down only in part: acquiring the slot sets all three again, but
      // whatever reads a free slot's record meanwhile would see a slab.
      violations.push_back(fmt::format("slab slot {} is on the free slot list but keeps its slab's class, segment "
                                       "or partial flag", slab));
    }
  }
  for (std::uint32_t slab = 0; slab < impl.next_slot; ++slab) {
    if (!holds_slab(impl.record(slab)) && !listed[slab]) {
      violations.push_back(fmt::format("slab slot {} holds no slab and is not on the free slot list", slab));
    }
  }
}

}  // namespace

std::vector<std::string> SlabAllocator::audit() const {
  std::vector<std::string> violations;
  const SlabStats stats = this->stats();
  const auto caches = all_caches(*impl_);
  std::uint32_t slots = 0;
  {
    platform::LockGuard guard(impl_->slots_mu);
    slots = impl_->next_slot;
  }
  for (std::size_t ci = 0; ci < kSlabClassCount; ++ci) {
    const int c = static_cast<int>(ci);
    const ClassDepot& depot = impl_->depots[ci];
    const SlabClassStats& s = stats.classes[ci];
    platform::LockGuard guard(depot.mu);
    ClassAudit audit;
    std::size_t slabs = 0, empty_slabs = 0, slab_free = 0, partial = 0;
    for (std::uint32_t slab = 0; slab < slots; ++slab) {
      SlabRecord* rec = impl_->record(slab);
      if (!holds_slab(rec) || rec->size_class.load() != c) continue;
      ++slabs;
      const std::uint32_t objects = rec->objects.load();
      for (std::uint32_t i = 0; i < objects; ++i) audit.live_words += rec->words[i].load() & 1;
      for (std::uint16_t index : rec->free_stack) note_free(*impl_, c, ObjRef{slab, index}, audit);
      slab_free += rec->free_stack.size();
      empty_slabs += rec->free_stack.size() == objects ? 1 : 0;
      partial += rec->in_partial ? 1 : 0;
      if (rec->in_partial != !rec->free_stack.empty()) {
        violations.push_back(fmt::format("slab class {} B: slab {} partial-list flag disagrees with its free list", s.object_bytes, slab));
      }
      if (!impl_->segments.lookup(rec->segment.data()).ok()) {
        violations.push_back(fmt::format("slab class {} B: slab {} is not a live segment", s.object_bytes, slab));
      }
    }
    std::size_t depot_objects = 0;
    for (const auto& magazine : depot.full) {
      depot_objects += magazine->refs.size();
      for (ObjRef ref : magazine->refs) note_free(*impl_, c, ref, audit);
    }
    std::size_t cached = 0;
    for (const auto& cache : caches) {
      const ClassCache& cc = cache->classes[ci];
      for (const auto* magazine : {cc.loaded.get(), cc.previous.get()}) {
        if (magazine == nullptr) continue;
        cached += magazine->refs.size();
        for (ObjRef ref : magazine->refs) note_free(*impl_, c, ref, audit);
      }
    }
    auto expect = [&](const char* what, std::size_t counted, std::size_t recorded) {
      if (counted != recorded) {
        violations.push_back(fmt::format("slab class {} B: {} counted {} but recorded {}", s.object_bytes, what, counted, recorded));
      }
    };
    expect("slabs", slabs, depot.slabs);
    expect("empty slabs", empty_slabs, depot.empty_slabs);
    expect("partial slabs", partial, depot.partial.size());
    expect("slab free objects", slab_free, depot.slab_free_objects);
    expect("depot objects", depot_objects, depot.depot_objects);
    expect("cached objects", cached, s.cached_objects);
    expect("live objects (generation words vs allocations - frees)", audit.live_words, s.live_objects);
    expect("objects (live + free vs slab capacity)", audit.live_words + audit.free_refs.size(),
           slabs * depot.objects_per_slab);
    if (s.allocations < s.frees) {
      violations.push_back(fmt::format("slab class {} B: {} frees exceed {} allocations", s.object_bytes, s.frees, s.allocations));
    }
    if (audit.duplicates != 0) {
      violations.push_back(fmt::format("slab class {} B: {} free object(s) listed twice", s.object_bytes, audit.duplicates));
    }
    if (audit.foreign != 0) {
      violations.push_back(fmt::format("slab class {} B: {} free-listed object(s) live or not of this class", s.object_bytes, audit.foreign));
    }
  }
  audit_slots(*impl_, violations);
  return violations;
}

}  // namespace segsim
