// LargeObjectAllocator: lazy decommit, unmapping wholly free spans, stats and
// the structural audit.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/large_object_allocator.h"
#include "core/flight_recorder.h"
#include "core/large_object_state.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"

namespace segsim {

using large_objects::FreeRange;
using large_objects::Key;

namespace {

// What the large.decommit.slow fault point makes the advise take: long enough
// for other threads to allocate and release meanwhile.
constexpr std::int64_t kSlowAdviseNs = 20'000;

struct Candidate {
  Key key;
  std::byte* data;
  std::size_t bytes;
  std::int64_t freed_at_ns;
};

}  // namespace

std::size_t LargeObjectAllocator::decommit_idle(std::int64_t min_idle_ns) {
  flight_recorder::Scope scope;
  const std::size_t decommitted = decommit_idle_unrecorded(min_idle_ns);
  flight_recorder::record_object_operation(flight_recorder::Op::LargeDecommitIdle, id_, 0, 0, 0, 0,
                                           static_cast<std::uint64_t>(min_idle_ns), -1, nullptr);
  return decommitted;
}

std::size_t LargeObjectAllocator::decommit_idle_unrecorded(std::int64_t min_idle_ns) {
  State& s = *state_;
  std::vector<Candidate> candidates;
  const std::int64_t now = platform::now_ns();
  // The mutant keeps candidates in the free index while the lock is dropped:
  // an allocation may take one, and the advise then wipes a live object.
  const bool keep_indexed = SEGSIM_MUTANT(DecommitReused);
  {
    platform::LockGuard guard(s.mu);
    const std::size_t ranges = s.free_by_address.size();
    std::size_t visited = 0;
    for (auto it = s.free_by_address.begin(); it != s.free_by_address.end();) {
      SEGSIM_ASSERT(++visited <= ranges, "decommit_idle visiting more free ranges than the index holds");
      auto current = it++;
      const FreeRange& range = current->second;
      if (range.clean || now - range.freed_at_ns < min_idle_ns) continue;
      large_objects::Span& span = s.spans.at(current->first.first);
      candidates.push_back(Candidate{current->first, span.base + current->first.second, range.bytes, range.freed_at_ns});
      if (keep_indexed) continue;
      span.in_flight_bytes += range.bytes;
      const bool fresh = s.in_flight.emplace(current->first, large_objects::InFlight{range.bytes, range.freed_at_ns}).second;
      SEGSIM_ASSERT(fresh, "a range decommitted twice at once");
      s.remove_free(current);
    }
  }
  if (candidates.empty()) return 0;
  // The advise runs without the lock: allocation and release go on meanwhile.
  if (SEGSIM_FAULT_POINT("large.decommit.slow")) platform::sleep_for_ns(kSlowAdviseNs);
  std::vector<bool> ok(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    SEGSIM_ASSERT(candidates[i].data != nullptr && candidates[i].bytes > 0, "an empty or unmapped decommit candidate");
    ok[i] = os_.advise(candidates[i].data, candidates[i].bytes, Advice::DontNeed).ok();
  }
  std::size_t decommitted = 0;
  platform::LockGuard guard(s.mu);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    // A failed advise leaves the range as dirty as it was.
    const bool clean = ok[i] || SEGSIM_MUTANT(DecommitUnchecked);
    if (!ok[i]) {
      SEGSIM_PROBE("large.decommit.advise_failed");
      ++s.counters.advise_failures;
    } else {
      ++s.counters.decommits;
      s.counters.decommitted_bytes_total += c.bytes;
      decommitted += c.bytes;
    }
    if (keep_indexed) {
      auto it = s.free_by_address.find(c.key);
      if (it != s.free_by_address.end() && it->second.bytes == c.bytes) it->second.clean = clean;
      continue;
    }
    const std::size_t landed = s.in_flight.erase(c.key);
    large_objects::Span& span = s.spans.at(c.key.first);
    SEGSIM_ASSERT(landed == 1 && span.in_flight_bytes >= c.bytes, "a decommitted range that was not in flight");
    span.in_flight_bytes -= c.bytes;
    s.insert_coalescing(c.key, FreeRange{c.bytes, clean, c.freed_at_ns});
  }
  return decommitted;
}

