// LargeObjectAllocator: allocation, release and growth. Decommit, span
// unmapping, stats and audit are in large_object_maintenance.cpp.
#include "core/large_object_allocator.h"
#include "core/flight_recorder.h"

#include <atomic>
#include <cstring>

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/large_object_state.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"

namespace segsim {

using large_objects::FreeRange;
using large_objects::Key;
using large_objects::SizeKey;

namespace {

// Allocator identities, carried by every handle: never 0, never repeated.
constinit detail::IdCounter g_large_allocator_ids{1};

// `unit` is the configured granule: create() refuses 0, which would divide by zero here.
std::size_t round_up(std::size_t bytes, std::size_t unit) {
  SEGSIM_ASSERT(unit > 0, "rounding up to a granule of 0 bytes (a granule create() should have refused)");
  return (bytes + unit - 1) / unit * unit;
}

}  // namespace

std::string_view fit_policy_name(FitPolicy policy) noexcept {
  switch (policy) {
    case FitPolicy::BestFit: return "best-fit";
    case FitPolicy::FirstFit: return "first-fit";
    case FitPolicy::WorstFit: return "worst-fit";
  }
  return "unknown";
}

// ---- free-index maintenance ------------------------------------------------

void LargeObjectAllocator::State::add_free(const Key& key, const FreeRange& range) {
  SEGSIM_ASSERT(range.bytes > 0, "an empty free range");
  const bool by_address = free_by_address.emplace(key, range).second;
  const bool by_size = free_by_size.emplace(range.bytes, key.first, key.second).second;
  SEGSIM_ASSERT(by_address && by_size, "a free range indexed twice");
  SEGSIM_ASSERT(free_by_address.size() == free_by_size.size(), "the free indexes by address and by size disagree");
}

void LargeObjectAllocator::State::remove_free(std::map<Key, FreeRange>::iterator it) {
  SEGSIM_ASSERT(it != free_by_address.end(), "removing a free range that is not indexed");
  const std::size_t unindexed = free_by_size.erase(SizeKey{it->second.bytes, it->first.first, it->first.second});
  SEGSIM_ASSERT(unindexed == 1, "a free range missing from the size index");
  free_by_address.erase(it);
}

void LargeObjectAllocator::State::insert_coalescing(Key key, FreeRange range) {
  SEGSIM_ASSERT(range.bytes > 0 && free_by_address.count(key) == 0, "freeing a range that is already free");
  auto next = free_by_address.lower_bound(key);
  SEGSIM_ASSERT(next == free_by_address.end() || next->first.first != key.first ||
                    next->first.second >= key.second + range.bytes,
                "a freed range overlaps the next free range");
  if (next != free_by_address.end() && next->first.first == key.first &&
      next->first.second == key.second + range.bytes) {
    SEGSIM_PROBE("large.coalesce.next");
    range.bytes += next->second.bytes;
    range.clean = range.clean && next->second.clean;
    range.freed_at_ns = std::max(range.freed_at_ns, next->second.freed_at_ns);
    remove_free(next);
    ++counters.coalesces;
    next = free_by_address.lower_bound(key);
  }
  if (next != free_by_address.begin()) {
    auto prev = std::prev(next);
    const std::size_t prev_end = prev->first.second + prev->second.bytes;
    SEGSIM_ASSERT(prev->first.first != key.first || prev_end <= key.second,
                  "a freed range overlaps the previous free range");
    const bool adjacent = prev_end == key.second || SEGSIM_MUTANT(CoalesceNonAdjacent);
    if (prev->first.first == key.first && adjacent) {
      SEGSIM_PROBE("large.coalesce.prev");
      const Key merged_key = prev->first;
      FreeRange merged = prev->second;
      merged.bytes = key.second + range.bytes - merged_key.second;
      merged.clean = merged.clean && range.clean;
      merged.freed_at_ns = std::max(merged.freed_at_ns, range.freed_at_ns);
      remove_free(prev);
      ++counters.coalesces;
      key = merged_key;
      range = merged;
    }
  }
  add_free(key, range);
}

// ---- creation --------------------------------------------------------------

Result<std::unique_ptr<LargeObjectAllocator>> LargeObjectAllocator::create(Os& os,
                                                                           LargeObjectAllocatorConfig config) {
  auto invalid = [](const char* field) { return make_error(Errc::InvalidConfig, field); };
  const std::size_t page = os.page_size();
  if (config.granule_bytes == 0 || config.granule_bytes % page != 0) {
    return invalid("granule_bytes must be a positive multiple of the page size");
  }
  // What the refusal above guarantees, for every division by the granule below.
  SEGSIM_ASSERT(config.granule_bytes > 0 && config.granule_bytes % page == 0,
                "create() went on with a granule of 0 or off the page size (a weakened refusal)");
  if (config.max_object_bytes < kMinObjectBytes) return invalid("max_object_bytes must be above 256 KiB");
  if (config.span_bytes == 0 || config.span_bytes % config.granule_bytes != 0) {
    return invalid("span_bytes must be a positive multiple of granule_bytes");
  }
  if (config.budget_bytes < round_up(kMinObjectBytes, config.granule_bytes)) {
    return invalid("budget_bytes must hold at least one smallest object");
  }
  if (config.decommit_after_ns < 0 || config.decommit_check_interval_ns < 0) {
    return invalid("decommit times must be >= 0");
  }
  const std::uint32_t id = g_large_allocator_ids.take();
  if (id == 0) [[unlikely]] {
    SEGSIM_PROBE("large.create.ids_exhausted");
    return make_error(Errc::OutOfMemory, detail::kIdsExhausted);
  }
  auto large = std::unique_ptr<LargeObjectAllocator>(new LargeObjectAllocator(os, std::move(config), id));
  if (flight_recorder::on()) {
    const LargeObjectAllocatorConfig& c = large->config_;
    flight_recorder::detail::LargeNote note;
    note.allocator = large->id_;
    note.max_object_bytes = c.max_object_bytes;
    note.granule_bytes = c.granule_bytes;
    note.span_bytes = c.span_bytes;
    note.budget_bytes = c.budget_bytes;
    note.fit = static_cast<std::uint64_t>(c.fit);
    note.decommit_after_ns = c.decommit_after_ns;
    note.decommit_check_interval_ns = c.decommit_check_interval_ns;
    flight_recorder::detail::note_large(note);
  }
  return large;
}

detail::IdCounter& detail::large_allocator_ids() noexcept { return g_large_allocator_ids; }

LargeObjectAllocator::LargeObjectAllocator(Os& os, LargeObjectAllocatorConfig config, std::uint32_t id)
    : os_(os), config_(std::move(config)),
      id_(id),
      state_(std::make_unique<State>()) {}

LargeObjectAllocator::~LargeObjectAllocator() {
  for (auto& [id, span] : state_->spans) {
    // Nothing to hand an error to in a destructor, nor anything left to count
    // it in (stats() dies with the allocator): a failed unmap leaks the mapping.
    (void)os_.unmap(span.base, span.bytes);
  }
}

// ---- allocation ------------------------------------------------------------

Result<LargeObject> LargeObjectAllocator::allocate(std::size_t bytes) { return allocate_recorded(bytes, true); }
Result<LargeObject> LargeObjectAllocator::allocate_uninitialized(std::size_t bytes) {
  return allocate_recorded(bytes, false);
}

Result<LargeObject> LargeObjectAllocator::allocate_recorded(std::size_t bytes, bool zeroed) {
  flight_recorder::Scope scope;
  Result<LargeObject> got = allocate_impl(bytes, zeroed);
  if (flight_recorder::on()) [[unlikely]] {
    const LargeObject object = got.ok() ? got.value() : LargeObject{};
    flight_recorder::record_object_operation(
        zeroed ? flight_recorder::Op::LargeAllocate : flight_recorder::Op::LargeAllocateUninitialized, id_,
        object.span_id(), object.generation(), 0, object.offset(), bytes, -1, got.ok() ? nullptr : &got.error());
  }
  return got;
}

namespace {

// The free range the policy picks for `need` bytes, or end().
std::map<Key, FreeRange>::iterator find_fit(std::map<Key, FreeRange>& by_address,
                                            const std::set<SizeKey>& by_size, std::size_t need,
                                            FitPolicy policy) {
  switch (policy) {
    case FitPolicy::BestFit: {
      auto it = by_size.lower_bound(SizeKey{need, 0, 0});
      if (it == by_size.end()) return by_address.end();
      auto found = by_address.find(Key{std::get<1>(*it), std::get<2>(*it)});
      SEGSIM_ASSERT(found != by_address.end(), "the size index names a range the address index lacks");
      return found;
    }
    case FitPolicy::WorstFit: {
      if (by_size.empty() || std::get<0>(*by_size.rbegin()) < need) return by_address.end();
      const SizeKey& largest = *by_size.rbegin();
      auto found = by_address.find(Key{std::get<1>(largest), std::get<2>(largest)});
      SEGSIM_ASSERT(found != by_address.end(), "the size index names a range the address index lacks");
      return found;
    }
    case FitPolicy::FirstFit:
      for (auto it = by_address.begin(); it != by_address.end(); ++it) {
        if (it->second.bytes >= need) return it;
      }
      return by_address.end();
  }
  return by_address.end();
}

}  // namespace

Result<LargeObject> LargeObjectAllocator::allocate_impl(std::size_t bytes, bool zeroed) {
  if (bytes < kMinObjectBytes) {
    SEGSIM_PROBE("large.invalid_size.small");
    return make_error(Errc::InvalidSize, "large objects are above 256 KiB (smaller: SegmentAllocator)");
  }
  if (bytes > config_.max_object_bytes) {
    SEGSIM_PROBE("large.invalid_size.too_large");
    return make_error(Errc::InvalidSize, "larger than max_object_bytes");
  }
  const std::size_t need = round_up(bytes, config_.granule_bytes);
  bool must_zero = false;
  Result<LargeObject> object = [&] {
    platform::LockGuard guard(state_->mu);
    return allocate_locked(need, zeroed, must_zero);
  }();
  if (!object.ok() && object.error().code == Errc::OutOfBudget && config_.on_budget_exhausted) {
    SEGSIM_PROBE("large.grow.reclaim_retry");
    if (config_.on_budget_exhausted(need)) {  // without the lock: it may call back into us
      platform::LockGuard guard(state_->mu);
      object = allocate_locked(need, zeroed, must_zero);
    }
  }
  // The object is ours alone now: zero it outside the lock.
  if (object.ok() && must_zero) std::memset(object->data(), 0, need);
  return object;
}

Result<LargeObject> LargeObjectAllocator::allocate_locked(std::size_t need, bool zeroed, bool& must_zero) {
  State& s = *state_;
  auto fit = find_fit(s.free_by_address, s.free_by_size, need, config_.fit);
  if (fit == s.free_by_address.end() || SEGSIM_FAULT_POINT("large.alloc.grow")) {
    Status grown = grow_locked(need);
    if (!grown.ok()) return grown.error();
    fit = find_fit(s.free_by_address, s.free_by_size, need, config_.fit);
    SEGSIM_ASSERT(fit != s.free_by_address.end(), "a fresh span must fit the object");
  } else {
    ++s.counters.free_list_hits;
  }
  const Key key = fit->first;
  const FreeRange range = fit->second;
  SEGSIM_ASSERT(range.bytes >= need, "the fit policy picked a range smaller than the object");
  s.remove_free(fit);
  if (range.bytes > need) {
    // The remainder keeps its neighbours: nothing to coalesce.
    s.add_free(Key{key.first, key.second + need}, FreeRange{range.bytes - need, range.clean, range.freed_at_ns});
  } else {
    SEGSIM_PROBE("large.alloc.exact_fit");
  }
  bool wrapped = false;
  const std::uint32_t generation = s.generations.take(wrapped);
  if (wrapped) SEGSIM_PROBE("large.generation.wrapped");
  const bool fresh = s.live.emplace(key, large_objects::Live{need, generation}).second;
  SEGSIM_ASSERT(fresh, "handing out a range that is live");
  large_objects::Span& span = s.spans.at(key.first);
  SEGSIM_ASSERT(span.base != nullptr && key.second + need <= span.bytes, "an object past its span's end");
  SEGSIM_ASSERT(s.free_bytes >= need, "free bytes underflow");
  ++span.live_objects;
  s.free_bytes -= need;
  s.live_bytes += need;
  ++s.counters.allocations;
  must_zero = zeroed && !range.clean;
  if (must_zero) ++s.counters.zeroings;
  return LargeObject(span.base + key.second, need, id_, key.first, key.second, generation);
}

Status LargeObjectAllocator::grow_locked(std::size_t need) {
  State& s = *state_;
  const std::size_t shared = config_.shared_used_bytes ? config_.shared_used_bytes() : 0;
  auto used = [&] { return s.counters.mapped_bytes + shared; };
  std::size_t span_bytes = std::max(config_.span_bytes, need);
  if (used() + span_bytes > config_.budget_bytes) span_bytes = need;  // a span just for this object
  if (used() + span_bytes > config_.budget_bytes) {
    const std::size_t room = config_.budget_bytes > shared + span_bytes ? config_.budget_bytes - shared - span_bytes : 0;
    if (unmap_free_spans_locked(room) > 0) SEGSIM_PROBE("large.grow.unmapped_free_spans");
  }
  if (used() + span_bytes > config_.budget_bytes) {
    SEGSIM_PROBE("large.grow.over_budget");
    ++s.counters.budget_refusals;
    return make_error(Errc::OutOfBudget, "the next span would exceed the budget");
  }
  auto mapped = os_.map(span_bytes);
  if (!mapped.ok()) {
    SEGSIM_PROBE("large.grow.map_failed");
    ++s.counters.map_failures;
    Error error = make_error(Errc::OutOfMemory, "mmap of a new large-object span failed");
    error.os_errno = mapped.error().errno_value;
    return error;
  }
  if (config_.huge_pages && span_bytes >= config_.huge_page_min_span_bytes) {
    if (os_.advise(mapped.value(), span_bytes, Advice::HugePage).ok()) {
      ++s.counters.huge_page_hints;
    } else {
      SEGSIM_PROBE("large.grow.huge_page_failed");
      ++s.counters.huge_page_failures;  // the span works without the hint
    }
  }
  SEGSIM_ASSERT(span_bytes >= need && mapped.value() != nullptr, "a span smaller than the object, or at null");
  const std::uint32_t id = s.next_span++;
  const bool fresh = s.spans.emplace(id, large_objects::Span{mapped.value(), span_bytes, 0, 0}).second;
  SEGSIM_ASSERT(fresh, "a span id issued twice");
  s.add_free(Key{id, 0}, FreeRange{span_bytes, /*clean=*/true, platform::now_ns()});
  s.free_bytes += span_bytes;
  s.counters.mapped_bytes += span_bytes;
  s.counters.peak_mapped_bytes = std::max(s.counters.peak_mapped_bytes, s.counters.mapped_bytes);
  ++s.counters.spans_mapped;
  return {};
}

// ---- release ---------------------------------------------------------------

Status LargeObjectAllocator::release(const LargeObject& object) {
  flight_recorder::Scope scope;
  Status released = release_unrecorded(object);
  if (flight_recorder::on()) [[unlikely]] {
    flight_recorder::record_object_operation(flight_recorder::Op::LargeRelease, id_, object.span_id(),
                                             object.generation(), 0, object.offset(), 0, -1,
                                             released.ok() ? nullptr : &released.error());
  }
  return released;
}

Status LargeObjectAllocator::release_unrecorded(const LargeObject& object) {
  State& s = *state_;
  if (object.is_null() || object.allocator_id() != id_) {
    SEGSIM_PROBE("large.release.invalid_pointer");
    platform::LockGuard guard(s.mu);
    ++s.counters.invalid_pointers;
    return make_error(Errc::InvalidPointer, object.is_null() ? "null large object" : "handle of another allocator");
  }
  bool check_decommit = false;
  {
    platform::LockGuard guard(s.mu);
    const Key key{object.span_id(), object.offset()};
    auto it = s.live.find(key);
    if (it == s.live.end() || it->second.generation != object.generation() || it->second.bytes != object.size()) {
      if (object.span_id() == 0 || object.span_id() >= s.next_span) {
        SEGSIM_PROBE("large.release.invalid_pointer");
        ++s.counters.invalid_pointers;
        return make_error(Errc::InvalidPointer, "no span of this allocator has that id");
      }
      SEGSIM_PROBE("large.release.double_free");
      ++s.counters.double_frees;
      Error error = make_error(Errc::DoubleFree, "large object is not live (released before, or a stale handle)");
      error.generation = object.generation();
      error.live_generation = it == s.live.end() ? 0 : it->second.generation;
      return error;
    }
    const std::size_t bytes = it->second.bytes;
    s.live.erase(it);
    large_objects::Span& span = s.spans.at(key.first);
    SEGSIM_ASSERT(span.live_objects > 0 && s.live_bytes >= bytes, "live object count or bytes underflow");
    --span.live_objects;
    s.live_bytes -= bytes;
    s.free_bytes += bytes;
    ++s.counters.releases;
    const std::int64_t now = platform::now_ns();
    s.insert_coalescing(key, FreeRange{bytes, /*clean=*/false, now});
    if (config_.decommit_check_interval_ns > 0 && now >= s.next_decommit_check_ns) {
      s.next_decommit_check_ns = now + config_.decommit_check_interval_ns;
      check_decommit = true;
    }
  }
  if (check_decommit) (void)decommit_idle();
  return {};
}

}  // namespace segsim
