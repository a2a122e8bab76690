// Linearizability of a small concurrent history against a sequential model
// (Herlihy & Wing 1990), checked by the Wing–Gong search: pick any pending
// operation that no other pending operation precedes in real time (its
// response came before this one's invocation), apply it to a copy of the
// model, keep going while the result it returned is the model's, backtrack
// otherwise. A (set of linearized operations, model) pair that led nowhere is
// remembered and not searched again (Lowe's memoisation), so a history that is
// not linearizable costs the reachable states, not every interleaving. Meant
// for histories of a few dozen operations of which a dozen overlap
// (sim/tests/concurrent_property_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace segsim::sim::testing {

// One completed operation: [invoked, responded] on a logical clock that
// ticks at every invocation and response, so a.responded < b.invoked means a
// finished before b began.
template <class Op>
struct Completed {
  std::uint32_t thread = 0;
  std::uint64_t invoked = 0;
  std::uint64_t responded = 0;
  Op op;
  std::int64_t result = 0;
};

// A linearization of `history` (indices in order) under which `apply` —
// bool(Model&, const Op&, std::int64_t result): steps the model and says
// whether it allows that result — accepts every operation; nullopt if none.
// Model needs operator== (for the memo).
template <class Op, class Model, class Apply>
std::optional<std::vector<std::size_t>> linearize(const std::vector<Completed<Op>>& history, const Model& initial,
                                                  Apply apply) {
  const std::size_t n = history.size();
  std::vector<bool> done(n, false);
  std::vector<std::size_t> order;
  std::map<std::vector<bool>, std::vector<Model>> dead_ends;
  // Depth-first, models copied per level (they are small).
  auto search = [&](auto&& self, const Model& model) -> bool {
    if (order.size() == n) return true;
    std::vector<Model>& seen = dead_ends[done];
    for (const Model& dead : seen) {
      if (dead == model) return false;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      bool minimal = true;
      for (std::size_t j = 0; j < n && minimal; ++j) {
        minimal = done[j] || j == i || history[j].responded > history[i].invoked;
      }
      if (!minimal) continue;
      Model next = model;
      if (!apply(next, history[i].op, history[i].result)) continue;
      done[i] = true;
      order.push_back(i);
      if (self(self, next)) return true;
      order.pop_back();
      done[i] = false;
    }
    dead_ends[done].push_back(model);
    return false;
  };
  if (!search(search, initial)) return std::nullopt;
  return order;
}

}  // namespace segsim::sim::testing
