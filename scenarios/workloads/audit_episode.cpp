// The audit episode: see audit_episode.h.
#include "scenarios/workloads/audit_episode.h"

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/large_object_allocator.h"
#include "core/large_object_state.h"
#include "core/segment_allocator_impl.h"
#include "core/size_class.h"
#include "core/slab_internal.h"
#include "core/txn_arena_state.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/audit_detection.h"
#include "scenarios/workloads/swarm.h"

namespace segsim {

namespace {

// Breaks, audits, restores, audits again: the oracle judges both answers.
// The restore runs before the oracle may throw, so no instance is destroyed
// broken.
struct Breaker {
  scenarios::Stack& stack;
  const char* layer;
  std::function<std::vector<std::string>()> audit;
  template <class Break, class Restore>
  void check(const char* corruption, std::string_view phrase, Break&& brk, Restore&& restore) {
    brk();
    const std::vector<std::string> broken = audit();
    restore();
    const std::vector<std::string> restored = audit();
    scenarios::check_audit_detects(stack.oracles, layer, corruption, phrase, broken, restored);
  }
  void setup_failed(const std::string& what) { stack.oracles.fail("exception", fmt::format("audit episode: {}", what)); }
};

}  // namespace

// The test-only seam: a friend of the four classes (and of TxnArena), defined
// only here.
struct AuditSeam {
  static void segments(Breaker& b, SegmentAllocator& allocator, const Segment& live, const Segment& other_class) {
    SegmentAllocator::Impl& impl = *allocator.impl_;
    const int c = live.size_class();
    detail::ClassPool& pool = impl.classes[static_cast<std::size_t>(c)];
    detail::Region& region = impl.table.at(live.region_id());
    detail::SliceState& slice = region.slice(live.slice_index());
    b.check("a region of another class", "has class", [&] { region.size_class = other_class.size_class(); },
            [&] { region.size_class = c; });
    b.check("a region left detached", "detached at quiescence", [&] { region.state = detail::RegionState::Releasing; },
            [&] { region.state = detail::RegionState::Active; });
    b.check("a live slice marked free", "free slices by state", [&] { slice.generation.store(0); },
            [&] { slice.generation.store(live.generation()); });
    b.check("a slice's touched flag flipped", "touched count", [&] { slice.touched = !slice.touched; },
            [&] { slice.touched = !slice.touched; });
    b.check("the partial flag flipped", "partial flag", [&] { region.in_partial_list = !region.in_partial_list; },
            [&] { region.in_partial_list = !region.in_partial_list; });
    b.check("a region marked freed with live slices", "has live slices",
            [&] { region.state = detail::RegionState::Freed; }, [&] { region.state = detail::RegionState::Active; });
    if (!region.free_stack().empty()) {
      detail::SliceState& free_slice = region.slice(region.free_stack().back());
      b.check("a free-stack slice marked live", "bad free-stack entry", [&] { free_slice.generation.store(7); },
              [&] { free_slice.generation.store(0); });
      // Entries rewritten in place, the stack's size and the counts kept: only
      // the entries' own check can see them.
      std::uint32_t& first = region.free_stack_.front();
      const std::uint32_t was = first;
      if (region.free_stack_.size() >= 2) {
        b.check("a free-stack entry listed twice", "bad free-stack entry", [&] { first = region.free_stack_.back(); },
                [&] { first = was; });
      }
      b.check("a free-stack entry past the last slice", "bad free-stack entry",
              [&] { first = region.slice_count(); }, [&] { first = was; });
    }
    // The setup's released slices sit in the episode's cache: one listed twice.
    for (const auto& cache : impl.caches.all()) {
      detail::ClassSliceCache& cached = cache->classes[static_cast<std::size_t>(c)];
      if (cached.count == 0 || cached.count >= detail::kMaxCachedSlices) continue;
      b.check("a cached slice listed twice", "bad cached slice",
              [&] {
                cached.slots[cached.count] = cached.slots[0];
                cached.set_count(cached.count + 1);
              },
              [&] { cached.set_count(cached.count - 1); });
      break;
    }
    auto counter = [&](const char* what, std::string_view phrase, std::size_t& value) {
      b.check(what, phrase, [&] { ++value; }, [&] { --value; });
    };
    counter("the live count off by one", "live count", pool.live_slices);
    counter("the free count off by one", "free count", pool.free_slices);
    counter("the touched count off by one", "touched count", pool.touched_slices);
    b.check("a freed-queue entry too many", "freed queue", [&] { pool.freed_queue.push_back(live.region_id()); },
            [&] { pool.freed_queue.pop_back(); });
    b.check("an unused-slot entry too many", "unused slots", [&] { pool.unused_slots.push_back(live.region_id()); },
            [&] { pool.unused_slots.pop_back(); });
    b.check("a partial-list entry too many", "partial list", [&] { pool.partial.push_back(live.region_id()); },
            [&] { pool.partial.pop_back(); });
    b.check("the cleanup guard left set", "cleanup guard", [&] { pool.cleanup_in_progress.store(true); },
            [&] { pool.cleanup_in_progress.store(false); });
    const std::size_t virtual_bytes = impl.virtual_bytes;
    b.check("virtual bytes off by a region", "mapped regions x", [&] { impl.virtual_bytes += impl.config.region_bytes; },
            [&] { impl.virtual_bytes = virtual_bytes; });
    b.check("virtual bytes over the budget", "over budget", [&] { impl.virtual_bytes = impl.config.budget_bytes + 1; },
            [&] { impl.virtual_bytes = virtual_bytes; });
    const auto entry = impl.by_address.find(region.base());
    if (entry == impl.by_address.end()) return b.setup_failed("a live region is not in the address index");
    b.check("an address-index entry missing", "address index has", [&] { impl.by_address.erase(region.base()); },
            [&] { impl.by_address.emplace(region.base(), live.region_id()); });
    b.check("an address-index entry naming another region", "is stale",
            [&] { impl.by_address[region.base()] = other_class.region_id(); },
            [&] { impl.by_address[region.base()] = live.region_id(); });
    cached(b, impl, c, other_class.region_id());
  }

