// arena-nesting: no child outlives its parent. Ending an arena that has a
// live child is refused with InUse and changes nothing (the arena is still
// open, with the same children); an arena that ended successfully is gone.
#include <fmt/format.h>

#include "scenarios/oracles/arena_oracles.h"

namespace segsim::scenarios {

void ArenaOracles::check_end_refused_with_child(TxnArenaManager& manager, std::uint64_t id,
                                                std::size_t children_before, const Status& got) {
  if (got.ok()) hub_.fail("arena-nesting", fmt::format("arena {} ended while a child of it was live", id));
  if (got.error().code != Errc::InUse) {
    hub_.fail("arena-nesting", fmt::format("ending arena {} with a live child: {}", id, got.error().describe()));
  }
  Result<TxnArena*> still = manager.find(id);
  if (!still.ok() || still.value()->live_children() != children_before) {
    hub_.fail("arena-nesting", fmt::format("a refused end changed arena {}", id));
  }
}

void ArenaOracles::check_ended(const TxnArenaManager& manager, std::uint64_t id) {
  Result<TxnArena*> found = manager.find(id);
  if (found.ok() || found.error().code != Errc::DoubleFree) {
    hub_.fail("arena-nesting", fmt::format("arena {} ended but is still found", id));
  }
  last_chunk_bytes_.erase(id);  // arena_chunks.cpp's model of it
}

}  // namespace segsim::scenarios
