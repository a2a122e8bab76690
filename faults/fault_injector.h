// FaultInjector: a FaultPlan in action for one run. It decides, from seeded
// streams derived by name from the run's seed, whether each Os call fails,
// whether each core fault point fires, and how long a spawned task waits.
// Every injected fault is recorded in the running simulation's trace.
//
// Thread-safe: FaultyOs over LinuxOs uses it from real threads.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/fault_point.h"
#include "core/os.h"
#include "faults/fault_plan.h"
#include "sim/random.h"

namespace segsim::faults {

struct FaultCounts {
  std::array<std::uint64_t, kOsCallCount> os_calls{};
  std::array<std::uint64_t, kOsCallCount> os_failures{};
  std::uint64_t points_fired = 0;
  std::uint64_t async_delays = 0;
  std::uint64_t injected() const noexcept;
};

class FaultInjector final : public fault_points::Controller {
 public:
  FaultInjector(FaultPlan plan, std::uint64_t seed);

  // An Os call is about to happen: the errno it must fail with, or 0.
  int os_call(OsCall call);
  // fault_points::Controller
  bool should_fire(std::size_t site_id) override;
  bool may_fire() const override { return may_fire_; }
  // Yields a spawned async task makes before it starts (0 = none).
  std::uint32_t async_start_delay();

  const FaultPlan& plan() const noexcept { return plan_; }
  FaultCounts counts() const;
  // How often core has asked fault point `site_id` (fired or not): a path
  // that must offer a point to the plan can be checked to have asked it.
  std::uint64_t asks(std::size_t site_id) const;
  // How often fault point `site_id` fired.
  std::uint64_t fires(std::size_t site_id) const;

 private:
  struct RuleState {
    FaultRule rule;
    sim::Rng rng;
    std::uint64_t calls = 0;  // calls this rule has seen
  };
  static void trace_fault(std::uint64_t category, std::uint64_t value);

  const FaultPlan plan_;
  mutable std::mutex mu_;  // not a platform mutex: injecting must add no scheduling point
  std::vector<RuleState> rules_;
  std::vector<sim::Rng> point_rngs_;  // one stream per fault site, by site name
  std::vector<std::uint64_t> point_asks_;   // per fault site
  std::vector<std::uint64_t> point_fires_;  // per fault site
  bool may_fire_ = false;              // a rule targets fault points (fixed at construction)
  FaultCounts counts_;
};

// Trace annotation codes (TraceOp::Annotation, detail = category << 32 | value).
inline constexpr std::uint64_t kTraceOsFault = 1;     // value: OsCall << 16 | errno
inline constexpr std::uint64_t kTracePointFired = 2;  // value: site id
inline constexpr std::uint64_t kTraceAsyncDelay = 3;  // value: yields

}  // namespace segsim::faults