std::size_t LargeObjectAllocator::unmap_free_spans(std::size_t target_mapped_bytes) {
  flight_recorder::Scope scope;
  std::size_t unmapped = 0;
  {
    platform::LockGuard guard(state_->mu);
    unmapped = unmap_free_spans_locked(target_mapped_bytes);
  }
  flight_recorder::record_object_operation(flight_recorder::Op::LargeUnmapFreeSpans, id_, 0, 0, 0, 0,
                                           target_mapped_bytes, -1, nullptr);
  return unmapped;
}

std::size_t LargeObjectAllocator::unmap_free_spans_locked(std::size_t target_mapped_bytes) {
  State& s = *state_;
  std::size_t unmapped = 0;
  // Each span is visited once at most: a walk that does not advance is named, not a hang.
  const std::size_t span_count = s.spans.size();
  std::size_t visited = 0;
  for (auto it = s.spans.begin(); it != s.spans.end() && s.counters.mapped_bytes > target_mapped_bytes;) {
    SEGSIM_ASSERT(it != s.spans.end() && visited++ < span_count,
                  "unmapping free spans past the last span, or visiting one twice");
    auto current = it++;
    large_objects::Span& span = current->second;
    if (span.live_objects != 0 || span.in_flight_bytes != 0) continue;
    // Free ranges coalesce whatever their state, so a span with nothing live
    // and nothing in flight is one free range from its start to its end.
    auto range = s.free_by_address.find(Key{current->first, 0});
    SEGSIM_ASSERT(range != s.free_by_address.end() && range->second.bytes == span.bytes,
                  "a span with no live object and none in flight is not one free range");
    if (!os_.unmap(span.base, span.bytes).ok()) {
      SEGSIM_PROBE("large.unmap.failed");
      ++s.counters.unmap_failures;  // the span stays, whole and free
      continue;
    }
    s.remove_free(range);
    SEGSIM_ASSERT(s.free_bytes >= span.bytes && s.counters.mapped_bytes >= span.bytes, "free or mapped bytes underflow");
    s.free_bytes -= span.bytes;
    s.counters.mapped_bytes -= span.bytes;
    ++s.counters.spans_unmapped;
    unmapped += span.bytes;
    s.spans.erase(current);
  }
  return unmapped;
}

std::size_t LargeObjectAllocator::mapped_bytes() const {
  platform::LockGuard guard(state_->mu);
  return state_->counters.mapped_bytes;
}

LargeObjectStats LargeObjectAllocator::stats() const {
  const State& s = *state_;
  platform::LockGuard guard(s.mu);
  LargeObjectStats out = s.counters;
  out.spans = s.spans.size();
  out.live_objects = s.live.size();
  out.live_bytes = s.live_bytes;
  out.free_bytes = s.free_bytes;
  out.free_ranges = s.free_by_address.size() + s.in_flight.size();
  out.largest_free_bytes = s.free_by_size.empty() ? 0 : std::get<0>(*s.free_by_size.rbegin());
  for (const auto& [key, range] : s.in_flight) out.largest_free_bytes = std::max(out.largest_free_bytes, range.bytes);
  out.decommitted_bytes = 0;
  for (const auto& [key, range] : s.free_by_address) {
    if (range.clean) out.decommitted_bytes += range.bytes;
  }
  out.wholly_free_spans = 0;
  for (const auto& [id, span] : s.spans) {
    auto range = s.free_by_address.find(Key{id, 0});
    if (range != s.free_by_address.end() && range->second.bytes == span.bytes) ++out.wholly_free_spans;
  }
  out.fragmentation_ratio =
      out.free_bytes == 0 ? 0.0
                          : 1.0 - static_cast<double>(out.largest_free_bytes) / static_cast<double>(out.free_bytes);
  return out;
}

