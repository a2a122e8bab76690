// arena-refusal: a refused arena call was necessary — InvalidSize only for
// bad arguments, OutOfBudget only when even the least chunk holding the
// request passes the transaction's limit (or a fault made the segment
// allocator refuse) — and changed nothing. arena-budget: a transaction's
// arenas never reserve more than its profile's limit.
#include <fmt/format.h>

#include "scenarios/oracles/arena_oracles.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

void ArenaOracles::expect_refused(const Status& got, Errc expected, const char* doing) {
  if (got.ok()) hub_.fail("arena-refusal", fmt::format("{} succeeded; the model says {}", doing, errc_name(expected)));
  if (got.error().code != expected) {
    hub_.fail("arena-refusal",
              fmt::format("{} refused with {}; the model says {}", doing, got.error().describe(), errc_name(expected)));
  }
}

ArenaOracles::Snapshot ArenaOracles::snapshot(const TxnArena& arena) {
  return {arena.used_bytes(), arena.reserved_bytes(), arena.tree_reserved_bytes(), arena.chunk_count()};
}

void ArenaOracles::check_refused_allocate(const TxnArena& arena, const Snapshot& before, std::size_t bytes,
                                          std::size_t alignment, const Error& error, bool fault_tolerated) {
  check_error_text(hub_, error);
  const bool bad_args = bytes == 0 || bytes > kArenaMaxObjectBytes || alignment == 0 ||
                        (alignment & (alignment - 1)) != 0 || alignment > kArenaMaxAlignment;
  if (bad_args != (error.code == Errc::InvalidSize)) {
    hub_.fail("arena-refusal", fmt::format("allocate({}, align {}) refused with {}", bytes, alignment, error.describe()));
  }
  // OutOfBudget is the profile's limit, or the segment allocator's budget
  // (shared with every other transaction): only the first is the arena's to judge.
  const bool profile_limit = std::string_view(error.detail) == kArenaLimitDetail;
  if (!bad_args && !profile_limit) {
    ++segment_refusals_seen_;  // the segment allocator's: the chunk it would have grown was refused
  }
  if (error.code == Errc::OutOfBudget && profile_limit && !fault_tolerated) {
    const std::size_t least = class_bytes(static_cast<std::size_t>(class_of(bytes)));
    const std::size_t limit = profile_spec(arena.profile()).limit_bytes;
    if (before.tree_reserved + least <= limit) {
      hub_.fail("arena-refusal", fmt::format("allocate({}) refused as over the limit, but {} reserved + a {} B chunk fit in {}",
                                             bytes, before.tree_reserved, least, limit));
    }
  } else if (!bad_args && error.code != Errc::OutOfBudget && !fault_tolerated) {
    hub_.fail("arena-refusal", fmt::format("allocate({}) refused: {}", bytes, error.describe()));
  }
  const Snapshot after = snapshot(arena);
  if (after.used != before.used || after.reserved != before.reserved || after.tree_reserved != before.tree_reserved ||
      after.chunks != before.chunks) {
    hub_.fail("arena-refusal", fmt::format("a refused allocate({}) changed the arena: reserved {} -> {}, chunks {} -> {}",
                                           bytes, before.tree_reserved, after.tree_reserved, before.chunks, after.chunks));
  }
}

void ArenaOracles::check_refused_begin(const Error& error, bool fault_tolerated) {
  check_error_text(hub_, error);
  const bool too_many = error.code == Errc::OutOfBudget && std::string_view(error.detail) == kArenaTooManyDetail;
  if (!too_many) ++segment_refusals_seen_;  // the segment allocator refused an initial chunk
  if (!fault_tolerated) hub_.fail("arena-refusal", "begin refused: " + error.describe());
}

void ArenaOracles::check_budget(const TxnArena& arena) {
  const std::size_t limit = profile_spec(arena.profile()).limit_bytes;
  if (arena.tree_reserved_bytes() > limit) {
    hub_.fail("arena-budget", fmt::format("transaction {} reserves {} bytes, over its {} profile's limit {}", arena.txn(),
                                          arena.tree_reserved_bytes(), profile_spec(arena.profile()).name, limit));
  }
}

}  // namespace segsim::scenarios
