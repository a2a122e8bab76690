// slab-refusal: every completed SlabAllocator call is one the workload's
// reference model allows — success where the model says the call must work,
// the model's error code where it must be refused — and a refused call
// changed nothing the model can see (live and cached objects, slabs).
#include <fmt/format.h>

#include "scenarios/oracles/error_text.h"
#include "scenarios/oracles/slab_oracles.h"

namespace segsim::scenarios {

void SlabOracles::expect_ok(const Status& got, const char* doing, const std::byte* object) {
  if (!got.ok()) {
    hub_.fail("slab-refusal", fmt::format("{} of a live object was refused: {}", doing, got.error().describe()), object);
  }
}

void SlabOracles::expect_refused(const Status& got, Errc expected, const char* doing, const std::byte* object) {
  if (got.ok()) {
    hub_.fail("slab-refusal", fmt::format("{} succeeded; the model says {}", doing, errc_name(expected)), object);
  }
  check_error_text(hub_, got.error());
  if (got.error().code != expected) {
    hub_.fail("slab-refusal", fmt::format("{} refused with {}; the model says {}", doing, got.error().describe(),
                                          errc_name(expected)),
              object);
  }
}

void SlabOracles::expect_unchanged(const SlabStats& before, const SlabStats& after, const char* doing) {
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    const SlabClassStats& b = before.classes[c];
    const SlabClassStats& a = after.classes[c];
    if (a.live_objects != b.live_objects || a.slabs != b.slabs || a.allocations != b.allocations ||
        a.requested_bytes != b.requested_bytes || a.frees != b.frees || a.slab_free_objects + a.cached_objects + a.depot_objects !=
                                  b.slab_free_objects + b.cached_objects + b.depot_objects) {
      hub_.fail("slab-refusal",
                fmt::format("refused {} changed class {} B: live {} -> {}, slabs {} -> {}, frees {} -> {}", doing,
                            b.object_bytes, b.live_objects, a.live_objects, b.slabs, a.slabs, b.frees, a.frees));
    }
  }
}

}  // namespace segsim::scenarios
