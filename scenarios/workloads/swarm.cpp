#include "scenarios/workloads/swarm.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/size_class.h"

namespace segsim::scenarios {

namespace {
constexpr std::uint32_t kMaxWeight = 8;
}  // namespace

OpMix::OpMix(sim::Rng& rng, std::size_t kinds, std::initializer_list<std::size_t> always_on)
    : weights_(kinds, 0) {
  SEGSIM_ASSERT(kinds > 0, "an operation mix needs a kind");
  for (std::size_t k = 0; k < kinds; ++k) {
    const bool forced = std::find(always_on.begin(), always_on.end(), k) != always_on.end();
    const std::uint32_t weight = 1 + static_cast<std::uint32_t>(rng.below(kMaxWeight));
    if (forced || rng.chance(0.5)) weights_[k] = weight;
  }
  if (std::all_of(weights_.begin(), weights_.end(), [](std::uint32_t w) { return w == 0; })) {
    weights_[rng.below(kinds)] = 1;
  }
  for (std::uint32_t w : weights_) total_ += w;
}

std::size_t OpMix::pick(sim::Rng& rng) const {
  std::uint64_t at = rng.below(total_);
  for (std::size_t k = 0; k < weights_.size(); ++k) {
    if (at < weights_[k]) return k;
    at -= weights_[k];
  }
  SEGSIM_ASSERT(false, "weights add up to total");
  return 0;
}

std::string OpMix::describe(const std::vector<std::string>& names) const {
  std::string out;
  for (std::size_t k = 0; k < weights_.size(); ++k) {
    if (weights_[k] == 0) continue;
    if (!out.empty()) out += ' ';
    out += fmt::format("{}:{}", k < names.size() ? names[k] : std::to_string(k), weights_[k]);
  }
  return out;
}

std::size_t draw_size(sim::Rng& rng, std::size_t lo, std::size_t hi, std::span<const std::size_t> edges) {
  SEGSIM_ASSERT(lo <= hi, "size range");
  if (rng.chance(0.5)) return lo + rng.below(hi - lo + 1);
  std::vector<std::size_t> points{lo, hi};
  for (std::size_t edge : edges) {
    for (std::size_t p : {edge - 1, edge, edge + 1}) {
      if (edge == 0 && p == edge - 1) continue;
      if (p >= lo && p <= hi) points.push_back(p);
    }
  }
  return points[rng.below(points.size())];
}

std::size_t draw_allocation_bytes(sim::Rng& rng, std::size_t max_bytes) {
  const std::uint64_t roll = rng.below(100);
  if (roll < 2) return 0;                       // refused: InvalidSize
  if (roll < 4) return kLargestClassBytes + 1;  // refused: InvalidSize
  const std::size_t top = std::min(max_bytes, kLargestClassBytes);
  if (roll < 50) {
    const std::size_t edge = class_bytes(rng.below(kSizeClassCount));
    const std::size_t at = edge - 1 + rng.below(3);  // edge - 1, edge, edge + 1
    return std::clamp<std::size_t>(at, 1, top);
  }
  return 1 + rng.below(top);
}

}  // namespace segsim::scenarios
