// The arena segment-refusal drill: see arena_refusal_drill.h.
#include "scenarios/workloads/arena_refusal_drill.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/size_class.h"
#include "core/txn_arena.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace {

constexpr char kDrill[] = "arena segment-refusal drill";
// Every segment the drill and the arenas take: one region's worth.
constexpr std::size_t kChunkBytes = kLargestClassBytes;

class Drill {
 public:
  Drill(Stack& stack, SegmentAllocator& segments, TxnArenaManager& manager)
      : stack_(stack), segments_(segments), manager_(manager), fillers_(stack, segments, kChunkBytes, kDrill) {}

  BudgetFiller& fillers() { return fillers_; }

  // begin(profile) must be refused by the segment allocator, keeping nothing.
  void begin_refused(ArenaProfile profile, std::string_view phase) {
    const TxnArenaStats before = manager_.stats();
    Result<TxnArena*> got = manager_.begin(next_txn_++, profile);
    if (got.ok()) {
      stack_.oracles.fail("arena-refusal", fmt::format("{}: {}: begin({}) succeeded with {} B of the segment budget "
                                                       "free; its first chunk needs {} B",
                                                       kDrill, phase, profile_spec(profile).name,
                                                       free_bytes(), kChunkBytes));
    }
    check_segment_refusal(got.error(), fmt::format("{}: begin({})", phase, profile_spec(profile).name));
    check_counts(before, 0, 0, phase);
    check_live_slices(phase);
  }

  // One Medium transaction through steps 3 and 4 (the header's).
  void grow_refused_then_granted(sim::Rng& rng) {
    Result<TxnArena*> begun = manager_.begin(next_txn_++, ArenaProfile::Medium);
    if (!begun.ok()) {
      stack_.oracles.fail("arena-refusal", fmt::format("{}: begin(medium) with one {} B segment free refused: {}",
                                                       kDrill, kChunkBytes, begun.error().describe()));
    }
    TxnArena& arena = *begun.value();
    const std::uint64_t id = arena.id();
    expected_arena_segments_ = 1;
    const std::size_t remainder = 1 + rng.below(kChunkBytes / 4);
    allocate(arena, kChunkBytes - remainder, "filling its first chunk");
    const std::size_t bytes = remainder + 1 + rng.below(kChunkBytes - remainder);  // more than is left
    const std::size_t used = arena.used_bytes(), reserved = arena.reserved_bytes();
    const std::size_t tree = arena.tree_reserved_bytes(), chunks = arena.chunk_count();
    if (used != kChunkBytes - remainder || reserved != kChunkBytes || chunks != 1) {
      stack_.oracles.fail("arena-chunks", fmt::format("{}: medium's one {} B chunk, {} B of it allocated: used {}, "
                                                      "reserved {}, {} chunk(s)",
                                                      kDrill, kChunkBytes, kChunkBytes - remainder, used, reserved,
                                                      chunks));
    }
    const TxnArenaStats before = manager_.stats();
    Result<std::byte*> refused = arena.allocate(bytes, 1);
    if (refused.ok()) {
      stack_.oracles.fail("arena-refusal", fmt::format("{}: allocate({}) with {} B left in the chunk and none of the "
                                                       "segment budget succeeded",
                                                       kDrill, bytes, remainder));
    }
    check_segment_refusal(refused.error(), fmt::format("allocate({}) past the chunk", bytes));
    if (arena.used_bytes() != used || arena.reserved_bytes() != reserved || arena.tree_reserved_bytes() != tree ||
        arena.chunk_count() != chunks) {
      stack_.oracles.fail("arena-refusal", fmt::format("{}: a refused allocate({}) changed the arena: used {} -> {}, "
                                                       "reserved {} -> {}, tree {} -> {}, chunks {} -> {}",
                                                       kDrill, bytes, used, arena.used_bytes(), reserved,
                                                       arena.reserved_bytes(), tree, arena.tree_reserved_bytes(),
                                                       chunks, arena.chunk_count()));
    }
    check_counts(before, 1, kChunkBytes, "growth refused");
    check_live_slices("growth refused");

    fillers_.give_back(1);
    std::byte* at = allocate(arena, bytes, "the refused allocation again, one segment free");
    if (arena.chunk_count() != 2 || arena.reserved_bytes() != 2 * kChunkBytes ||
        arena.used_bytes() != used + bytes || !arena.contains(at, bytes)) {
      stack_.oracles.fail("arena-chunks", fmt::format("{}: allocate({}) granted after its refusal left the arena {} "
                                                      "chunk(s), {} B reserved, {} B used (due 2, {}, {}){}",
                                                      kDrill, bytes, arena.chunk_count(), arena.reserved_bytes(),
                                                      arena.used_bytes(), 2 * kChunkBytes, used + bytes,
                                                      arena.contains(at, bytes) ? "" : ", the object outside it"));
    }
    expected_arena_segments_ = 2;
    check_live_slices("growth granted");
    if (const Status ended = manager_.rollback(id); !ended.ok()) {
      stack_.oracles.fail("arena-refusal", fmt::format("{}: rollback: {}", kDrill, ended.error().describe()));
    }
    expected_arena_segments_ = 0;
    const TxnArenaStats after = manager_.stats();
    if (after.live_arenas != 0 || after.reserved_bytes != 0) {
      stack_.oracles.fail("arena-accounting", fmt::format("{}: after the rollback: {} live arena(s), {} B reserved",
                                                          kDrill, after.live_arenas, after.reserved_bytes));
    }
    check_live_slices("rolled back");
  }

