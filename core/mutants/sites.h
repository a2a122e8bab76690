// The bug catalogue's mistakes that need more than a one-line switch at their
// site (core/mutants.h). Declared for every build, defined only in the
// mutants build (SEGSIM_MUTANTS=ON, core/mutants/*.cpp): elsewhere every call
// sits behind SEGSIM_MUTANT(x), the constant false, and is never emitted.
#pragma once

#include <cstddef>

#include "core/leaf_page.h"
#include "core/segment.h"
#include "core/segment_allocator.h"

namespace segsim::mutants {

// cleanup-race (seed 002's first cleanup): checks "all slices returned" under
// the class lock, but leaves the region allocatable while its physical memory
// is dropped, and queues it afterwards whatever happened meanwhile. A
// template over the allocator's internal state so that the private
// SegmentAllocator::Impl need not be named here; its one instantiation is in
// core/mutants/cleanup_race.cpp.
template <class AllocatorImpl>
typename AllocatorImpl::ReleaseOutcome release_regions_racy(AllocatorImpl& allocator, int size_class);

// clear-after-return (seed 001 #5): the historical clear() zeroed the page's
// memory, returned or not.
void zero_page_memory(const Segment& slot_memory, const Segment& dewey_memory);

// prealloc-leak (seed 001 #1): the historical pool made pages up front that
// were never handed out nor returned. They are leaked on purpose.
void preallocate_pages(SegmentAllocator& allocator, const LeafPageConfig& config);

}  // namespace segsim::mutants