  // The thread caches' invariants, when the calling fiber's cache holds a slice of class `c`.
  static void cached(Breaker& b, SegmentAllocator::Impl& impl, int c, std::uint32_t other_region) {
    if (!impl.caches_enabled) return;
    for (const auto& cache : impl.caches.all()) {
      detail::ClassSliceCache& cc = cache->classes[static_cast<std::size_t>(c)];
      if (cc.count == 0) continue;
      const std::size_t granted = cache->granted_bytes.load();
      b.check("a cache holding more than its grant", "granted", [&] { cache->granted_bytes.store(0); },
              [&] { cache->granted_bytes.store(granted); });
      b.check("the caches' grants miscounted", "thread caches granted", [&] { impl.caches_granted_bytes.fetch_add(1); },
              [&] { impl.caches_granted_bytes.fetch_sub(1); });
      detail::CachedSlice& slot = cc.slots[0];
      const std::uint32_t region = slot.region;
      b.check("a cached slice of another class's region", "not a region of the class",
              [&] { slot.region = other_region; }, [&] { slot.region = region; });
      b.check("a cached slice marked live", "bad cached slice", [&] { slot.state->generation.store(5); },
              [&] { slot.state->generation.store(0); });
      // The first index out of range: the audit's bound is exact.
      const std::uint16_t slice = slot.slice;
      const auto past_last = static_cast<std::uint16_t>(impl.table.at(region).slice_count());
      b.check("a cached slice one past its region's last", "bad cached slice", [&] { slot.slice = past_last; },
              [&] { slot.slice = slice; });
      return;
    }
  }

