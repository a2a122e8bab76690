// Virtual and resident bytes over simulated time (for --plot and the
// bounded-growth oracle): a sample every so many steps, at most kMaxSamples.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "scenarios/run.h"

namespace segsim::scenarios {

class MemorySampler {
 public:
  static constexpr std::size_t kMaxSamples = 4096;

  void every(std::uint64_t interval_steps) { interval_steps_ = interval_steps; }

  // Whether a sample is due at `step`; if so, it counts as taken.
  bool due(std::uint64_t step) {
    if (step < last_step_ + interval_steps_) return false;
    last_step_ = step;
    return true;
  }

  // Off the simulation (no clock) a sample takes the last one's time.
  void record(std::optional<std::int64_t> now_ns, std::uint64_t virtual_bytes, std::uint64_t resident_bytes) {
    if (samples_.size() >= kMaxSamples) return;
    const std::int64_t time_ns = now_ns ? *now_ns : samples_.empty() ? 0 : samples_.back().time_ns;
    samples_.push_back(MemorySample{time_ns, virtual_bytes, resident_bytes});
    peak_resident_bytes_ = std::max(peak_resident_bytes_, resident_bytes);
  }

  const std::vector<MemorySample>& samples() const noexcept { return samples_; }
  std::uint64_t peak_resident_bytes() const noexcept { return peak_resident_bytes_; }

 private:
  std::vector<MemorySample> samples_;
  std::uint64_t interval_steps_ = 5000;
  std::uint64_t last_step_ = 0;
  std::uint64_t peak_resident_bytes_ = 0;
};

}  // namespace segsim::scenarios
