// arena-rollback: right after a rollback, none of the rolled-back arena's
// memory belongs to an arena of its transaction that is still open (it went
// back to the segment allocator, whose canary / ASan poisoning then guards
// it). arena-commit: after a savepoint's commit all of its objects belong to
// its parent, contents intact.
#include <fmt/format.h>

#include <algorithm>

#include "scenarios/oracles/arena_oracles.h"

namespace segsim::scenarios {

void ArenaOracles::check_rolled_back(const TxnArenaManager& manager, const std::vector<ArenaObject>& objects,
                                     const std::vector<std::uint64_t>& tree) {
  for (const ArenaObject& object : objects) {
    const std::uint64_t owner = manager.owner_of(object.data);
    if (owner != 0 && std::find(tree.begin(), tree.end(), owner) != tree.end()) {
      hub_.fail("arena-rollback", fmt::format("{} is still visible in arena {} of its transaction after the rollback",
                                              name(object.data), owner),
                object.data);
    }
  }
}

void ArenaOracles::check_committed(const TxnArenaManager& manager, const std::vector<ArenaObject>& objects,
                                   std::uint64_t parent_id) {
  for (const ArenaObject& object : objects) {
    const std::uint64_t owner = manager.owner_of(object.data);
    if (owner != parent_id) {
      hub_.fail("arena-commit", fmt::format("{} of a committed savepoint belongs to arena {}, not to its parent {}",
                                            name(object.data), owner, parent_id),
                object.data);
    }
    check_content(object);
  }
}

}  // namespace segsim::scenarios