  static void slab(Breaker& b, SlabAllocator& allocator, int c, const SlabObject& live, const SlabObject& other_class) {
    SlabAllocator::Impl& impl = *allocator.impl_;
    slab_detail::ClassDepot& depot = impl.depots[static_cast<std::size_t>(c)];
    auto counter = [&](const char* what, std::string_view phrase, std::size_t& value) {
      b.check(what, phrase, [&] { ++value; }, [&] { --value; });
    };
    counter("the slab count off by one", "slabs counted", depot.slabs);
    counter("the empty-slab count off by one", "empty slabs counted", depot.empty_slabs);
    counter("the slabs' free objects off by one", "slab free objects", depot.slab_free_objects);
    counter("the depot's objects off by one", "depot objects", depot.depot_objects);
    b.check("a partial-list entry too many", "partial slabs", [&] { depot.partial.push_back(live.slab_id()); },
            [&] { depot.partial.pop_back(); });
    slab_detail::SlabRecord* rec = impl.record(live.slab_id());
    if (rec == nullptr) return b.setup_failed("a live object's slab has no record");
    b.check("a slab's partial flag flipped", "partial-list flag", [&] { rec->in_partial = !rec->in_partial; },
            [&] { rec->in_partial = !rec->in_partial; });
    b.check("a live object on its slab's free list", " 1 free-listed object(s) live or not of this class",
            [&] { rec->free_stack.push_back(static_cast<std::uint16_t>(live.index())); },
            [&] { rec->free_stack.pop_back(); });
    // A free object of a slab of another class, held by a magazine of this class's depot.
    if (slab_detail::SlabRecord* other = impl.record(other_class.slab_id()); other != nullptr && !other->free_stack.empty()) {
      const slab_detail::ObjRef foreign{other_class.slab_id(), other->free_stack.back()};
      b.check("another class's free object in the depot", " 1 free-listed object(s) live or not of this class",
              [&] {
                auto magazine = std::make_unique<slab_detail::Magazine>(1);
                magazine->refs.push_back(foreign);
                depot.full.push_back(std::move(magazine));
                ++depot.depot_objects;
              },
              [&] {
                depot.full.pop_back();
                --depot.depot_objects;
              });
    }
    if (!rec->free_stack.empty()) {
      b.check("a free object listed twice", " 1 free object(s) listed twice", [&] { rec->free_stack.push_back(rec->free_stack.back()); },
              [&] { rec->free_stack.pop_back(); });
    }
    const Segment segment = rec->segment;
    b.check("a slab whose segment is not live", "not a live segment", [&] { rec->segment = Segment(); },
            [&] { rec->segment = segment; });
    // A released slab's slot (the episode releases one): torn down whole.
    if (slab_detail::SlabRecord* freed = impl.free_slots.empty() ? nullptr : impl.record(impl.free_slots.back());
        freed != nullptr) {
      constexpr std::string_view kKept = "on the free slot list but keeps its slab's class, segment or partial flag";
      b.check("a free slot that keeps a class", kKept, [&] { freed->size_class.store(c); },
              [&] { freed->size_class.store(-1); });
      b.check("a free slot that keeps its partial flag", kKept, [&] { freed->in_partial = true; },
              [&] { freed->in_partial = false; });
      b.check("a free slot that keeps a segment", kKept, [&] { freed->segment = segment; },
              [&] { freed->segment = Segment(); });
    } else {
      b.setup_failed("no slab slot on the free slot list");
    }
    b.check("a live slab's slot on the free slot list", "is on the free slot list and holds a slab",
            [&] { impl.free_slots.push_back(live.slab_id()); }, [&] { impl.free_slots.pop_back(); });
    b.check("a slot never made on the free slot list", "twice or was never made",
            [&] { impl.free_slots.push_back(impl.next_slot); }, [&] { impl.free_slots.pop_back(); });
    if (impl.next_slot < impl.config.max_slabs) {  // a slot made (no record yet) and lost
      b.check("a slab slot lost from the free slot list", "holds no slab and is not on the free slot list",
              [&] { ++impl.next_slot; }, [&] { --impl.next_slot; });
    }
    // The first slot lost, too: the audit's walk of the slots starts at 0.
    // Off the free slot list if it is there, else its slab's mark cleared.
    if (slab_detail::SlabRecord* first = impl.record(0); first != nullptr) {
      const auto listed = std::find(impl.free_slots.begin(), impl.free_slots.end(), 0u);
      const std::ptrdiff_t at = listed - impl.free_slots.begin();
      constexpr std::string_view kFirstLost = "slab slot 0 holds no slab and is not on the free slot list";
      if (listed != impl.free_slots.end()) {
        b.check("the first slab slot lost from the free slot list", kFirstLost,
                [&] { impl.free_slots.erase(impl.free_slots.begin() + at); },
                [&] { impl.free_slots.insert(impl.free_slots.begin() + at, 0u); });
      } else if (slab_detail::holds_slab(first)) {
        b.check("the first slab slot's slab mark cleared", kFirstLost, [&] { first->epoch.fetch_xor(1); },
                [&] { first->epoch.fetch_xor(1); });
      }
    }
    auto& retired = impl.retired[static_cast<std::size_t>(c)];
    // stats() meanwhile: the class's live objects 0, never a wrapped count
    // (slab_allocator.h); judged after the restore.
    std::size_t live_with_frees_ahead = 0;
    b.check("more frees than allocations", "exceed",
            [&] {
              retired.frees += 1u << 20;
              live_with_frees_ahead = allocator.stats().classes[static_cast<std::size_t>(c)].live_objects;
            },
            [&] { retired.frees -= 1u << 20; });
    if (live_with_frees_ahead != 0) {
      b.stack.oracles.fail("slab-accounting",
                           fmt::format("stats() with more frees than allocations counted in class {} says {} live "
                                       "object(s); 0 was due, never a wrapped count",
                                       c, live_with_frees_ahead));
    }
    for (const auto& cache : impl.caches.all()) {
      auto& cached = cache->classes[static_cast<std::size_t>(c)].cached;
      b.check("the cached objects miscounted", "cached objects counted", [&] { cached.fetch_add(1); },
              [&] { cached.fetch_sub(1); });
      break;
    }
  }

