// The oracles: what "a bug" means (DESIGN.md, "Oracles"). One hub observes the
// allocator (a SegmentObserver) and the workloads; each invariant is checked
// by its own small checker in this directory:
//   ownership.cpp         the harness's own model of every live slice: nothing
//                         handed out twice, no release of a handle the model
//                         says is not live accepted — whatever the allocator says
//                         (and two releases of one handle at once: the release
//                         race drill's, on its private allocator)
//   double_free.cpp       the allocator refused no release but those the workload
//                         made on purpose (stale, foreign, null handles)
//   refusals_counted.cpp  stats() counts every refused release / reset the observer
//                         heard, by its code (lookups' refusals on top)
//   refusal_fields.cpp    a refused release / reset's Error names the handle refused, and a DoubleFree the slice now
//   rule_texts.cpp        one detail text per refusal rule the model says was due
//                         (lookups, forged segment and slab handles; rule_texts.h),
//                         and a size refusal's text naming its rule (zero / too large)
//   counters_grow.cpp     an allocator's event counters never go back
//   fault_reach.cpp       a call that must offer a fault point to the plan asked it
//                         (allocations and releases through thread caches: the bypasses)
//   allocation.cpp        each allocate/lookup/reset result is one the API allows
//                         (a handle's generation is never 0, the mark of a free
//                         slice); a refusal (OutOfBudget) was necessary
//   map_retry.cpp         an allocation retries no failed map of its own
//   use_after_release.cpp canary fill on release, verified before hand-out (plain builds;
//                         ASan poisoning does it in sanitizer builds)
//   overlap.cpp           no two live segments share bytes
//   zero_on_allocate.cpp  a zeroed allocation reads all zero (and, in tcache-churn's
//                         cache-policy episode, by stats() around each call:
//                         allocate_uninitialized zeroes nothing, allocate once at most)
//   content.cpp           every slot reads back what was last written (a shadow model)
//   accounting.cpp        allocator audit, SimOs and allocator agree on virtual bytes
//   leaks.cpp             zero live slices and zero borrowed pages at quiescence
//   bounded_growth.cpp    virtual bytes stop growing after warm-up (seed 002)
//   liveness.cpp          deadlock / step limit / assertion from the simulator
//   regions_unmapped.cpp  free_unused_regions' count is the unmaps SimOs made for the call,
//                         and no more than its target asks (and, in tcache-churn's
//                         unmap-order drill, the freed queue goes first)
//   regions_released.cpp  release_unused_regions' count is the DontNeed advises that
//                         succeeded for the call (one per region released)
//   teardown_unmapped.cpp the allocator's destructor unmaps each region it still maps, once,
//                         whole; only a failed unmap leaves a mapping behind; a cleanup in
//                         flight releases before the first unmap (also
//                         teardown_unmapped_problem, os_ledger.h: the large allocator's spans,
//                         the teardown drill)
//   os_accounting.cpp     at quiescence, the allocator's counts of maps, unmaps and
//                         advises (and of their failures) are what it asked of its Os
//   resident_estimate.cpp a stats() snapshot's resident estimate covers every slice
//                         out of the pool, and at quiescence is at most the bytes mapped
//   zeroing_method.cpp    a reset zeroes by madvise(DONTNEED) exactly when the slice
//                         is at least reset_madvise_min_bytes, by memset below
//   recorder_addresses.cpp a crash report's address of each allocator event is its
//                         slice's, from where the hub heard the region mapped
//   descriptors.cpp       at quiescence, every file descriptor the run opened is closed
//   observer_calls.cpp    the observer hears of each reset that succeeded and each
//                         refused release / reset once, about the handle of the call
// Checkers with state of their own hold it in their own type (ownership.h,
// overlap.h, refusal_ledger.h, growth_bound.h) and return a verdict; the hub turns a verdict
// into the run's failure. A failure stops the run: the first one is kept,
// with fiber, step and the involved segment's history, and the fiber is
// unwound.
// failure_context.cpp: what a failure report adds — the slice by stable id,
// its history, the trace and slice operations around the failing step, the
// address-free signature.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/segment_allocator.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/descriptors.h"
#include "scenarios/oracles/growth_bound.h"
#include "scenarios/oracles/memory_sampler.h"
#include "scenarios/oracles/overlap.h"
#include "scenarios/oracles/os_ledger.h"
#include "scenarios/oracles/ownership.h"
#include "scenarios/oracles/recorder_addresses.h"
#include "scenarios/oracles/refusal_ledger.h"
#include "scenarios/oracles/segment_history.h"
#include "sim/simulation.h"
#include "scenarios/run.h"

