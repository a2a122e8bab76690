// arena-profile (arena_profile.cpp): TxnArenaManager::suggest_profile()
// "picks the profile that covers 90 % of the recent transactions' sizes"
// (core/txn_arena.h): the harness keeps its own history of the root
// transactions that ended — the last history_size of them, as the manager
// does — and judges the profile a begin_estimated(txn, nullopt) opened with.
//
// The model does not read used_bytes(): a transaction's size is bounded by
// the objects the workload allocated in it and kept (its own and its
// committed savepoints'): at least their bytes, at most their bytes plus
// alignment − 1 each (the bump pads to the alignment, a fresh chunk does not).
// The 90 % cover of the lower bounds and of the upper bounds bracket the
// manager's answer (a percentile is monotone in every sample).
//
// Judged only when the manager's history is the model's: no root end in
// flight on another fiber when the call starts and none started during it,
// and the window's oldest entry and the newest evicted one each ended alone
// (two ends that overlapped may be recorded in either order, which matters
// only where the window cuts between them).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "core/txn_arena.h"

namespace segsim::scenarios {

class Oracles;
struct ArenaObject;

class ArenaProfileModel {
 public:
  explicit ArenaProfileModel(std::size_t history_size) : history_size_(history_size) {}

  // Around commit / rollback of a root arena: a ticket before the call, and
  // after it whether it ended, with the objects the transaction kept.
  std::uint64_t root_end_started();
  void root_end_done(std::uint64_t ticket, bool ended, const std::vector<ArenaObject>& kept);

  // Around begin_estimated(txn, nullopt): a mark before, then the check of
  // the profile it opened with.
  struct Mark {
    bool quiet = false;  // no root end in flight
    std::uint64_t ends_started = 0;
  };
  Mark mark() const noexcept { return Mark{in_flight_.empty(), ends_started_}; }
  void check_suggested(Oracles& oracles, const Mark& before, ArenaProfile got) const;

 private:
  struct Ended {
    std::size_t low_bytes, high_bytes;
    bool overlapped;  // another root end was in flight during its call
  };
  const std::size_t history_size_;
  std::deque<Ended> window_;
  bool evicted_ = false;  // the window has been full
  bool last_evicted_overlapped_ = false;
  std::uint64_t ends_started_ = 0;
  std::map<std::uint64_t, bool> in_flight_;  // ticket → overlapped another end
};

}  // namespace segsim::scenarios
