// The ownership checker's state: the harness's own model of every live slice,
// (region id, slice index) -> the hand-out that made it live. It trusts
// nothing the allocator says; the hub (oracles.h) feeds it the observer hooks
// and turns a non-empty verdict into a failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "core/segment_allocator.h"

namespace segsim::scenarios {

class OwnershipModel {
 public:
  // "" when the slice was free in the model, else why handing it out is wrong.
  std::string handing_out(const Segment& segment, std::uint32_t fiber, std::uint64_t step);
  // "" when the model held the slice live under this generation, else why an
  // accepted release of it is wrong (the model then forgets a stale live entry
  // only when the generation matched).
  std::string released(const Segment& segment);

  bool live(const Segment& segment) const;
  // The generation the model holds live at `segment`'s slice of the same
  // mapping (the same address), or 0: free, or its region unmapped since
  // (mapped anew elsewhere, the slice at that index is another address).
  std::uint32_t generation_now(const Segment& segment) const;
  std::size_t live_slices() const noexcept { return live_slices_.size(); }
  // Bytes of the live slices' classes (what AllocatorStats::live_bytes counts).
  std::size_t live_bytes() const noexcept { return live_bytes_; }
  // Regions with at least one live slice: they cannot be given back.
  std::size_t live_regions() const noexcept { return live_per_region_.size(); }
  // Hand-outs and releases so far: a call whose window saw none ran alone.
  std::uint64_t slice_events() const noexcept { return slice_events_; }

 private:
  struct LiveSlice {
    std::uint32_t generation = 0;
    std::uint32_t fiber = 0;
    std::uint64_t step = 0;
    std::size_t bytes = 0;  // the slice's class bytes
    const std::byte* data = nullptr;
  };
  std::map<std::pair<std::uint32_t, std::uint32_t>, LiveSlice> live_slices_;
  std::map<std::uint32_t, std::size_t> live_per_region_;  // region id -> live slices
  std::uint64_t slice_events_ = 0;
  std::size_t live_bytes_ = 0;
};

}  // namespace segsim::scenarios