 private:
  std::byte* allocate(TxnArena& arena, std::size_t bytes, std::string_view what) {
    Result<std::byte*> got = arena.allocate(bytes, 1);
    if (!got.ok()) {
      stack_.oracles.fail("arena-refusal", fmt::format("{}: {}: allocate({}) refused: {}", kDrill, what, bytes,
                                                       got.error().describe()));
    }
    return got.value();
  }

  std::size_t free_bytes() const {
    const AllocatorStats stats = segments_.stats();
    return stats.budget_bytes - stats.live_slices() * kChunkBytes;
  }

  // The segment allocator's refusal, passed on as it is: OutOfBudget (the
  // drill's allocator has a budget and no fault), not the profile's limit.
  void check_segment_refusal(const Error& error, std::string_view what) {
    check_error_text(stack_.oracles, error);
    const std::string_view detail(error.detail);
    if (error.code != Errc::OutOfBudget || detail == kArenaLimitDetail || detail == kArenaTooManyDetail) {
      stack_.oracles.fail("arena-refusal", fmt::format("{}: {} with the segment budget spent was refused as {}; due "
                                                       "the segment allocator's OutOfBudget",
                                                       kDrill, what, error.describe()));
    }
  }

  // Across one refused call: one segment refusal more, no profile-limit
  // refusal, no chunk kept, no arena more; live arenas and reservations as given.
  void check_counts(const TxnArenaStats& before, std::size_t live_arenas, std::size_t reserved_bytes,
                    std::string_view phase) {
    const TxnArenaStats after = manager_.stats();
    if (after.segment_refusals != before.segment_refusals + 1 || after.over_limit != before.over_limit ||
        after.chunks_taken - after.chunks_returned != before.chunks_taken - before.chunks_returned ||
        after.begun != before.begun || after.live_arenas != live_arenas || after.reserved_bytes != reserved_bytes) {
      stack_.oracles.fail("arena-accounting",
                          fmt::format("{}: {}: one refusal by the segment allocator moved stats(): segment_refusals "
                                      "{} -> {} (due +1), over_limit {} -> {}, chunks held {} -> {}, begun {} -> {}, "
                                      "{} live arena(s) (due {}), {} B reserved (due {})",
                                      kDrill, phase, before.segment_refusals, after.segment_refusals,
                                      before.over_limit, after.over_limit, before.chunks_taken - before.chunks_returned,
                                      after.chunks_taken - after.chunks_returned, before.begun, after.begun,
                                      after.live_arenas, live_arenas, after.reserved_bytes, reserved_bytes));
    }
    if (const std::vector<std::string> audit = manager_.audit(); !audit.empty()) {
      stack_.oracles.fail("accounting", fmt::format("{}: {}: the arena manager audits: {}", kDrill, phase,
                                                    audit.front()));
    }
  }

  // The allocator's live segments are the drill's and the open arena's: a
  // refused begin kept none of the chunks it took.
  void check_live_slices(std::string_view phase) {
    const std::size_t live = segments_.stats().live_slices();
    if (live != fillers_.held() + expected_arena_segments_) {
      stack_.oracles.fail("arena-refusal", fmt::format("{}: {}: the segment allocator holds {} live segment(s); the "
                                                       "drill holds {} and the arenas {}",
                                                       kDrill, phase, live, fillers_.held(), expected_arena_segments_));
    }
  }

  Stack& stack_;
  SegmentAllocator& segments_;
  TxnArenaManager& manager_;
  BudgetFiller fillers_;
  std::size_t expected_arena_segments_ = 0;
  std::uint64_t next_txn_ = 1;
};

}  // namespace

void run_arena_refusal_drill(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // no fault point may steer what the drill predicts
  const std::size_t large_chunks = profile_spec(ArenaProfile::Large).initial_bytes / kChunkBytes;
  if (profile_spec(ArenaProfile::Medium).initial_bytes != kChunkBytes || large_chunks < 2) {
    stack.oracles.fail("exception", fmt::format("{}: its premise: medium's first chunk is one of {} B, large's "
                                                "several", kDrill, kChunkBytes));
  }
  const std::size_t regions = large_chunks + 1 + rng.below(4);
  SegmentAllocatorConfig config = clocked_drill_config(rng, kChunkBytes, regions * kChunkBytes);
  if (rng.chance(0.5)) config.thread_cache_bytes = 0;
  ClockedInstance instance(stack, rng, 2 * config.budget_bytes, config, kDrill);
  auto made = TxnArenaManager::create(*instance.allocator);
  if (!made.ok()) stack.oracles.fail("exception", fmt::format("{}: manager: {}", kDrill, made.error().describe()));
  Drill drill(stack, *instance.allocator, *made.value());

  drill.fillers().take(regions, "filling the budget");
  drill.begin_refused(ArenaProfile::Medium, "budget full");
  const std::size_t given = 1 + rng.below(large_chunks - 1);  // fewer than large's initial chunks
  drill.fillers().give_back(given);
  drill.begin_refused(ArenaProfile::Large, fmt::format("{} of large's {} initial chunks free", given, large_chunks));
  drill.fillers().take(given, "taking back what the refused begin gave back (none kept)");
  drill.fillers().give_back(1);
  drill.grow_refused_then_granted(rng);
  drill.fillers().give_back(drill.fillers().held());
}

}  // namespace segsim::scenarios
