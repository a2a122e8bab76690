// slab-empty-release: release_empty_slabs() gives back the empty slabs — the
// ones stats() counts as empty_slabs — and returns how many it gave back.
// Any snapshot: a class's empty slabs are among its slabs, and their objects
// are all on slab free lists. Around a call: it gave back at least what it
// returns (other fibers' frees may give back more meanwhile). At quiescence,
// exactly: the count is the empty slabs stats() counted just before, each
// class keeps its other slabs and no empty one, and slabs_released grew by
// the count.
#include <fmt/format.h>

#include "scenarios/oracles/slab_oracles.h"

namespace segsim::scenarios {

namespace {

// The first class whose empty-slab count contradicts its other counts.
std::optional<std::string> empty_count_contradiction(const SlabStats& stats) {
  for (const SlabClassStats& s : stats.classes) {
    if (s.empty_slabs > s.slabs || s.empty_slabs * s.objects_per_slab > s.slab_free_objects) {
      return fmt::format("class {} B counts {} empty slab(s) of {} objects each among {} slab(s) with {} object(s) "
                         "on slab free lists",
                         s.object_bytes, s.empty_slabs, s.objects_per_slab, s.slabs, s.slab_free_objects);
    }
  }
  return std::nullopt;
}

std::size_t empty_slabs(const SlabStats& stats) {
  std::size_t n = 0;
  for (const SlabClassStats& s : stats.classes) n += s.empty_slabs;
  return n;
}

}  // namespace

void SlabOracles::check_empty_release(const SlabStats& before, std::size_t released, const SlabStats& after,
                                      bool quiescent) {
  for (const SlabStats* stats : {&before, &after}) {
    if (auto contradiction = empty_count_contradiction(*stats)) hub_.fail("slab-empty-release", *contradiction);
  }
  const std::uint64_t given_back = after.slabs_released - before.slabs_released;
  if (given_back < released) {
    hub_.fail("slab-empty-release", fmt::format("release_empty_slabs() returned {} while {} slab(s) went back",
                                                released, given_back));
  }
  if (!quiescent) return;
  if (released != empty_slabs(before) || given_back != released) {
    hub_.fail("slab-empty-release",
              fmt::format("at quiescence, with {} empty slab(s) counted, release_empty_slabs() returned {} and {} "
                          "slab(s) went back",
                          empty_slabs(before), released, given_back));
  }
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    const SlabClassStats& b = before.classes[c];
    const SlabClassStats& a = after.classes[c];
    if (a.empty_slabs != 0 || a.slabs != b.slabs - b.empty_slabs) {
      hub_.fail("slab-empty-release",
                fmt::format("class {} B: {} slab(s), {} empty, before release_empty_slabs() at quiescence; after it "
                            "{} slab(s), {} empty",
                            b.object_bytes, b.slabs, b.empty_slabs, a.slabs, a.empty_slabs));
    }
  }
}

}  // namespace segsim::scenarios
