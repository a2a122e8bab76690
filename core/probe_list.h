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
    // ---- LargeObjectAllocator (large_object_allocator.cpp, large_object_maintenance.cpp) ----
    Probe{"large.invalid_size.small", "large allocate of 256 KiB or less (or 0) refused", true},
    Probe{"large.invalid_size.too_large", "large allocate above max_object_bytes refused", true},
    Probe{"large.alloc.exact_fit", "a free range fits the object exactly (no remainder)", true},
    Probe{"large.coalesce.next", "a released range merged with the free range after it", true},
    Probe{"large.coalesce.prev", "a released range merged with the free range before it", true},
    Probe{"large.grow.unmapped_free_spans", "growth over budget first unmapped wholly free spans", false},
    Probe{"large.grow.reclaim_retry", "growth over budget asked on_budget_exhausted to reclaim", true},
    Probe{"large.grow.over_budget", "growth refused with OutOfBudget", true},
    Probe{"large.grow.map_failed", "mmap of a new span failed: OutOfMemory, state unchanged", false},
    Probe{"large.grow.huge_page_failed", "the huge-page hint failed; the span is used without it", false},
    Probe{"large.release.double_free", "release of a handle that is not live refused", true},
    Probe{"large.release.invalid_pointer", "release of a null or foreign handle refused", true},
    Probe{"large.decommit.advise_failed", "a decommit madvise failed; the range stays dirty", false},
    Probe{"large.unmap.failed", "munmap of a wholly free span failed; the span is kept", false},
    // ---- PressureForecaster (pressure_forecaster.cpp, pressure_loop.cpp) ----
    Probe{"pressure.sample.time_backwards", "a sample older than the last one refused", true},
    Probe{"pressure.forecast.too_few_samples", "forecast with fewer than two samples: no trend, confidence 0", true},
    Probe{"pressure.forecast.zero_time_span", "samples all at one instant: slope 0, confidence 0", true},
    Probe{"pressure.forecast.zero_limit", "a sample with a zero limit: ratios are 0", false},
    Probe{"pressure.action.gentle", "the loop took the gentle-eviction action", true},
    Probe{"pressure.action.aggressive", "the loop took the aggressive-eviction action", true},
    Probe{"pressure.action.emergency", "the loop took the emergency-cleanup action", true},
    Probe{"pressure.reclaim.on_refusal", "an allocation over budget asked the loop to reclaim", true},
    Probe{"cache.shrink.skipped_pinned", "a pressure shrink skipped a pinned page", true},
};

}  // namespace segsim::probes