namespace segsim::scenarios {

// Thrown on a fiber to stop it once an oracle has failed.
class OracleTripped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Content shadow: what each (page, slot) must read back.
struct SlotShadow {
  std::size_t bytes = 0;
  std::uint8_t fill = 0;
};

// One free_unused_regions(target_bytes) call, for regions-unmapped.
struct RegionsUnmappedCall {
  std::size_t reported = 0;            // what it returned
  std::uint64_t unmapped_by_call = 0;  // SimOs's unmaps for the calling fiber during it
  std::size_t target_bytes = 0;
  std::size_t virtual_before = 0;      // the allocator's virtual bytes before it
  std::uint64_t maps_meanwhile = 0;    // SimOs map calls, by anyone, from before that reading to after the call
  std::size_t region_bytes = 0;
};

class Oracles final : public SegmentObserver {
 public:
  explicit Oracles(faults::SimOs& os);

  // `ledger`: what the allocator asked of its Os (os_ledger.h), or null.
  void attach(SegmentAllocator& allocator, const OsLedger* ledger = nullptr) {
    allocator_ = &allocator;
    allocator_os_ = ledger;
  }
  // Anonymous bytes other parts of the stack map through the same OS (large
  // objects: issue 15); the accounting oracle adds them to the allocator's.
  void add_mapped_source(std::function<std::uint64_t()> mapped_bytes) {
    mapped_sources_.push_back(std::move(mapped_bytes));
  }

  // Records the failure (the first one wins) and throws OracleTripped.
  [[noreturn]] void fail(const std::string& oracle, const std::string& message,
                         const std::byte* segment = nullptr);
  // Records the failure without throwing: for callbacks that may run in
  // destructors (cache eviction listeners). The fiber stops at its next
  // check_cheap().
  void report(const std::string& oracle, const std::string& message, const std::byte* segment = nullptr);
  const std::optional<Failure>& failure() const noexcept { return failure_; }
  // The liveness oracle: a simulator verdict that no other oracle explained.
  void record_simulation_failure(const std::string& oracle, const std::string& message,
                                 std::uint32_t fiber, std::uint64_t step);

  // ownership.cpp: whether the model holds `segment` live under its generation.
  bool model_live(const Segment& segment) const;
  std::size_t model_live_slices() const noexcept { return ownership_.live_slices(); }
  // Bytes of the live slices' classes (what AllocatorStats::live_bytes counts).
  std::size_t model_live_bytes() const noexcept { return ownership_.live_bytes(); }
  // Counts hand-outs and releases: a call whose window saw none ran alone.
  std::uint64_t slice_events() const noexcept { return ownership_.slice_events(); }
  // double_free.cpp: the workload is about to make a call the allocator must
  // refuse with `code` (DoubleFree or InvalidPointer).
  void expect_refusal(Errc code);
  // The expected refusal did not come (a call whose outcome was not known).
  void unexpect_refusal(Errc code);

  // allocation.cpp: checks one completed call against what the API allows.
  // `window` is slice_events() before the call; `budget_judgeable` says no
  // cleanup or free_unused_regions may hold budget meanwhile (see the .cpp).
  struct CallWindow {
    std::uint64_t slice_events = 0;
    std::uint32_t allocations_in_flight = 0;  // other allocations that overlapped the call
    bool budget_judgeable = false;
    bool faults_active = false;
    OsLedger::FiberMaps maps_before;  // allocator_maps_of_current_fiber() before the call
  };
  // The calling fiber's maps through the allocator's Os so far (none without a ledger).
  OsLedger::FiberMaps allocator_maps_of_current_fiber() const;
  void check_allocation(std::size_t requested_bytes, bool zeroed, const Result<Segment>& result,
                        const CallWindow& window);
  // map_retry.cpp: the calling fiber's maps during one allocation (`before`
  // is allocator_maps_of_current_fiber() before it) retried no failed map.
  void check_map_retry(const char* call, std::size_t requested_bytes, const OsLedger::FiberMaps& before,
                       const Result<Segment>& result);
  // The allocator's refusal of a deliberate bad call carries `expected`.
  void check_refusal(const char* call, const Status& status, Errc expected, const std::byte* segment);
  // counters_grow.cpp: no event counter of `now` is below `earlier`'s (two
  // stats() snapshots of one allocator, `earlier` taken first).
  void check_counters_grow(const AllocatorStats& earlier, const AllocatorStats& now);
  // fault_reach.cpp: a call made under a plan that targets fault points on
  // a path that must offer `point` to it asked it `asks` times (all fibers).
  // `describe_call` names the call; it runs only on a failure, so the check
  // costs no formatting on the hot path of every allocation.
  void check_fault_point_asked(const char* point, std::uint64_t asks,
                               const std::function<std::string()>& describe_call);
  // refusal_fields.cpp: a DoubleFree refusal of `segment` by a call during
  // which no slice was handed out or released (`window` is slice_events()
  // before it) names the generation the model holds at that slice now.
  void check_live_generation(const char* call, const Segment& segment, const Error& error, std::uint64_t window);

