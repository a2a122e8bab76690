// Every probe of core/, grouped by component (see core/probe.h). `required`:
// the CI campaign (ci/campaign.sh) must reach it; a probe that only a rare
// fault or a debugging session reaches stays optional.
// Included by core/probe.h only.
#pragma once

namespace segsim::probes {

inline constexpr std::array kProbes = {
    // ---- SegmentAllocator (segment_allocator.cpp) ----
    Probe{"alloc.invalid_size.zero", "allocate of zero bytes refused", true},
    Probe{"alloc.invalid_size.too_large", "allocate above the largest class refused", true},
};

}  // namespace segsim::probes
