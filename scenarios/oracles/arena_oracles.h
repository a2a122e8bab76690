// The TxnArenaManager's oracles (issue 14), one file per promise:
//   arena_refusals.cpp   every completed call is one the reference model
//                        allows; a refusal was necessary (bad arguments, the
//                        profile's limit, an injected fault) and changed
//                        nothing; the tree never reserves past its limit    "arena-refusal", "arena-budget"
//   arena_ownership.cpp  no two live arena objects share bytes; each reads
//                        back its owner's pattern               "arena-ownership", "arena-content"
//   arena_rollback.cpp   after a rollback none of its memory is visible in
//                        its transaction; after a commit into the parent all
//                        of it is the parent's                  "arena-rollback", "arena-commit"
//   arena_nesting.cpp    no child outlives its parent: ending an arena with a
//                        live child is refused (InUse) and changes nothing;
//                        an ended arena is gone                 "arena-nesting"
//   arena_chunks.cpp     a chunk grown by an allocation doubles the arena's
//                        last (≤ 256 KiB, ≥ the request; near the limit the
//                        least that holds it); no chunk, no bytes  "arena-chunks"
//   arena_accounting.cpp at quiescence nothing is live, every chunk went
//                        back, the counts cover the model's (segment
//                        refusals included), audit() is clean   "arena-accounting"
//   arena_profile.cpp    suggest_profile() covers 90 % of the recent
//                        transactions' sizes (arena_profile.h)   "arena-profile"
//   arena_stats.cpp      a stats() snapshot mid-run counts at least the
//                        calling fiber's live arenas and their bytes, its
//                        peak is at least what is reserved now, and its
//                        metadata estimate is within the header's bounds  "arena-stats"
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/txn_arena.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

// One object the workload allocated in an arena, with the pattern it wrote.
struct ArenaObject {
  std::byte* data = nullptr;
  std::size_t bytes = 0;
  std::uint8_t fill = 0;
  std::size_t alignment = 1;  // asked for: the bump may pad up to alignment − 1 before it
};

struct ArenaModelCounts {
  std::uint64_t begun = 0, refused_ends = 0;
  std::uint64_t children_begun = 0, commits = 0, rollbacks = 0;
  std::uint64_t over_limit = 0;  // allocations refused with kArenaLimitDetail
  std::array<std::uint64_t, kArenaProfileCount> begun_by_profile{};
};

class ArenaOracles {
 public:
  ArenaOracles(Oracles& hub, faults::SimOs& os) : hub_(hub), os_(os) {}

  // arena_refusals.cpp
  void expect_refused(const Status& got, Errc expected, const char* doing);
  // arena_stats.cpp: `own` are the calling fiber's live arenas (others' may be live too).
  void check_stats(const TxnArenaStats& stats, const std::vector<const TxnArena*>& own);
  // A refused allocate: necessary (bad arguments, the limit, a tolerated
  // fault) and nothing changed.
  struct Snapshot {
    std::size_t used, reserved, tree_reserved, chunks;
  };
  static Snapshot snapshot(const TxnArena& arena);
  void check_refused_allocate(const TxnArena& arena, const Snapshot& before, std::size_t bytes,
                              std::size_t alignment, const Error& error, bool fault_tolerated);
  // A refused begin / begin_estimated: max_live_arenas open, or the segment
  // allocator refused an initial chunk (counted: arena-accounting).
  void check_refused_begin(const Error& error, bool fault_tolerated);
  void check_budget(const TxnArena& arena);

  // arena_chunks.cpp: after a successful allocate of `bytes`, `before` its
  // snapshot (check_ended forgets an ended arena's last chunk).
  void check_growth(const TxnArena& arena, const Snapshot& before, std::size_t bytes);

  // arena_ownership.cpp
  void object_allocated(const TxnArena& arena, const ArenaObject& object, std::size_t alignment);
  void objects_gone(const std::vector<ArenaObject>& objects);
  void check_content(const ArenaObject& object);

  // arena_rollback.cpp: `tree` is the transaction's arenas still open.
  void check_rolled_back(const TxnArenaManager& manager, const std::vector<ArenaObject>& objects,
                         const std::vector<std::uint64_t>& tree);
  void check_committed(const TxnArenaManager& manager, const std::vector<ArenaObject>& objects,
                       std::uint64_t parent_id);

  // arena_nesting.cpp
  void check_end_refused_with_child(TxnArenaManager& manager, std::uint64_t id, std::size_t children_before,
                                    const Status& got);
  void check_ended(const TxnArenaManager& manager, std::uint64_t id);

  // arena_accounting.cpp
  void check_quiescent(const TxnArenaManager& manager, const ArenaModelCounts& model);

 private:
  std::string name(const std::byte* data) const;
  Oracles& hub_;
  faults::SimOs& os_;
  std::map<std::uint64_t, std::uint64_t> live_;  // SimOs offset → end offset of each live object
  std::map<std::uint64_t, std::size_t> last_chunk_bytes_;  // arena id → its last chunk's bytes (0: none yet)
  // Allocations the workload saw refused by the segment allocator (not the
  // profile's limit) and begins refused an initial chunk: the manager's
  // segment_refusals must count exactly these.
  std::uint64_t segment_refusals_seen_ = 0;
};

}  // namespace segsim::scenarios
