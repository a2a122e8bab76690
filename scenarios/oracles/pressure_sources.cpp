// pressure, pressure-sources: the loop decides from PressureLoop::used_bytes(),
// the sum of its sources, so a tick's used bytes before and after its action
// must each be the sum of one complete reading of every source, as the
// readers answered it during that tick. Other fibers (a reclaim on an
// allocation over budget) may read the sources meanwhile: their readings are
// allowed too, never a value no reading produced.
#include <algorithm>

#include <fmt/format.h>

#include "scenarios/oracles/pressure.h"

namespace segsim::scenarios {

std::function<std::size_t()> SourceLedger::wrap(std::size_t index, std::function<std::size_t()> read) {
  return [this, index, read = std::move(read)] {
    const std::size_t value = read();
    Partial& partial = partial_[fiber_()];
    if (partial.read.empty()) partial.read.assign(sources_, false);
    if (partial.read[index]) {
      oracles_.fail("pressure-sources", fmt::format("source {} read twice in one reading of the loop's usage", index));
    }
    partial.read[index] = true;
    partial.sum += value;
    if (++partial.count == sources_) {
      completed_.push_back(partial.sum);
      partial = Partial{};
    }
    return value;
  };
}

void SourceLedger::tick_starts() { completed_.clear(); }

void SourceLedger::check_tick(const PressureTick& tick) {
  auto read = [&](std::size_t used) { return std::find(completed_.begin(), completed_.end(), used) != completed_.end(); };
  if (!read(tick.used_before_bytes) || !read(tick.used_after_bytes)) {
    std::string readings;
    for (std::size_t used : completed_) readings += fmt::format(" {}", used);
    oracles_.fail("pressure-sources", fmt::format("a tick reports {} B used before its action and {} B after; the "
                                                  "sources' readings during the tick summed to:{}",
                                                  tick.used_before_bytes, tick.used_after_bytes,
                                                  readings.empty() ? " (no complete reading)" : readings));
  }
}

}  // namespace segsim::scenarios
