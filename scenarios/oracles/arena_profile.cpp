// arena-profile: see arena_profile.h. The 90 % cover is computed as a count
// per size band, not as a rank in a sorted history: the first profile whose
// band and the bands below it hold at least 9 in 10 of the transactions
// (with none, every count is enough: the first profile).
#include "scenarios/oracles/arena_profile.h"

#include <array>

#include <fmt/format.h>

#include "scenarios/oracles/arena_oracles.h"

namespace segsim::scenarios {

namespace {

// The seed's bands (txn_arena.h): < 10 KB tiny, < 100 KB small, < 1 MB
// medium, < 10 MB large, else huge — decimal, as the seed writes them.
constexpr std::array<std::size_t, kArenaProfileCount - 1> kBandEndBytes = {10'000, 100'000, 1'000'000, 10'000'000};

std::size_t band_of(std::size_t bytes) {
  std::size_t band = 0;
  while (band < kBandEndBytes.size() && bytes >= kBandEndBytes[band]) ++band;
  return band;
}

template <class Entry, class SizeOf>
std::size_t covering_band(const std::deque<Entry>& window, SizeOf size_of) {
  std::array<std::size_t, kArenaProfileCount> per_band{};
  for (const auto& ended : window) ++per_band[band_of(size_of(ended))];
  std::size_t covered = 0;
  for (std::size_t band = 0; band < kArenaProfileCount; ++band) {
    covered += per_band[band];
    if (covered * 10 >= window.size() * 9) return band;
  }
  return kArenaProfileCount - 1;
}

}  // namespace

std::uint64_t ArenaProfileModel::root_end_started() {
  const std::uint64_t ticket = ++ends_started_;
  const bool overlapping = !in_flight_.empty();
  for (auto& [other, overlapped] : in_flight_) overlapped = true;
  in_flight_.emplace(ticket, overlapping);
  return ticket;
}

void ArenaProfileModel::root_end_done(std::uint64_t ticket, bool ended, const std::vector<ArenaObject>& kept) {
  const auto it = in_flight_.find(ticket);
  const bool overlapped = it != in_flight_.end() && it->second;
  if (it != in_flight_.end()) in_flight_.erase(it);
  if (!ended) return;
  Ended sizes{0, 0, overlapped};
  for (const ArenaObject& object : kept) {
    sizes.low_bytes += object.bytes;
    sizes.high_bytes += object.bytes + object.alignment - 1;
  }
  window_.push_back(sizes);
  if (window_.size() > history_size_) {
    evicted_ = true;
    last_evicted_overlapped_ = window_.front().overlapped;
    window_.pop_front();
  }
}

void ArenaProfileModel::check_suggested(Oracles& oracles, const Mark& before, ArenaProfile got) const {
  const bool same_history = before.quiet && in_flight_.empty() && ends_started_ == before.ends_started &&
                            (!evicted_ || (!last_evicted_overlapped_ && !window_.front().overlapped));
  if (!same_history) return;
  const std::size_t low = covering_band(window_, [](const Ended& e) { return e.low_bytes; });
  const std::size_t high = covering_band(window_, [](const Ended& e) { return e.high_bytes; });
  const std::size_t band = static_cast<std::size_t>(got);
  if (band < low || band > high) {
    oracles.fail("arena-profile",
                 fmt::format("suggest_profile() opened a {} arena; 90 % of the last {} transactions' sizes are "
                             "covered by {} (at least) to {} (at most)",
                             profile_spec(got).name, window_.size(),
                             profile_spec(static_cast<ArenaProfile>(low)).name,
                             profile_spec(static_cast<ArenaProfile>(high)).name));
  }
}

}  // namespace segsim::scenarios
