// bounded growth (seed 002): once warmed up, a cyclic workload's virtual
// bytes stop growing — returned regions are freed and reused, not leaked.
#include <algorithm>

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_bounded_growth() {
  if (!growth_bound_ || allocator_ == nullptr) return;
  const auto [warmup_fraction, min_slack_bytes] = *growth_bound_;
  // Samples are evenly spaced in steps: the first fraction of them is warm-up.
  const auto warm = static_cast<std::size_t>(static_cast<double>(samples_.size()) * warmup_fraction);
  std::uint64_t warm_peak = 0;
  for (std::size_t i = 0; i < warm; ++i) warm_peak = std::max(warm_peak, samples_[i].virtual_bytes);
  // A cleanup detaches fully-free regions while it releases them; a client
  // growing its class meanwhile maps new ones, so the level can step up a
  // little with the interleaving. Seed 002 calls 500 -> 600 MB "bounded": a
  // quarter of the warm-up peak is allowed, a leak outgrows any such bound.
  const std::uint64_t slack = std::max(min_slack_bytes, warm_peak / 4);
  for (std::size_t i = warm; i < samples_.size(); ++i) {
    if (samples_[i].virtual_bytes > warm_peak + slack) {
      fail("bounded-growth", fmt::format("virtual bytes grew to {} after warm-up (warm-up peak {}, slack {})",
                                         samples_[i].virtual_bytes, warm_peak, slack));
    }
  }
  // Seed 002's success indicator: pools that pass the threshold start the
  // proactive cleanup. (Whether a freed region is then reused depends on the
  // schedule: an unfair one may run the cleanup only at the very end.)
  if (allocator_->stats().cleanups_started() == 0) {
    fail("bounded-growth",
         "no proactive cleanup started although pools passed the threshold: regions are freed only under budget");
  }
}

}  // namespace segsim::scenarios
