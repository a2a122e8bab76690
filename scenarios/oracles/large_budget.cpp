// large-budget: "mapped bytes (plus shared_used_bytes(), when set) never
// exceed budget_bytes" (LargeObjectAllocator's header). With a shared budget
// the other users' bytes change while a call runs, so the promise is judged
// against what the allocator read: the workload's shared_used_bytes hook
// reports each value it returns (shared_bytes_read), and when a span was
// mapped after the call's last read, the allocator's mapped bytes when the
// call ended — by its Os ledger — plus that value may not pass the budget.
// Sound because the growth holds the allocator's lock from its read to its
// map, and afterwards other clients can only unmap spans: the bytes mapped
// at the end are at most those mapped right after the map. Without a shared
// budget, the most the allocator ever had mapped (its Os ledger's peak) may
// not pass the budget, checked after every allocate.
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"

namespace segsim::scenarios {

void LargeObjectChecks::shared_bytes_read(std::size_t bytes) {
  shared_read_in_call_ = SharedRead{bytes, advises_.ledger().maps_ok};
}

void LargeObjectChecks::check_budget(std::size_t requested) {
  const std::optional<SharedRead> read = std::exchange(shared_read_in_call_, std::nullopt);
  const std::size_t budget_bytes = large_.config().budget_bytes;
  if (!large_.config().shared_used_bytes) {  // the budget its own: at no moment past it
    if (const std::uint64_t peak_bytes = advises_.ledger().peak_mapped_bytes; peak_bytes > budget_bytes) {
      oracles_.fail("large-budget", fmt::format("after allocate({}) the allocator has had {} bytes mapped at most, "
                                                "past its budget of {}",
                                                requested, peak_bytes, budget_bytes));
    }
    return;
  }
  if (!read || advises_.ledger().maps_ok == read->maps_ok_before) return;
  const std::uint64_t mapped_bytes = advises_.ledger().mapped_bytes;
  if (mapped_bytes + read->bytes <= budget_bytes) return;
  oracles_.fail("large-budget", fmt::format("allocate({}) mapped a span with {} bytes of the shared budget used "
                                            "elsewhere: {} bytes mapped after it, {} in all, past the budget of {}",
                                            requested, read->bytes, mapped_bytes, mapped_bytes + read->bytes,
                                            budget_bytes));
}

}  // namespace segsim::scenarios
