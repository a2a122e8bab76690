// large objects, large-stats: the allocator's counters are a promise of its
// API (LargeObjectStats: what a pressure loop and an operator read), so each
// one the model can know is compared with the calls the model saw — a counter
// that drifts is a wrong answer even when every object is right:
//   allocations, releases, double frees, invalid pointers: exactly the model's;
//   map failures: exactly the OutOfMemory refusals (one failed map each);
//   budget refusals: exactly the refused growths the model counts (a call
//     retried after on_budget_exhausted, and refused again, counts twice);
//   spans mapped − spans unmapped: the spans held now;
//   spans held − wholly free spans: the spans the model's live objects are in
//     (at least those while a decommit may hold a free span's range);
//   free-list hits ≤ allocations, zeroings ≤ zeroed allocations,
//   peak mapped bytes ≥ mapped bytes;
//   decommits, their bytes and advise failures: exactly the DontNeed advises
//     the allocator made that succeeded (their bytes) and that failed, by the
//     ledger of its Os (a decommit is one advise of one free range; a failed
//     one is an advise failure) — at most those while a decommit may be in
//     flight. Without a fault plan no advise fails, so advise_failures is 0;
//   spans mapped and unmapped, map and unmap failures, huge-page hints and
//     their failures: exactly the maps, unmaps and other advises of that
//     ledger (at most those mid-run), and no unmap of a range not a span.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"

