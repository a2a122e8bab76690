// The bounded-growth checker's state (seed 002): the bound a scenario asked
// for, if any. Judged at quiescence over the run's memory samples.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/run.h"

namespace segsim::scenarios {

class GrowthBound {
 public:
  // After the first `warmup_fraction` of the run, virtual bytes may not
  // exceed the warm-up peak plus max(slack_bytes, a quarter of that peak).
  void expect(double warmup_fraction, std::uint64_t slack_bytes) { bound_ = {warmup_fraction, slack_bytes}; }
  bool expected() const noexcept { return bound_.has_value(); }
  // "" when the samples stay within the bound and the proactive cleanup
  // started (or no bound was asked for), else why not.
  std::string verdict(const std::vector<MemorySample>& samples, std::uint64_t cleanups_started) const;

 private:
  std::optional<std::pair<double, std::uint64_t>> bound_;  // warm-up fraction, slack bytes
};

}  // namespace segsim::scenarios
