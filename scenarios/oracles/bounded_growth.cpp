// bounded growth (seed 002): once warmed up, a cyclic workload's virtual
// bytes stop growing — returned regions are freed and reused, not leaked.
#include <algorithm>

#include <fmt/format.h>

#include "scenarios/oracles/growth_bound.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

std::string GrowthBound::verdict(const std::vector<MemorySample>& samples, std::uint64_t cleanups_started) const {
  if (!bound_) return {};
  const auto [warmup_fraction, min_slack_bytes] = *bound_;
  // Samples are evenly spaced in steps: the first fraction of them is warm-up.
  const auto warm = static_cast<std::size_t>(static_cast<double>(samples.size()) * warmup_fraction);
  std::uint64_t warm_peak = 0;
  for (std::size_t i = 0; i < warm; ++i) warm_peak = std::max(warm_peak, samples[i].virtual_bytes);
  // A cleanup detaches fully-free regions while it releases them; a client
  // growing its class meanwhile maps new ones, so the level can step up a
  // little with the interleaving. Seed 002 calls 500 -> 600 MB "bounded": a
  // quarter of the warm-up peak is allowed, a leak outgrows any such bound.
  const std::uint64_t slack = std::max(min_slack_bytes, warm_peak / 4);
  for (std::size_t i = warm; i < samples.size(); ++i) {
    if (samples[i].virtual_bytes > warm_peak + slack) {
      return fmt::format("virtual bytes grew to {} after warm-up (warm-up peak {}, slack {})",
                         samples[i].virtual_bytes, warm_peak, slack);
    }
  }
  // Seed 002's success indicator: pools that pass the threshold start the
  // proactive cleanup. (Whether a freed region is then reused depends on the
  // schedule: an unfair one may run the cleanup only at the very end.)
  if (cleanups_started == 0) {
    return "no proactive cleanup started although pools passed the threshold: regions are freed only under budget";
  }
  return {};
}

void Oracles::check_bounded_growth() {
  if (!growth_.expected() || allocator_ == nullptr) return;
  const std::string verdict = growth_.verdict(sampler_.samples(), allocator_->stats().cleanups_started());
  if (!verdict.empty()) fail("bounded-growth", verdict);
}

}  // namespace segsim::scenarios
