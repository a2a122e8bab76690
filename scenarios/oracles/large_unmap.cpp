// large-unmap: unmap_free_spans(target) "unmaps wholly free spans until
// mapped bytes are at most target or none is left; returns bytes unmapped".
// Judged around each call the workload makes under its model lock:
//   with nothing else changing the spans meanwhile (no maintenance client),
//   exactly — the bytes returned are the drop in mapped bytes, the spans
//   unmapped are counted, nothing is unmapped when the allocator was at or
//   under the target already, and afterwards it is at or under the target or
//   no wholly free span is left but those whose unmap failed (injected);
//   with a maintenance client (which also decommits and unmaps), only that
//   the call returned no more than was mapped.
// A growth's unmapping ("growth first unmaps wholly free spans", then
// refuses) has the target the new span needs: budget_bytes minus its bytes.
// So the span it unmapped last was needed — before it, mapped bytes were
// over that target. The order of the unmaps is not seen; the largest span
// unmapped bounds the last one, so the check is: without the largest of
// them, the mapped bytes would still have been over the target. Judged on an
// allocate that mapped one span after unmapping, under the same exactness as
// above, with no shared budget (whose other users change it meanwhile).
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"

namespace segsim::scenarios {

void LargeObjectChecks::check_unmap_free_spans(std::size_t target_mapped_bytes, const LargeObjectStats& before,
                                               std::size_t unmapped, const LargeObjectStats& after, bool exact) {
  if (unmapped > before.mapped_bytes) {
    oracles_.fail("large-unmap", fmt::format("unmap_free_spans({}) returned {} bytes with {} mapped",
                                             target_mapped_bytes, unmapped, before.mapped_bytes));
  }
  if (!exact) return;
  const std::uint64_t failed = after.unmap_failures - before.unmap_failures;
  const bool dropped_as_returned = before.mapped_bytes - after.mapped_bytes == unmapped &&
                                   (unmapped == 0) == (after.spans_unmapped == before.spans_unmapped);
  const bool nothing_due = before.mapped_bytes <= target_mapped_bytes;
  const bool done = after.mapped_bytes <= target_mapped_bytes || after.wholly_free_spans <= failed;
  if (!dropped_as_returned || (nothing_due && unmapped != 0) || !done) {
    oracles_.fail("large-unmap",
                  fmt::format("unmap_free_spans({}) with {} bytes mapped in {} spans ({} wholly free) returned {}; "
                              "after it {} bytes mapped in {} spans ({} wholly free), {} unmap(s) failed",
                              target_mapped_bytes, before.mapped_bytes, before.spans, before.wholly_free_spans,
                              unmapped, after.mapped_bytes, after.spans, after.wholly_free_spans, failed));
  }
}

void LargeObjectChecks::check_growth_unmaps(std::size_t requested, const Result<LargeObject>& result,
                                            const GrowthMaps& growth) {
  const LargeObjectAllocatorConfig& config = large_.config();
  if (growth.unmapped_spans == 0 || growth.new_spans != 1 || growth.new_span_bytes > config.budget_bytes) return;
  const std::size_t target = config.budget_bytes - growth.new_span_bytes;
  const std::size_t without_largest =
      growth.before_bytes - growth.unmapped_bytes + growth.largest_unmapped_bytes;
  if (without_largest > target) return;
  oracles_.fail("large-unmap",
                fmt::format("allocate({}) unmapped {} free span(s) of {} bytes with {} bytes mapped, then mapped a "
                            "{}-byte span under a budget of {}: without the largest of them ({} bytes) {} bytes "
                            "would have been mapped, room enough — a growth unmaps only down to the room it needs",
                            requested, growth.unmapped_spans, growth.unmapped_bytes, growth.before_bytes,
                            growth.new_span_bytes, config.budget_bytes, growth.largest_unmapped_bytes,
                            without_largest),
                result.value().data());
}

}  // namespace segsim::scenarios
