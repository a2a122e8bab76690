// accounting: the allocator's own invariants (audit) hold, and its view of
// virtual memory is the operating system's.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_accounting() {
  if (allocator_ == nullptr) return;
  const std::vector<std::string> violations = allocator_->audit();
  if (!violations.empty()) {
    fail("accounting", fmt::format("allocator audit: {} (and {} more)", violations.front(), violations.size() - 1));
  }
  std::uint64_t allocator_virtual = allocator_->stats().virtual_bytes;
  for (const auto& source : mapped_sources_) allocator_virtual += source();
  const faults::SimOsStats os = os_.stats();
  const std::uint64_t os_anonymous = os.virtual_bytes - os.file_bytes;  // page files are not the allocator's
  if (allocator_virtual != os_anonymous) {
    fail("accounting", fmt::format("allocator counts {} virtual bytes, the OS has {} anonymous bytes mapped",
                                   allocator_virtual, os_anonymous));
  }
}

}  // namespace segsim::scenarios