namespace segsim::scenarios {

void LargeObjectChecks::check_counters(const LargeObjectStats& stats, bool quiescent) {
  auto exact = [&](const char* counter, std::uint64_t reported, std::uint64_t model) {
    if (reported != model) {
      oracles_.fail("large-stats", fmt::format("stats().{} is {}; the model saw {}", counter, reported, model));
    }
  };
  exact("allocations", stats.allocations, calls_.allocations);
  exact("releases", stats.releases, calls_.releases);
  exact("double_frees", stats.double_frees, calls_.double_frees);
  exact("invalid_pointers", stats.invalid_pointers, calls_.invalid_pointers);
  exact("map_failures", stats.map_failures, calls_.out_of_memory);
  exact("budget_refusals", stats.budget_refusals, calls_.budget_refusals);
  if (stats.spans_mapped < stats.spans_unmapped || stats.spans_mapped - stats.spans_unmapped != stats.spans) {
    oracles_.fail("large-stats", fmt::format("{} spans mapped and {} unmapped, but {} held", stats.spans_mapped,
                                             stats.spans_unmapped, stats.spans));
  }
  std::set<std::uint32_t> live_spans;
  for (const auto& [key, entry] : live_) live_spans.insert(entry.handle.span_id());
  const std::size_t spans_in_use = stats.spans >= stats.wholly_free_spans ? stats.spans - stats.wholly_free_spans : 0;
  if (stats.wholly_free_spans > stats.spans ||
      (quiescent ? spans_in_use != live_spans.size() : spans_in_use < live_spans.size())) {
    oracles_.fail("large-stats", fmt::format("{} spans, {} wholly free; the model's live objects are in {} spans{}",
                                             stats.spans, stats.wholly_free_spans, live_spans.size(),
                                             quiescent ? "" : " (at least that many not wholly free mid-run)"));
  }
  if (stats.free_list_hits > stats.allocations || stats.zeroings > calls_.zeroed_allocations ||
      stats.peak_mapped_bytes < stats.mapped_bytes) {
    oracles_.fail("large-stats", fmt::format("free-list hits {} of {} allocations, zeroings {} of {} zeroed ones, "
                                             "peak mapped {} under mapped {}",
                                             stats.free_list_hits, stats.allocations, stats.zeroings,
                                             calls_.zeroed_allocations, stats.peak_mapped_bytes, stats.mapped_bytes));
  }
  // The derived figures, from the same snapshot's own counts.
  const double due_ratio = stats.free_bytes == 0 ? 0.0
                                                 : 1.0 - static_cast<double>(stats.largest_free_bytes) /
                                                             static_cast<double>(stats.free_bytes);
  if (stats.largest_free_bytes > stats.free_bytes || (stats.free_ranges == 0) != (stats.free_bytes == 0) ||
      std::abs(stats.fragmentation_ratio - due_ratio) > 1e-9) {
    oracles_.fail("large-stats", fmt::format("{} free bytes in {} ranges, the largest {} bytes: fragmentation_ratio {}, "
                                             "due {}",
                                             stats.free_bytes, stats.free_ranges, stats.largest_free_bytes,
                                             stats.fragmentation_ratio, due_ratio));
  }
  const OsLedger& advised = advises_.ledger();
  auto against_ledger = [&](const char* counter, std::uint64_t reported, std::uint64_t advises, const char* what) {
    if (quiescent ? reported != advises : reported > advises) {
      oracles_.fail("large-stats", fmt::format("stats().{} is {}; the allocator's {} DontNeed advises {}{}", counter,
                                               reported, what, advises, quiescent ? "" : " (an upper bound mid-run)"));
    }
  };
  against_ledger("decommits", stats.decommits, advised.dont_need_ok, "successful");
  against_ledger("decommitted_bytes_total", stats.decommitted_bytes_total, advised.dont_need_ok_bytes,
                 "successful ones' bytes: of");
  against_ledger("advise_failures", stats.advise_failures, advised.dont_need_failed, "failed");
  // Its spans, by the same ledger: a map per span mapped or failed, an unmap
  // per span unmapped or failed (the allocator counts each under its lock,
  // right after the call), and a huge-page hint per span mapped while hinting.
  auto against_os = [&](const char* counter, std::uint64_t reported, std::uint64_t asked, const char* what) {
    if (quiescent ? reported != asked : reported > asked) {
      oracles_.fail("large-stats", fmt::format("stats().{} is {}; its Os saw {} {}{}", counter, reported, asked, what,
                                               quiescent ? "" : " (an upper bound mid-run)"));
    }
  };
  against_os("spans_mapped", stats.spans_mapped, advised.maps_ok, "successful maps");
  against_os("map_failures", stats.map_failures, advised.maps_failed, "failed maps");
  against_os("spans_unmapped", stats.spans_unmapped, advised.unmaps_ok, "successful unmaps");
  against_os("unmap_failures", stats.unmap_failures, advised.unmaps_failed, "failed unmaps");
  against_os("huge_page_hints + huge_page_failures", stats.huge_page_hints + stats.huge_page_failures,
             advised.other_advises, "advises other than DontNeed");
  against_os("unmaps of a range not one of its spans", 0, advised.unmaps_not_mapped, "");
  against_os("peak_mapped_bytes", stats.peak_mapped_bytes, advised.peak_mapped_bytes, "bytes mapped at most");
}

// With no call and no decommit in flight, and adjacent free ranges merged
// (the header's coalescing), a span's free ranges are the gaps between the
// model's live objects in it: their count, their bytes and the largest, as
// stats() must say — judged from the Os ledger's spans and the model, not
// from the allocator's own lists.
void LargeObjectChecks::check_free_ranges(const LargeObjectStats& stats) {
  std::map<const std::byte*, std::size_t> objects;  // live objects by address
  for (const auto& [key, entry] : live_) objects[entry.handle.data()] = entry.handle.size();
  std::size_t ranges = 0, bytes = 0, largest = 0;
  const auto gap = [&](const std::byte* from, const std::byte* to) {
    if (to <= from) return;  // none, or objects that overlap (the overlap oracle's)
    const auto gap_bytes = static_cast<std::size_t>(to - from);
    ++ranges;
    bytes += gap_bytes;
    largest = std::max(largest, gap_bytes);
  };
  const auto& spans = advises_.ledger().live_mappings;
  for (const auto& [base, span_bytes] : spans) {
    const std::byte* at = base;
    const std::byte* const end = base + span_bytes;
    for (auto it = objects.lower_bound(base); it != objects.end() && it->first < end; ++it) {
      gap(at, it->first);
      at = std::max(at, it->first + it->second);
    }
    gap(at, end);
  }
  if (stats.free_ranges == ranges && stats.free_bytes == bytes && stats.largest_free_bytes == largest) return;
  oracles_.fail("large-stats", fmt::format("stats() counts {} free range(s) of {} bytes, the largest {} bytes; the "
                                           "gaps between the model's {} live object(s) in the {} span(s) mapped are "
                                           "{} range(s) of {} bytes, the largest {} bytes",
                                           stats.free_ranges, stats.free_bytes, stats.largest_free_bytes,
                                           objects.size(), spans.size(), ranges, bytes, largest));
}

}  // namespace segsim::scenarios