std::vector<std::string> LargeObjectAllocator::audit() const {
  const State& s = *state_;
  platform::LockGuard guard(s.mu);
  std::vector<std::string> violations;
  auto violation = [&](std::string line) { violations.push_back(std::move(line)); };
  // Every byte of every span is exactly one of: live, free, being decommitted.
  struct Piece {
    std::size_t offset, bytes;
    const char* what;
  };
  std::map<std::uint32_t, std::vector<Piece>> pieces;
  for (const auto& [key, live] : s.live) pieces[key.first].push_back({key.second, live.bytes, "live"});
  for (const auto& [key, range] : s.free_by_address) pieces[key.first].push_back({key.second, range.bytes, "free"});
  for (const auto& [key, range] : s.in_flight) pieces[key.first].push_back({key.second, range.bytes, "decommitting"});
  std::size_t mapped = 0, live_bytes = 0, free_bytes = 0;
  for (const auto& [id, span] : s.spans) {
    mapped += span.bytes;
    auto& list = pieces[id];
    std::sort(list.begin(), list.end(), [](const Piece& a, const Piece& b) { return a.offset < b.offset; });
    std::size_t cursor = 0;
    std::size_t live_objects = 0, in_flight_bytes = 0;  // the span's own counts, recounted
    const Piece* previous = nullptr;
    for (const Piece& p : list) {
      if (std::string_view(p.what) == "live") ++live_objects;
      if (std::string_view(p.what) == "decommitting") in_flight_bytes += p.bytes;
      if (p.offset != cursor) {
        violation(fmt::format("span {}: {} range at {:#x} {} the previous range (ends {:#x})", id, p.what, p.offset,
                              p.offset < cursor ? "overlaps" : "leaves a gap after", cursor));
      }
      if (p.bytes == 0 || p.offset % config_.granule_bytes != 0 || p.bytes % config_.granule_bytes != 0) {
        violation(fmt::format("span {}: {} range at {:#x} of {} bytes is not granule-aligned", id, p.what, p.offset, p.bytes));
      }
      if (previous != nullptr && std::string_view(previous->what) == "free" && std::string_view(p.what) == "free" &&
          previous->offset + previous->bytes == p.offset) {
        violation(fmt::format("span {}: adjacent free ranges at {:#x} and {:#x} were not coalesced", id,
                              previous->offset, p.offset));
      }
      cursor = std::max(cursor, p.offset + p.bytes);
      previous = &p;
    }
    if (cursor != span.bytes) violation(fmt::format("span {}: ranges cover {:#x} of {:#x} bytes", id, cursor, span.bytes));
    // A span with a wrong count is never unmapped (or unmapped under a live object).
    if (live_objects != span.live_objects) {
      violation(fmt::format("span {}: {} live objects, its count says {}", id, live_objects, span.live_objects));
    }
    if (in_flight_bytes != span.in_flight_bytes) {
      violation(fmt::format("span {}: {} bytes being decommitted, its count says {}", id, in_flight_bytes,
                            span.in_flight_bytes));
    }
  }
  for (const auto& [key, live] : s.live) live_bytes += live.bytes;
  for (const auto& [key, range] : s.free_by_address) free_bytes += range.bytes;
  for (const auto& [key, range] : s.in_flight) free_bytes += range.bytes;
  if (pieces.size() > s.spans.size()) violation("a range names a span that is not mapped");
  if (mapped != s.counters.mapped_bytes) violation(fmt::format("spans hold {} bytes, mapped_bytes says {}", mapped, s.counters.mapped_bytes));
  if (live_bytes != s.live_bytes) violation(fmt::format("live objects hold {} bytes, live_bytes says {}", live_bytes, s.live_bytes));
  if (free_bytes != s.free_bytes) violation(fmt::format("free ranges hold {} bytes, free_bytes says {}", free_bytes, s.free_bytes));
  if (s.free_by_size.size() != s.free_by_address.size()) violation("the size index and the address index disagree");
  for (const auto& [key, range] : s.free_by_address) {
    if (s.free_by_size.count({range.bytes, key.first, key.second}) == 0) {
      violation(fmt::format("span {}: free range at {:#x} missing from the size index", key.first, key.second));
    }
  }
  return violations;
}

}  // namespace segsim
