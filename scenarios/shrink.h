// `segsim shrink`: minimises a failing run while the same oracle still fails.
// In order: fewer client threads, a smaller size knob, fewer fault rules,
// then fewer scheduling decisions — delta debugging (ddmin) over the recorded
// decision list, each candidate replayed leniently (RunSpec::lenient_replay).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/result.h"
#include "scenarios/repro.h"

namespace segsim::scenarios {

// Hard ceilings over whatever the caller asks for: a shrink is interactive.
// The CLI refuses values outside them.
inline constexpr std::uint32_t kMaxRunsCeiling = 1'000'000;
inline constexpr double kMaxSecondsCeiling = 24 * 3600.0;

struct ShrinkLimits {
  std::uint32_t max_runs = 2000;     // candidate runs, at most
  double max_seconds = 300;          // wall time, at most
};

struct ShrinkResult {
  Repro minimal;                     // still fails with the same oracle
  std::uint64_t runs = 0;
  std::size_t decisions_before = 0;  // of the original failing run
  std::size_t decisions_after = 0;
  std::uint32_t threads_before = 0, threads_after = 0;
  std::uint32_t size_before = 0, size_after = 0;
  std::size_t fault_rules_before = 0, fault_rules_after = 0;
};

// InvalidConfig when `failing` does not fail (nothing to shrink), with a line.
// Progress lines go to `log`.
Result<ShrinkResult> shrink(const Repro& failing, const ShrinkLimits& limits, std::ostream& log,
                            std::string* error_line);

}  // namespace segsim::scenarios
