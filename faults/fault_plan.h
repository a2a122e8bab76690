// Fault plans: which faults a run injects, parsed from a strict textual spec.
//
//   none
//   swarm                                  (the seed picks kinds and rates)
//   mmap:ENOMEM@nth=3                      the 3rd mmap fails with ENOMEM
//   madvise:EAGAIN@p=0.05                  each madvise fails with probability 0.05
//   munmap:ENOMEM@after=100                every munmap after the 100th fails
//   map_file:EIO@p=0.5                     (also: stat)
//   write:EINTR@p=0.3                      a file write is interrupted (also: create, close)
//   madvise:EINVAL@p=0.01,mmap:ENOMEM@p=0.001
//   async:delay@p=0.2                      a spawned task first yields 1..16 times
//   async:reorder                          every spawned task first yields 0..32 times
//   point:alloc.pool.slow_path@p=0.25      a core fault point fires with probability p
//   point:*@p=0.1                          every fault point
//
// A plan is part of a run's identity: describe() gives back a spec that parses
// to the same plan, and swarm plans are described concretely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/os.h"
#include "core/result.h"

namespace segsim::faults {

enum class FaultTarget : std::uint8_t { OsCall, AsyncDelay, AsyncReorder, FaultPoint };

struct FaultRule {
  FaultTarget target = FaultTarget::OsCall;
  OsCall call = OsCall::Map;     // OsCall rules
  int errno_value = 0;           // OsCall rules
  std::string point;             // FaultPoint rules: a site name, or "*"
  // Trigger: exactly one of these is set (probability defaults to 1 for async).
  std::uint64_t nth = 0;         // the nth call (1-based)
  std::uint64_t after = 0;       // every call after the `after`th
  double probability = -1;       // each call with this probability

  std::string describe() const;
};

struct FaultPlan {
  std::vector<FaultRule> rules;
  bool empty() const noexcept { return rules.empty(); }
  // A spec that parses back to this plan ("none" when empty).
  std::string describe() const;
};

// Parses a spec (not "swarm": see swarm_plan). Errors are InvalidConfig with
// a one-line detail naming the bad rule; `error_text` receives that line.
Result<FaultPlan> parse_fault_plan(std::string_view spec, std::string* error_text = nullptr);

// TigerBeetle-style swarm testing: the seed decides which fault kinds are on
// for this run and at what rates, and (FoundationDB's two-tier BUGGIFY) each
// core fault point is enabled with p = 0.25, then fires with p = 0.25.
FaultPlan swarm_plan(std::uint64_t seed);

// "swarm" → swarm_plan(seed); anything else → parse_fault_plan.
Result<FaultPlan> make_fault_plan(std::string_view spec, std::uint64_t seed,
                                  std::string* error_text = nullptr);

// errno names the specs accept.
std::optional<int> errno_from_name(std::string_view name);
std::string_view errno_name(int errno_value);

}  // namespace segsim::faults
