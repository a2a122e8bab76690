// The bug catalogue's switches (issue "Bug catalogue and segsim hunt").
//
// Each historical bug from ../shared/seeds/ can be switched back into the
// real stack at run time — only in builds configured with SEGSIM_MUTANTS=ON
// (the `mutants` preset). In every other build SEGSIM_MUTANT(x) is the
// constant `false`: the compiler removes the mutant code and its branch.
//
//   if (SEGSIM_MUTANT(ResizeAlias)) { ...the historical mistake... }
#pragma once

#include <string_view>

namespace segsim::mutants {

enum class Bug : unsigned {
  PreallocLeak,          // prealloc-leak: the pool pre-allocates pages never handed out nor returned (001 #1)
  ResizeAlias,           // resize-alias: a shared slot/DeweyID resize updates one reference (001 #2)
  EvictNoReturn,         // evict-no-return: eviction clears the page, never returns its segments (001 #3)
  ReturnNotIdempotent,   // return-not-idempotent: no returned flag, no lock (001 #4, #6)
  ClearAfterReturn,      // clear-after-return: clear() zeroes segments already returned (001 #5)
  BudgetOnlyFreeing,     // budget-only-freeing: no proactive cleanup, no reuse (002)
  MadviseUnchecked,      // madvise-unchecked: a failed zeroing madvise is assumed to have zeroed (000)
  CleanupGuardStuck,     // cleanup-guard-stuck: the guard stays set when a cleanup fails (002)
  CleanupRace,           // cleanup-race: all-free check and detach are not atomic with allocation (002)
  ReuseFlagNotRearmed,   // reuse-flag-not-rearmed: reset_for_reuse keeps the returned flag (001 #6)
  PinIgnored,            // pin-ignored: eviction returns a page a reader still holds
  CoalesceNonAdjacent,   // coalesce-non-adjacent: a freed large range merges with a non-adjacent one (004 M004)
  DecommitReused,        // decommit-reused: lazy decommit advises a range an allocation just reused (004 M004)
  DecommitUnchecked,     // decommit-unchecked: a failed decommit advise marks the range zeroed (004 M004)
  PressureEvictsPinned,  // pressure-evicts-pinned: the pressure loop's cache shrink evicts pinned pages (004 M002)
  ForecastZeroSpan,      // forecast-zero-span: the regression divides by a zero time span (004 M002)
  SlabMagazineStillOwned,      // slab-magazine-still-owned: a depot magazine is loaded and left in the depot (004 M001)
  SlabRemoteFreeCountedTwice,  // slab-remote-free-counted-twice: a remote free is counted as two frees (004 M001)
  SlabFlushForgetsPrevious,    // slab-flush-forgets-previous: a thread's flush leaves its previous magazine (004 M001)
  ArenaChildChunksForgotten,   // arena-child-chunks-forgotten: commit into the parent drops the child's chunks (004 M003)
  ArenaLimitAfterGrowth,       // arena-limit-after-growth: the profile limit is checked after the chunk is taken (004 M003)
  Count
};

struct BugInfo {
  Bug bug;
  std::string_view name;
  std::string_view mistake;
  std::string_view scenario;  // the scenario that exercises that part of the stack
};

inline constexpr BugInfo kCatalogue[] = {
    {Bug::PreallocLeak, "prealloc-leak", "the pool pre-allocates pages that are never handed out nor returned (seed 001 #1)", "chicago"},
    {Bug::ResizeAlias, "resize-alias", "resizing a shared slot/DeweyID segment updates only one reference (seed 001 #2)", "resize-storm"},
    {Bug::EvictNoReturn, "evict-no-return", "cache eviction clears the page but never returns its segments (seed 001 #3)", "chicago"},
    {Bug::ReturnNotIdempotent, "return-not-idempotent", "returning a page's segments has no returned-flag and no lock (seed 001 #4, #6)", "chicago"},
    {Bug::ClearAfterReturn, "clear-after-return", "clear() zeroes segments that were already returned (seed 001 #5)", "chicago"},
    {Bug::BudgetOnlyFreeing, "budget-only-freeing", "regions are freed only when the budget is hit: no proactive cleanup, no reuse (seed 002)", "leak-soak"},
    {Bug::MadviseUnchecked, "madvise-unchecked", "a failed madvise during reset is ignored; the segment is assumed zero (seed 000)", "leak-soak"},
    {Bug::CleanupGuardStuck, "cleanup-guard-stuck", "the cleanup guard is not cleared when the cleanup fails (seed 002)", "leak-soak"},
    {Bug::CleanupRace, "cleanup-race", "cleanup checks all slices returned and detaches the region non-atomically with allocation (seed 002)", "leak-soak"},
    {Bug::ReuseFlagNotRearmed, "reuse-flag-not-rearmed", "reset_for_reuse does not re-arm the returned flag (seed 001 #6)", "chicago"},
    {Bug::PinIgnored, "pin-ignored", "eviction returns a page that a reader still holds", "evict-race"},
    {Bug::CoalesceNonAdjacent, "coalesce-non-adjacent", "a released large range is merged with the previous free range even when they are not adjacent (seed 004 M004)", "large-objects"},
    {Bug::DecommitReused, "decommit-reused", "lazy decommit leaves idle ranges in the free index while it advises: an allocation reuses one and is wiped (seed 004 M004)", "large-objects"},
    {Bug::DecommitUnchecked, "decommit-unchecked", "a failed decommit madvise is ignored; the range is assumed zero (seed 004 M004)", "large-objects"},
    {Bug::PressureEvictsPinned, "pressure-evicts-pinned", "the pressure loop's cache shrink hands over pages that readers still hold (seed 004 M002)", "pressure"},
    {Bug::ForecastZeroSpan, "forecast-zero-span", "the forecaster's regression guards the sample count, not the time span: it divides by zero (seed 004 M002)", "pressure"},
    {Bug::SlabMagazineStillOwned, "slab-magazine-still-owned", "a thread loads a full magazine from the depot while the depot still owns it (seed 004 M001)", "slab-churn"},
    {Bug::SlabRemoteFreeCountedTwice, "slab-remote-free-counted-twice", "a free by another thread than the allocating one is counted twice (seed 004 M001)", "slab-churn"},
    {Bug::SlabFlushForgetsPrevious, "slab-flush-forgets-previous", "flushing a thread's cache returns its loaded magazine but not its previous one (seed 004 M001)", "slab-churn"},
    {Bug::ArenaChildChunksForgotten, "arena-child-chunks-forgotten", "a child arena's commit into its parent forgets the child's chunks (seed 004 M003)", "txn-arenas"},
    {Bug::ArenaLimitAfterGrowth, "arena-limit-after-growth", "the arena takes a new chunk before checking the profile's limit (seed 004 M003)", "txn-arenas"},
};

#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
inline constexpr bool kBuilt = true;
// The active bug (one at a time), set before a run and read at the sites.
void activate(Bug bug);
void deactivate();
bool active(Bug bug) noexcept;
// The active bug's catalogue name (a static text), or nullptr; async-signal-safe.
const char* active_name() noexcept;
const BugInfo* find(std::string_view name);
#define SEGSIM_MUTANT(bug) (::segsim::mutants::active(::segsim::mutants::Bug::bug))
#else
inline constexpr bool kBuilt = false;
#define SEGSIM_MUTANT(bug) false
#endif

}  // namespace segsim::mutants
