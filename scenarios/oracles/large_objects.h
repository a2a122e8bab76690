// Oracles of the LargeObjectAllocator (issue 15), over a small reference
// model the harness keeps: which objects are live, what each must read.
// One file per promise:
//   large_outcome.cpp   every completed call's result is one the model allows;
//                       a failed call changed nothing; a refusal was necessary
//   large_overlap.cpp   no two live large objects (nor a large object and a
//                       live segment's region) share bytes
//   large_zero.cpp      zero-on-allocate, also after a decommit or a failed one
//   large_content.cpp   every object reads back the pattern last written
//   large_audit.cpp     adjacent-free (the allocator's audit), accounting and
//                       leaks at quiescence
//   large_stats.cpp     the allocator's counters (allocations, releases, each
//                       refusal, spans mapped and unmapped) agree with the
//                       calls the model saw, decommits and advise failures
//                       with the advises the allocator made (os_ledger.h)
//   large_unmap.cpp     unmap_free_spans unmaps down to its target or until no
//                       wholly free span is left, and returns what it unmapped;
//                       a growth unmaps only down to the room its span needs
//   large_grow.cpp      a growth maps a span of span_bytes (or the object's
//                       size, when larger), and a span of just the object only
//                       when that one would pass the budget
//   large_budget.cpp    mapped bytes never pass the budget (a shared one's
//                       with the other users' bytes the growth read)
// Failures go through the run's Oracles (named oracle, fiber, step); callers
// hold the workload's model lock, so the model and the calls are in step.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/large_object_allocator.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/os_ledger.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

struct LargeModelEntry {
  LargeObject handle;
  std::size_t requested_bytes = 0;
  std::uint8_t fill = 0;  // every byte reads this
};

class LargeObjectChecks {
 public:
  // `advises`: the ledger of the Os `large` was created over (outlives this).
  LargeObjectChecks(Oracles& oracles, faults::SimOs& os, LargeObjectAllocator& large, const OsLedgerOs& advises)
      : oracles_(oracles), os_(os), large_(large), advises_(advises) {}

  // large_outcome.cpp: the result of allocate / allocate_uninitialized of
  // `requested` bytes, `live_before` the allocator's live objects before the
  // call. `strict_refusal`: nothing else changes free ranges meanwhile, so a
  // refusal must be necessary. Returns the model entry's key, or 0.
  std::uint64_t allocated(const Result<LargeObject>& result, std::size_t requested, bool zeroed,
                          std::size_t live_before, bool faults_active, bool strict_refusal);
  // large_outcome.cpp: the allocator asked on_budget_exhausted to reclaim and
  // the hook answered `answered` (hooks report each call; it happens inside
  // the allocate call that allocated() hears of next). The model: at most one
  // ask a call, only for a valid size refused over budget; a "nothing freed"
  // answer leaves that refusal as the result; a refusal over budget with a
  // hook set was asked first.
  void reclaim_asked(bool answered);
  // large_budget.cpp: the allocator's shared_used_bytes hook returned
  // `bytes` (the workload's hook reports each value it returns; the call it
  // happens in is the one allocated() hears of next).
  void shared_bytes_read(std::size_t bytes);
  // large_outcome.cpp: a release the model says must succeed.
  void released(std::uint64_t key, const Status& status);
  // large_outcome.cpp: a release the model says must fail with `expected`;
  // a DoubleFree names the handle's generation and the one live at its place
  // (0: none).
  void refused_release(const LargeObject& handle, const Status& status, Errc expected, std::size_t live_before);

  // large_content.cpp
  void write(std::uint64_t key, std::uint8_t fill);
  void verify(std::uint64_t key, const char* when);

  // large_audit.cpp
  void check_audit();
  void check_quiescent(std::size_t foreign_live_objects);

  // large_stats.cpp: `stats`, a snapshot taken while no call of the model is
  // in flight, counts what the model saw (callers pass the snapshot they
  // already took: a second stats() call would add a scheduling point).
  // `quiescent`: no decommit is in flight either (a concurrent one may have
  // advised and not yet counted, so before that the ledger is only a bound).
  void check_counters(const LargeObjectStats& stats, bool quiescent);
  // large_stats.cpp: with no call and no decommit in flight, stats()' free
  // ranges (count, bytes, largest) are the gaps between the model's live
  // objects in the spans the Os ledger holds (large-stats).
  void check_free_ranges(const LargeObjectStats& stats);