  static void arenas(Breaker& b, TxnArenaManager& manager, TxnArena& root, TxnArena& child) {
    TxnArenaManager::State& s = *manager.state_;
    b.check("reserved bytes off by one", "live arenas hold", [&] { ++s.reserved_bytes; }, [&] { --s.reserved_bytes; });
    b.check("a chunk taken too many", "chunks taken", [&] { ++s.chunks_taken; }, [&] { --s.chunks_taken; });
    b.check("a live child too many", "live children", [&] { ++root.live_children_; }, [&] { --root.live_children_; });
    const std::size_t tree = root.tree_reserved_;
    b.check("the tree's reserve off by one", "tree reserves", [&] { ++root.tree_reserved_; },
            [&] { root.tree_reserved_ = tree; });
    b.check("the tree past its profile's limit", "over its profile's limit",
            [&] { root.tree_reserved_ = profile_spec(root.profile_).limit_bytes + 1; },
            [&] { root.tree_reserved_ = tree; });
    if (child.chunks_.empty() || root.chunks_.empty()) return b.setup_failed("an arena without a chunk");
    const std::size_t used = child.used_bytes_;
    b.check("more bytes used than reserved", "bytes used but only",
            [&] { child.used_bytes_ = child.reserved_bytes() + 1; }, [&] { child.used_bytes_ = used; });
    TxnArena::Chunk& chunk = child.chunks_.front();
    const std::size_t chunk_used = chunk.used;
    b.check("a chunk used past its end", "used past its end", [&] { chunk.used = chunk.segment.size() + 1; },
            [&] { chunk.used = chunk_used; });
    b.check("a chunk listed twice", "listed twice", [&] { child.spare_.push_back(root.chunks_.front()); },
            [&] { child.spare_.pop_back(); });
    b.check("a chunk that is not a live segment", "not a live segment",
            [&] { child.spare_.push_back(TxnArena::Chunk{}); }, [&] { child.spare_.pop_back(); });
    decltype(s.live)::node_type node;
    b.check("a child whose parent has ended", "has ended", [&] { node = s.live.extract(root.id_); },
            [&] { s.live.insert(std::move(node)); });
  }