  // regions_unmapped.cpp: free_unused_regions returned what SimOs's ledger
  // says the calling fiber unmapped during the call, and unmapped no more
  // regions than the target asks.
  void check_regions_unmapped(const RegionsUnmappedCall& call);
  // regions_released.cpp: release_unused_regions returned `reported`; the
  // allocator's Os ledger says the calling fiber's DontNeed advises that
  // succeeded during the call were `dropped_by_call`.
  std::uint64_t allocator_dont_needs_ok_by_current_fiber() const;
  void check_regions_released(std::size_t reported, std::uint64_t dropped_by_call);
  // teardown_unmapped.cpp: the attached allocator has been destroyed;
  // `before` is its Os ledger as it was right before the destructor ran.
  // Detaches the allocator. Only with no cleanup task left to run (the
  // destructor's shutdown would run it: its unmaps are not the destructor's).
  void check_teardown_unmapped(const OsLedger& before);
  // zeroing_method.cpp: around a reset() of a live segment of
  // `slice_bytes` (Os ledger of the calling fiber's DontNeed advises).
  std::uint64_t allocator_dont_needs_by_current_fiber() const;
  void check_reset_zeroing(std::size_t slice_bytes, std::uint64_t dont_needs_during_reset);
  // Every reset the observer hears of below reset_madvise_min_bytes is a
  // memset zeroing: at quiescence stats().resets_memset counts at least those.
  void note_reset_zeroing(const Segment& segment);
  void check_memset_zeroings();
  // observer_calls.cpp: what the observer's after-call hooks (was_reset,
  // refused) heard from the calling fiber. Read before a release / reset,
  // then check_heard(): one was_reset for a reset that succeeded, one
  // refused for a refusal, none for a release that succeeded, each about the
  // segment of the call.
  struct HeardCalls {
    std::uint64_t resets = 0, refusals = 0;
    const std::byte* last_data = nullptr;  // the handle of the last heard
    std::uint32_t last_generation = 0;
  };
  HeardCalls heard_by_current_fiber() const;
  void check_heard(const char* call, const Segment& segment, const Status& status, const HeardCalls& before);
  // resident_estimate.cpp: on a snapshot a workload took; and at quiescence,
  // also bounded by the bytes mapped.
  void check_resident_estimate(const AllocatorStats& stats);
  void check_resident_estimate_at_quiescence();

  // Cheap checks a workload runs after each operation (double-free counters).
  void check_cheap();
  // Full checks at quiescence, after the workload gave everything back.
  void check_quiescent(std::size_t borrowed_pages);
  // A scenario's own check, run by check_quiescent once the simulation has
  // ended: it may read state behind the stack's locks (stats()) without adding
  // a scheduling point, so a seed's trace stays what it was. It must not
  // outlive what it reads: capture a weak_ptr to the scenario's state.
  void at_quiescence(std::function<void()> check) { quiescent_checks_.push_back(std::move(check)); }

  // content.cpp: verifies a value against its shadow; `segment` names the memory.
  void check_content(std::uint64_t page_id, std::size_t slot, std::span<const std::byte> value,
                     const SlotShadow& expected, const std::byte* segment);

  // bounded_growth.cpp: after the first `warmup_fraction` of the run, virtual
  // bytes may not exceed the warm-up peak plus max(slack_bytes, a quarter of
  // that peak), and the proactive cleanup must have started.
  void expect_bounded_growth(double warmup_fraction, std::uint64_t slack_bytes);

  // Memory sampling (for --plot and bounded growth): every `interval_steps`.
  void sample_every(std::uint64_t interval_steps) { sampler_.every(interval_steps); }
  void sample_now();
  const std::vector<MemorySample>& samples() const noexcept { return sampler_.samples(); }
  std::uint64_t peak_resident_bytes() const noexcept { return sampler_.peak_resident_bytes(); }

  // SegmentObserver
  void handing_out(const Segment& segment) override;
  void handed_out(const Segment& segment, bool zeroed) override;
  void released(const Segment& segment) override;
  void was_reset(const Segment& segment) override;
  void refused(const char* call, const Segment& segment, const Error& error) override;
  void region_mapped(std::uint32_t allocator, std::uint32_t region, const std::byte* base, int size_class) override {
    ++regions_mapped_;
    region_record_.mapped(allocator, region, reinterpret_cast<std::uintptr_t>(base), size_class);
  }
  // Regions the observed allocators mapped so far: a call whose window saw
  // none ran while no region appeared.
  std::uint64_t regions_mapped() const noexcept { return regions_mapped_; }
  // recorder_addresses.cpp: a report's addresses of the stack allocator's
  // events against where the hub heard its regions mapped.
  void check_recorded_addresses(const CrashReport& report);