  // large_unmap.cpp: unmap_free_spans(target_mapped_bytes) returned
  // `unmapped` between the snapshots `before` and `after`. `exact`: nothing
  // else unmapped, mapped or decommitted meanwhile.
  void check_unmap_free_spans(std::size_t target_mapped_bytes, const LargeObjectStats& before, std::size_t unmapped,
                              const LargeObjectStats& after, bool exact);
  // large_grow.cpp: allocate(requested) ended; `mapped_before` is the
  // allocator's Os ledger's live mappings before the call, and nothing but
  // its growth mapped or unmapped spans meanwhile (no maintenance client, no
  // unmap by the budget hook). Judges, from what the call mapped and
  // unmapped: the span it mapped has the size the budget allowed and the
  // huge-page hint its size calls for (large-grow), and it unmapped free
  // spans only down to the room that span needs (large-unmap).
  void check_growth(std::size_t requested, const Result<LargeObject>& result,
                    const std::map<const std::byte*, std::size_t>& mapped_before);

  const std::map<std::uint64_t, LargeModelEntry>& live() const noexcept { return live_; }

 private:
  std::uint64_t offset_of(const LargeObject& object) const;
  void check_reclaims(std::size_t requested, const Result<LargeObject>& result, bool valid_size,
                      std::uint32_t reclaims);  // large_outcome.cpp
  void overlap_insert(const LargeObject& object);      // large_overlap.cpp
  void overlap_erase(const LargeObject& object);       // large_overlap.cpp
  void check_zeroed(const LargeObject& object);        // large_zero.cpp
  void check_budget(std::size_t requested);            // large_budget.cpp

  // What one allocate call did to the spans: the Os ledger's live mappings
  // before it against those after it (large_grow.cpp).
  struct GrowthMaps {
    std::size_t before_bytes = 0;  // mapped before the call
    std::size_t unmapped_spans = 0, unmapped_bytes = 0, largest_unmapped_bytes = 0;
    std::size_t new_spans = 0, new_span_bytes = 0;  // new_span_bytes: the last new span's
    const std::byte* new_span = nullptr;            // the last new span's base
  };
  void check_growth_span(std::size_t requested, const Result<LargeObject>& result,
                         const GrowthMaps& growth);  // large_grow.cpp
  void check_growth_hint(std::size_t requested, const Result<LargeObject>& result,
                         const GrowthMaps& growth);  // large_grow.cpp
  void check_growth_unmaps(std::size_t requested, const Result<LargeObject>& result,
                           const GrowthMaps& growth);  // large_unmap.cpp

  // What the model saw of the calls: the counters large_stats.cpp compares.
  struct CallCounts {
    std::uint64_t allocations = 0;         // succeeded
    std::uint64_t zeroed_allocations = 0;  // of which allocate() (not _uninitialized)
    std::uint64_t releases = 0;            // succeeded
    std::uint64_t double_frees = 0;        // refused: DoubleFree
    std::uint64_t invalid_pointers = 0;    // refused: InvalidPointer
    std::uint64_t out_of_budget = 0;       // allocations refused: OutOfBudget
    std::uint64_t out_of_memory = 0;       // allocations refused: OutOfMemory
    std::uint64_t budget_refusals = 0;     // growths refused over budget: a retried call's two attempts count twice
  };

  Oracles& oracles_;
  faults::SimOs& os_;
  LargeObjectAllocator& large_;
  const OsLedgerOs& advises_;
  CallCounts calls_;
  std::uint32_t reclaims_in_call_ = 0;  // reclaim_asked() since the last allocated()
  bool reclaim_answer_ = false;         // the last one's answer
  // The shared bytes the call read last, and the ledger's maps_ok then.
  struct SharedRead {
    std::size_t bytes = 0;
    std::uint64_t maps_ok_before = 0;
  };
  std::optional<SharedRead> shared_read_in_call_;  // since the last allocated()
  std::map<std::uint64_t, LargeModelEntry> live_;      // by SimOs offset: stable across runs
  std::map<std::uint64_t, std::uint64_t> ranges_;      // offset → end, live objects
};

}  // namespace segsim::scenarios
