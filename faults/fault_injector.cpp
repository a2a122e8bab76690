#include "faults/fault_injector.h"

#include "sim/simulation.h"

namespace segsim::faults {

std::uint64_t FaultCounts::injected() const noexcept {
  std::uint64_t n = points_fired + async_delays;
  for (std::uint64_t f : os_failures) n += f;
  return n;
}

FaultInjector::FaultInjector(FaultPlan plan, std::uint64_t seed) : plan_(std::move(plan)) {
  for (std::size_t i = 0; i < plan_.rules.size(); ++i) {
    // Named by the rule and its position: editing one rule moves only its stream.
    const std::string name = "faults.rule." + std::to_string(i) + "." + plan_.rules[i].describe();
    rules_.push_back(RuleState{plan_.rules[i], sim::Rng(sim::derive_seed(seed, name)), 0});
    may_fire_ |= plan_.rules[i].target == FaultTarget::FaultPoint;
  }
  for (const auto& site : fault_points::kFaultPoints) {
    point_rngs_.emplace_back(sim::derive_seed(seed, "faults.point." + std::string(site.name)));
  }
  point_asks_.assign(point_rngs_.size(), 0);
  point_fires_.assign(point_rngs_.size(), 0);
}

void FaultInjector::trace_fault(std::uint64_t category, std::uint64_t value) {
  if (sim::Simulation* simulation = sim::Simulation::current()) {
    simulation->annotate(0, category << 32 | value);
  }
}

int FaultInjector::os_call(OsCall call) {
  int errno_value = 0;
  {
    std::lock_guard guard(mu_);
    ++counts_.os_calls[static_cast<std::size_t>(call)];
    for (RuleState& state : rules_) {
      const FaultRule& rule = state.rule;
      if (rule.target != FaultTarget::OsCall || rule.call != call) continue;
      const std::uint64_t n = ++state.calls;
      bool fires = false;
      if (rule.nth != 0) {
        fires = n == rule.nth;
      } else if (rule.probability >= 0) {
        fires = state.rng.chance(rule.probability);  // drawn on every call: stable streams
      } else {
        fires = n > rule.after;
      }
      if (fires && errno_value == 0) errno_value = rule.errno_value;
    }
    if (errno_value != 0) ++counts_.os_failures[static_cast<std::size_t>(call)];
  }
  if (errno_value != 0) {
    trace_fault(kTraceOsFault, static_cast<std::uint64_t>(call) << 16 | static_cast<std::uint64_t>(errno_value));
  }
  return errno_value;
}

bool FaultInjector::should_fire(std::size_t site_id) {
  bool fires = false;
  {
    std::lock_guard guard(mu_);
    ++point_asks_[site_id];
    const std::string_view name = fault_points::kFaultPoints[site_id].name;
    for (const RuleState& state : rules_) {
      const FaultRule& rule = state.rule;
      if (rule.target != FaultTarget::FaultPoint || (rule.point != "*" && rule.point != name)) continue;
      if (point_rngs_[site_id].chance(rule.probability)) fires = true;
    }
    if (fires) {
      ++counts_.points_fired;
      ++point_fires_[site_id];
    }
  }
  if (fires) trace_fault(kTracePointFired, site_id);
  return fires;
}

std::uint32_t FaultInjector::async_start_delay() {
  std::uint32_t yields = 0;
  {
    std::lock_guard guard(mu_);
    for (RuleState& state : rules_) {
      const FaultRule& rule = state.rule;
      if (rule.target == FaultTarget::AsyncDelay && state.rng.chance(rule.probability)) {
        yields += 1 + static_cast<std::uint32_t>(state.rng.below(16));
      } else if (rule.target == FaultTarget::AsyncReorder && state.rng.chance(rule.probability)) {
        yields += static_cast<std::uint32_t>(state.rng.below(33));
      }
    }
    if (yields != 0) ++counts_.async_delays;
  }
  if (yields != 0) trace_fault(kTraceAsyncDelay, yields);
  return yields;
}

FaultCounts FaultInjector::counts() const {
  std::lock_guard guard(mu_);
  return counts_;
}

std::uint64_t FaultInjector::asks(std::size_t site_id) const {
  std::lock_guard guard(mu_);
  return point_asks_.at(site_id);
}

std::uint64_t FaultInjector::fires(std::size_t site_id) const {
  std::lock_guard guard(mu_);
  return point_fires_.at(site_id);
}

}  // namespace segsim::faults
