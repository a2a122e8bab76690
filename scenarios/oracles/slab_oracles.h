// The SlabAllocator's oracles (issue 14), one file per promise:
//   slab_ownership.cpp   no object is handed out twice while live; a free
//                        object is not written (canary in plain builds; ASan
//                        poisoning in sanitizer builds); a live object reads
//                        back its owner's pattern    "slab-ownership", "slab-use-after-free", "slab-content"
//   slab_refusals.cpp    every completed call is one the reference model
//                        allows; a refusal was necessary and changed nothing   "slab-refusal"
//   slab_accounting.cpp  no remote free lost: at quiescence the allocator's
//                        counts equal the model's, every magazine is flushed,
//                        audit() is clean, every slab goes back            "slab-accounting", "slab-flushed"
//   slab_counters.cpp    no cumulative count of stats() goes down from one
//                        snapshot to a later one (a thread's exit hands its
//                        counts on); magazine capacity stays within the
//                        documented [initial / 2, initial * 2]; slab_failures
//                        counts at least the refused allocations           "slab-counters"
//   slab_empty_release.cpp  release_empty_slabs() gives back the empty slabs
//                        stats() counts, and says how many; any snapshot's
//                        empty slabs are among its slabs, all objects free  "slab-empty-release"
//   slab_refusal_fields.cpp  a refused free names the handle it refused and,
//                        for DoubleFree, the generation the object has now
//                        (0 when free) as the ownership model says         "refusal-fields"
// Failures go through the hub (Oracles::fail), so they are named and stop the run.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/slab_allocator.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

// What the workload's reference model counted over the run.
struct SlabModelCounts {
  // An allocation of `bytes` the allocator granted.
  void allocated(std::size_t bytes) {
    ++allocations;
    requested_bytes[static_cast<std::size_t>(slab_class_of(bytes))] += bytes;
  }
  std::uint64_t allocations = 0;
  std::array<std::uint64_t, kSlabClassCount> requested_bytes{};  // by class: the sum of the sizes asked for
  std::uint64_t frees = 0;
  std::uint64_t remote_frees = 0;  // freed by another fiber than the allocating one, or through lookup
  std::uint64_t double_frees = 0;  // refusals the model expected as DoubleFree
  std::uint64_t invalid_pointers = 0;
};

class SlabOracles final : public SlabObserver {
 public:
  SlabOracles(Oracles& hub, faults::SimOs& os) : hub_(hub), os_(os) {}

  // slab_ownership.cpp (SlabObserver)
  void handing_out(const SlabObject& object) override;
  void released(const SlabObject& object) override;
  // The owner filled `object` with `fill`: every byte must still be it.
  void check_content(const SlabObject& object, std::uint8_t fill);

  // slab_refusals.cpp: `got` must be `expected` (an Errc, or success when
  // `expected_ok`); `doing` names the call for the report.
  void expect_ok(const Status& got, const char* doing, const std::byte* object);
  void expect_refused(const Status& got, Errc expected, const char* doing, const std::byte* object);
  // As above, for a free of `handle`: the refusal must name it
  // (slab_refusal_fields.cpp).
  void expect_refused(const Status& got, Errc expected, const char* doing, const SlabObject& handle);
  // As above, for a sized free of the pointer `given`: the refusal must name it (slab_refusal_fields.cpp).
  void expect_refused_pointer(const Status& got, Errc expected, const char* doing, const std::byte* given);
  // The call was refused: nothing the model sees may have changed.
  void expect_unchanged(const SlabStats& before, const SlabStats& after, const char* doing);

  // slab_counters.cpp: `stats` against the last snapshot checked and the
  // config's documented capacity bounds.
  void check_counters(const SlabStats& stats, const SlabAllocatorConfig& config);
  // slab_counters.cpp: an allocate of a valid size was refused (over budget
  // or out of memory): a slab the call failed to acquire, counted in
  // slab_failures before it returned. Call it with `stats` taken after this
  // refusal: it holds every refusal counted so far.
  void allocation_refused(const Error& error);
  void check_failures_counted(std::size_t bytes, const Error& error, const SlabStats& stats);

  // slab_empty_release.cpp: release_empty_slabs() returned `released`
  // between the snapshots `before` and `after`; `quiescent`: nothing else
  // ran meanwhile, so the count is exact.
  void check_empty_release(const SlabStats& before, std::size_t released, const SlabStats& after, bool quiescent);

  // slab_accounting.cpp: at quiescence, after every fiber flushed.
  void check_quiescent(SlabAllocator& slab, const SlabModelCounts& model);

 private:
  std::string name(const std::byte* data) const;
  void check_fast_path_rates(const SlabStats& stats);
  void check_refusal_fields(const SlabObject& handle, const Error& error);
  std::uint64_t allocations_refused_ = 0;  // of valid sizes, over budget or out of memory
  struct Live {
    std::uint32_t generation;
    std::uint32_t slab;   // the slab incarnation it was handed out of
    std::uint32_t epoch;
    std::uint32_t fiber;
    std::uint64_t step;
  };
  struct Freed {
    std::uint32_t slab;
    std::uint32_t epoch;
    std::size_t bytes;
  };
  Oracles& hub_;
  faults::SimOs& os_;
  std::map<std::uint64_t, Live> live_;    // SimOs offset → who holds it
  std::map<std::uint64_t, Freed> freed_;  // canary-filled free objects, by offset
  // Per fiber, the last snapshot check_counters saw: two fibers' snapshots
  // interleave (stats() takes locks), one fiber's follow each other.
  std::map<std::uint32_t, SlabStats> last_stats_;
};

// slab_counters.cpp: the first cumulative count (per class or allocator-wide)
// lower in `after` than in `before`, described; none: nullopt. For callers
// that collect failures instead of failing at once (a native thread).
std::optional<std::string> slab_counter_regression(const SlabStats& before, const SlabStats& after);

}  // namespace segsim::scenarios
