// The double-free checker's state: how many refusals a workload asked for on
// purpose (stale, foreign and null handles). The allocator refusing more than
// that means the stack above it released something twice.
#pragma once

#include <cstdint>
#include <string>

#include "core/allocator_stats.h"
#include "core/error.h"

namespace segsim::scenarios {

class RefusalLedger {
 public:
  // A deliberate bad call is about to be made (DoubleFree or InvalidPointer).
  void expect(Errc code);
  // The expected refusal did not come (a call whose outcome was not known).
  void unexpect(Errc code);
  // "" when the allocator refused no more than was asked for, else why not.
  std::string excess(const AllocatorStats& stats) const;

 private:
  std::uint64_t expected_double_frees_ = 0;
  std::uint64_t expected_invalid_pointers_ = 0;
};

}  // namespace segsim::scenarios
