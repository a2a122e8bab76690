// large-grow: the size of the span a growth maps. A span is span_bytes, or
// the object's own size when that is larger ("spans are mapped at least this
// large; a larger object gets a span of its own size"); only when that span
// would take the mapped bytes past the budget does the growth map a span just
// for the object (LargeObjectAllocator's header, "Mapped bytes"). The choice
// is made against the bytes mapped when the growth begins, before it unmaps
// free spans to make room. Judged where large-unmap judges a growth's
// unmapping (nothing else maps or unmaps meanwhile, no shared budget), on an
// allocate that mapped exactly one span, and only when the budget hook did
// not reclaim in the call (a retried growth begins from other mapped bytes).
// A span of huge_page_min_span_bytes or more (with hints on) is given a
// HugePage advise over all of it; no other span is. check_growth reads, once
// per call, what the growth mapped and unmapped, for these judgments and
// large-unmap's.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"

namespace segsim::scenarios {

void LargeObjectChecks::check_growth(std::size_t requested, const Result<LargeObject>& result,
                                     const std::map<const std::byte*, std::size_t>& mapped_before) {
  // Both judgments need a call that succeeded with the budget its own.
  if (!result.ok() || large_.config().shared_used_bytes) return;
  const std::map<const std::byte*, std::size_t>& mapped_after = advises_.ledger().live_mappings;
  GrowthMaps growth;
  for (const auto& [base, bytes] : mapped_before) {
    growth.before_bytes += bytes;
    if (mapped_after.count(base) != 0) continue;
    ++growth.unmapped_spans;
    growth.unmapped_bytes += bytes;
    growth.largest_unmapped_bytes = std::max(growth.largest_unmapped_bytes, bytes);
  }
  for (const auto& [base, bytes] : mapped_after) {
    if (mapped_before.count(base) != 0) continue;
    ++growth.new_spans;
    growth.new_span_bytes = bytes;
    growth.new_span = base;
  }
  check_growth_unmaps(requested, result, growth);
  check_growth_span(requested, result, growth);
}

void LargeObjectChecks::check_growth_span(std::size_t requested, const Result<LargeObject>& result,
                                          const GrowthMaps& growth) {
  const LargeObjectAllocatorConfig& config = large_.config();
  if (reclaims_in_call_ != 0 || growth.new_spans != 1) return;
  const std::size_t need = result.value().size();  // the request rounded up to granules
  const std::size_t full = std::max(config.span_bytes, need);
  const bool fits = growth.before_bytes + full <= config.budget_bytes;
  const std::size_t due = fits ? full : need;
  if (growth.new_span_bytes == due) {
    check_growth_hint(requested, result, growth);
    return;
  }
  oracles_.fail("large-grow",
                fmt::format("allocate({}) ({} bytes in granules) mapped a {}-byte span with {} bytes mapped before, "
                            "budget {}, span_bytes {}: a {}-byte span was due ({})",
                            requested, need, growth.new_span_bytes, growth.before_bytes, config.budget_bytes,
                            config.span_bytes, due,
                            fits ? "the full span fits the budget" : "the full span would pass the budget"),
                result.value().data());
}

// "Spans of huge_page_min_span_bytes and more get advise(HugePage)": asked
// over the whole new span (its outcome aside: a refused hint is counted and
// the span used without it), and for no smaller span.
void LargeObjectChecks::check_growth_hint(std::size_t requested, const Result<LargeObject>& result,
                                          const GrowthMaps& growth) {
  const LargeObjectAllocatorConfig& config = large_.config();
  const bool due = config.huge_pages && growth.new_span_bytes >= config.huge_page_min_span_bytes;
  const auto& advised = advises_.ledger().huge_page_advised;
  const auto hint = advised.find(growth.new_span);
  const bool hinted = hint != advised.end() && hint->second == growth.new_span_bytes;
  const bool any = hint != advised.end();
  if (due == hinted && (due || !any)) return;
  oracles_.fail("large-grow",
                fmt::format("allocate({}) mapped a {}-byte span and {} huge-page hint{}; huge_pages {}, "
                            "huge_page_min_span_bytes {}: {} was due",
                            requested, growth.new_span_bytes, any ? "asked a" : "asked no",
                            any && !hinted ? fmt::format(" over {} bytes", hint->second) : std::string(),
                            config.huge_pages ? "on" : "off", config.huge_page_min_span_bytes,
                            due ? "a hint over the whole span" : "none"),
                result.value().data());
}

}  // namespace segsim::scenarios
