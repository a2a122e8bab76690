// arena chunks: the header's growth rule, per allocation that grew — a new
// chunk doubles the arena's last one (a root's last is its initial chunk, at
// most 256 KiB; a savepoint has none until it grows), up to 256 KiB and at
// least the smallest class holding the request; near the limit (the doubled
// chunk would take the tree past it) the least class holding the request.
// An allocation that took no new chunk reserved nothing.
#include <algorithm>

#include <fmt/format.h>

#include "core/size_class.h"
#include "scenarios/oracles/arena_oracles.h"

namespace segsim::scenarios {

namespace {

std::size_t least_class_holding(std::size_t bytes) {
  std::size_t chunk = kSmallestClassBytes;
  while (chunk < bytes) chunk *= 2;
  return chunk;
}

}  // namespace

void ArenaOracles::check_growth(const TxnArena& arena, const Snapshot& before, std::size_t bytes) {
  const Snapshot after = snapshot(arena);
  const std::size_t grown_bytes = after.reserved - before.reserved;
  if (after.chunks == before.chunks) {
    if (after.reserved != before.reserved) {
      hub_.fail("arena-chunks", fmt::format("allocate({}) took no new chunk but reserved {} -> {} bytes", bytes,
                                            before.reserved, after.reserved));
    }
    return;
  }
  auto last = last_chunk_bytes_.find(arena.id());
  if (last == last_chunk_bytes_.end()) {
    const std::size_t initial = arena.parent_id() == 0 ? profile_spec(arena.profile()).initial_bytes : 0;
    last = last_chunk_bytes_.emplace(arena.id(), std::min(initial, kLargestClassBytes)).first;
  }
  const std::size_t doubled = last->second == 0 ? kSmallestClassBytes : std::min(kLargestClassBytes, 2 * last->second);
  std::size_t expected = least_class_holding(std::max(doubled, bytes));
  const bool near_limit = before.tree_reserved + expected > profile_spec(arena.profile()).limit_bytes;
  if (near_limit) expected = least_class_holding(bytes);
  if (after.chunks != before.chunks + 1 || after.reserved < before.reserved || grown_bytes != expected) {
    hub_.fail("arena-chunks", fmt::format("allocate({}) grew arena {} by {} chunk(s), {} -> {} bytes; the rule says one "
                                          "chunk of {} bytes (last chunk {} bytes{})",
                                          bytes, arena.id(), after.chunks - before.chunks, before.reserved,
                                          after.reserved, expected, last->second,
                                          near_limit ? ", near the limit" : ""));
  }
  last->second = grown_bytes;
}

}  // namespace segsim::scenarios