  static void large(Breaker& b, LargeObjectAllocator& allocator, const LargeObject& first) {
    LargeObjectAllocator::State& s = *allocator.state_;
    const std::size_t granule = allocator.config().granule_bytes;
    b.check("live bytes off by one", "live objects hold", [&] { ++s.live_bytes; }, [&] { --s.live_bytes; });
    b.check("free bytes off by one", "free ranges hold", [&] { ++s.free_bytes; }, [&] { --s.free_bytes; });
    b.check("mapped bytes off by one", "spans hold", [&] { ++s.counters.mapped_bytes; },
            [&] { --s.counters.mapped_bytes; });
    const large_objects::Key key{first.span_id(), first.offset()};
    auto live = s.live.find(key);
    if (live == s.live.end() || s.free_by_address.empty()) return b.setup_failed("no live object or free range");
    const std::size_t bytes = live->second.bytes;
    b.check("a live range past its neighbour", "overlaps", [&] { live->second.bytes = bytes + granule; },
            [&] { live->second.bytes = bytes; });
    b.check("a live range off the granule", "granule-aligned", [&] { live->second.bytes = bytes - 1; },
            [&] { live->second.bytes = bytes; });
    decltype(s.live)::node_type node;
    b.check("a live range lost", "leaves a gap", [&] { node = s.live.extract(key); },
            [&] { s.live.insert(std::move(node)); });
    b.check("a range of an unmapped span", "not mapped", [&] { s.live.emplace(large_objects::Key{~0u, 0}, s.live.at(key)); },
            [&] { s.live.erase(large_objects::Key{~0u, 0}); });
    auto& span = s.spans.at(first.span_id());
    // At the span's end: no overlap, no gap, aligned — only its length is wrong.
    const large_objects::Key empty_key{first.span_id(), span.bytes};
    b.check("an empty range", "granule-aligned",
            [&] {
              auto empty = s.live.at(key);
              empty.bytes = 0;
              s.live.emplace(empty_key, empty);
            },
            [&] { s.live.erase(empty_key); });
    b.check("a span longer than its ranges", "ranges cover", [&] { span.bytes += granule; },
            [&] { span.bytes -= granule; });
    b.check("a span's live count off by one", "live objects, its count says", [&] { ++span.live_objects; },
            [&] { --span.live_objects; });
    b.check("a span's decommit count off", "being decommitted, its count says", [&] { span.in_flight_bytes += granule; },
            [&] { span.in_flight_bytes -= granule; });
    const auto by_size = s.free_by_size;
    b.check("the size index emptied", "missing from the size index", [&] { s.free_by_size.clear(); },
            [&] { s.free_by_size = by_size; });
    // A free range split in two, not coalesced (only when it spans two granules).
    auto range = s.free_by_address.begin();
    if (range->second.bytes < 2 * granule) return;
    const auto whole = s.free_by_address;
    b.check("adjacent free ranges", "not coalesced",
            [&] {
              auto half = range->second;
              half.bytes = granule;
              range->second.bytes -= granule;
              s.free_by_address.emplace(large_objects::Key{range->first.first, range->first.second + range->second.bytes}, half);
            },
            [&] { s.free_by_address = whole; });
  }
};

namespace scenarios {

void run_audit_episode(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // setup must not fail: every case runs
  faults::SimOsConfig os_config;
  os_config.reservation_bytes = std::size_t{64} << 20;
  os_config.seed = rng.next();
  auto os = faults::SimOs::create(os_config);
  Breaker setup{stack, "setup", {}};
  if (!os.ok()) return setup.setup_failed("SimOs: " + os.error().describe());
  SegmentAllocatorConfig config;
  config.region_bytes = draw_one<std::size_t>(rng, {kAuditRegionBytes[0], kAuditRegionBytes[1]});
  config.budget_bytes = kAuditBudgetBytes;
  config.proactive_cleanup = false;  // no async task may touch the instance while it is broken
  auto segments = SegmentAllocator::create(*os.value(), config);
  if (!segments.ok()) return setup.setup_failed("allocator: " + segments.error().describe());
  SegmentAllocator& allocator = *segments.value();
  // Live, free and cached slices of one class, one live slice of another.
  const std::size_t c = rng.below(3);
  std::vector<Segment> held;
  for (int i = 0; i < 6; ++i) {
    Result<Segment> got = allocator.allocate(class_bytes(c));
    if (!got.ok()) return setup.setup_failed("allocate: " + got.error().describe());
    held.push_back(got.value());
  }
  Result<Segment> other = allocator.allocate(class_bytes(c + 3));
  if (!other.ok()) return setup.setup_failed("allocate: " + other.error().describe());
  for (int i = 0; i < 2; ++i) {
    if (!allocator.release(held.back()).ok()) return setup.setup_failed("release of a live segment refused");
    held.pop_back();
  }
  Breaker segment_breaker{stack, "SegmentAllocator", [&] { return allocator.audit(); }};
  if (!allocator.audit().empty()) return setup.setup_failed("the allocator audits unclean: " + allocator.audit().front());
  AuditSeam::segments(segment_breaker, allocator, held.front(), other.value());

  {
    auto slab = SlabAllocator::create(allocator);
    if (!slab.ok()) return setup.setup_failed("slab: " + slab.error().describe());
    const std::size_t bytes = kSlabClassBytes[rng.below(kSlabClassCount)];
    std::vector<SlabObject> objects;
    for (int i = 0; i < 5; ++i) {
      Result<SlabObject> got = slab.value()->allocate(bytes);
      if (!got.ok()) return setup.setup_failed("slab allocate: " + got.error().describe());
      objects.push_back(got.value());
    }
    // One live object of another class: its slab's free objects are not this class's.
    const std::size_t other_bytes = kSlabClassBytes[(static_cast<std::size_t>(slab_class_of(bytes)) + 1 +
                                                     rng.below(kSlabClassCount - 1)) % kSlabClassCount];
    Result<SlabObject> other = slab.value()->allocate(other_bytes);
    if (!other.ok()) return setup.setup_failed("slab allocate: " + other.error().describe());
    // One slab released, so a slot is on the free slot list: one object of a
    // third class, freed, and every magazine back to the slabs.
    std::size_t third = 0;
    while (third == static_cast<std::size_t>(slab_class_of(bytes)) ||
           third == static_cast<std::size_t>(slab_class_of(other_bytes))) {
      ++third;
    }
    Result<SlabObject> released = slab.value()->allocate(kSlabClassBytes[third]);
    if (!released.ok()) return setup.setup_failed("slab allocate: " + released.error().describe());
    if (!slab.value()->free(released.value()).ok()) return setup.setup_failed("slab free of a live object refused");
    slab.value()->flush_all();
    (void)slab.value()->free(objects.back());  // one cached in the fiber's magazine (after the flush)
    Breaker slab_breaker{stack, "SlabAllocator", [&] { return slab.value()->audit(); }};
    AuditSeam::slab(slab_breaker, *slab.value(), slab_class_of(bytes), objects.front(), other.value());
    (void)slab.value()->free(other.value());
  }
  {
    auto manager = TxnArenaManager::create(allocator);
    if (!manager.ok()) return setup.setup_failed("arenas: " + manager.error().describe());
    Result<TxnArena*> root = manager.value()->begin(1, ArenaProfile::Tiny);
    if (!root.ok()) return setup.setup_failed("begin: " + root.error().describe());
    Result<TxnArena*> child = manager.value()->begin_child(root.value()->id());
    if (!child.ok()) return setup.setup_failed("begin_child: " + child.error().describe());
    if (!root.value()->allocate(100).ok() || !child.value()->allocate(1 + rng.below(4096)).ok()) {
      return setup.setup_failed("arena allocate refused");
    }
    Breaker arena_breaker{stack, "TxnArenaManager", [&] { return manager.value()->audit(); }};
    AuditSeam::arenas(arena_breaker, *manager.value(), *root.value(), *child.value());
  }
  {
    LargeObjectAllocatorConfig large_config;
    large_config.span_bytes = std::size_t{4} << 20;
    large_config.budget_bytes = std::size_t{16} << 20;
    auto large = LargeObjectAllocator::create(*os.value(), large_config);
    if (!large.ok()) return setup.setup_failed("large: " + large.error().describe());
    const std::size_t granule = large_config.granule_bytes;
    std::vector<LargeObject> objects;
    for (std::size_t i = 0; i < 3; ++i) {
      Result<LargeObject> got = large.value()->allocate(LargeObjectAllocator::kMinObjectBytes + granule * rng.below(3));
      if (!got.ok()) return setup.setup_failed("large allocate: " + got.error().describe());
      objects.push_back(got.value());
    }
    if (!large.value()->release(objects[1]).ok()) return setup.setup_failed("large release refused");
    Breaker large_breaker{stack, "LargeObjectAllocator", [&] { return large.value()->audit(); }};
    AuditSeam::large(large_breaker, *large.value(), objects[0]);
    (void)large.value()->release(objects[0]);
    (void)large.value()->release(objects[2]);
  }
  for (const Segment& segment : held) (void)allocator.release(segment);
  (void)allocator.release(other.value());
}

}  // namespace scenarios

}  // namespace segsim
