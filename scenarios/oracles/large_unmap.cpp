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

}  // namespace segsim::scenarios