  // failure_context.cpp: fills the failure's trace and operations around its
  // step from the simulation's marks (or its last events), once it has ended.
  void complete_failure(const sim::RunResult& result);
  // The stable name of an address (a slice by region and index, a SimOs
  // offset, "<foreign address>"); nullopt for numbers that are no address.
  std::optional<std::string> stable_address_name(std::uintptr_t address) const;

 private:
  // failure_context.cpp: naming, slice histories, the operation log, marks.
  std::string name_segment(const std::byte* data) const;
  const std::byte* segment_named_in(const std::string& message) const;
  void note(const Segment& segment, const char* what);
  void mark_failure_window();
  void record_failure(const std::string& oracle, const std::string& message, const std::byte* segment,
                      std::uint32_t fiber, std::uint64_t step);
  void maybe_sample();
  // The per-invariant checkers (one file each).
  void check_double_free();
  void check_refusals_counted();  // refusals_counted.cpp
  void check_refusal_fields(const char* call, const Segment& segment, const Error& error);  // refusal_fields.cpp
  void canary_fill(const Segment& segment);
  void canary_verify(const Segment& segment);
  [[noreturn]] void written_after_release(const Segment& segment, std::size_t offset);
  void overlap_insert(const Segment& segment);
  void overlap_erase(const Segment& segment);
  void check_zeroed(const Segment& segment);
  void check_accounting();
  void check_os_accounting();  // os_accounting.cpp
  void check_leaks(std::size_t borrowed_pages);
  void check_bounded_growth();
  void check_descriptors();  // descriptors.cpp

  faults::SimOs& os_;
  SegmentAllocator* allocator_ = nullptr;
  const OsLedger* allocator_os_ = nullptr;
  std::optional<Failure> failure_;
  SegmentHistory history_;
  OverlapChecker overlap_;                                     // overlap.cpp
  MemorySampler sampler_;
  // use_after_release.cpp: SimOs offset of a canary-filled slice → the SimOs
  // drop epoch when it was filled (so the check asks the kernel only when
  // something may have dropped its pages since), and which of its pages got
  // the canary (those that may hold data; empty: all).
  struct CanaryFill {
    std::uint32_t drop_epoch;
    std::optional<faults::SimOs::Residency> filled;
  };
  std::unordered_map<std::uint64_t, CanaryFill> canary_fills_;
  GrowthBound growth_;  // bounded_growth.cpp
  // failure_context.cpp: where each region lies (for stable names), the last
  // slice operations, and those kept around the failure window.
  struct RegionAt {
    std::uint32_t region_id = 0;
    int size_class = 0;
  };
  std::map<std::uint64_t, RegionAt> regions_at_;  // region base (SimOs offset) → id and class
  struct SliceOperation {
    const char* what = "";  // a static text: "allocated", "released", "reset", "release refused", ...
    std::uint32_t region_id = 0;
    std::uint32_t slice = 0;
    std::uint32_t generation = 0;
    std::uint32_t fiber = sim::kNoFiber;
    std::uint64_t step = 0;
  };
  std::deque<SliceOperation> operation_log_;
  std::vector<SliceOperation> operations_marked_;
  std::size_t operations_to_follow_ = 0;
  bool window_marked_ = false;
  // double_free.cpp: the first refusal no deliberate bad call explains.
  struct Offence {
    SegmentEvent event;
    const std::byte* data = nullptr;
    std::string text;  // the call, the slice and the allocator's error, one line
    std::vector<SegmentEvent> history;  // the slice's history up to the refusal
  };
  std::optional<Offence> first_refusal_;
  std::uint64_t refused_double_frees_ = 0;
  std::uint64_t refused_invalid_pointers_ = 0;

  // ownership.cpp: the model of every live slice.
  void ownership_handing_out(const Segment& segment);
  void ownership_released(const Segment& segment);
  OwnershipModel ownership_;
  RefusalLedger refusals_;  // double_free.cpp
  RegionRecord region_record_;  // recorder_addresses.cpp
  std::uint64_t regions_mapped_ = 0;
  OpenDescriptors descriptors_at_start_ = OpenDescriptors::now();  // descriptors.cpp
  std::uint64_t memset_resets_ = 0;  // zeroing_method.cpp: resets below reset_madvise_min_bytes heard of
  void note_heard(const Segment& segment, bool refusal);  // observer_calls.cpp
  std::map<std::uint32_t, HeardCalls> heard_by_fiber_;    // observer_calls.cpp
  std::vector<std::function<std::uint64_t()>> mapped_sources_;
  std::vector<std::function<void()>> quiescent_checks_;
};

}  // namespace segsim::scenarios
