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
// Failures go through the run's Oracles (named oracle, fiber, step); callers
// hold the workload's model lock, so the model and the calls are in step.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/large_object_allocator.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

struct LargeModelEntry {
  LargeObject handle;
  std::size_t requested_bytes = 0;
  std::uint8_t fill = 0;  // every byte reads this
};

class LargeObjectChecks {
 public:
  LargeObjectChecks(Oracles& oracles, faults::SimOs& os, LargeObjectAllocator& large)
      : oracles_(oracles), os_(os), large_(large) {}

  // large_outcome.cpp: the result of allocate / allocate_uninitialized of
  // `requested` bytes, `live_before` the allocator's live objects before the
  // call. `strict_refusal`: nothing else changes free ranges meanwhile, so a
  // refusal must be necessary. Returns the model entry's key, or 0.
  std::uint64_t allocated(const Result<LargeObject>& result, std::size_t requested, bool zeroed,
                          std::size_t live_before, bool faults_active, bool strict_refusal);
  // large_outcome.cpp: a release the model says must succeed.
  void released(std::uint64_t key, const Status& status);
  // large_outcome.cpp: a release the model says must fail with `expected`.
  void refused_release(const LargeObject& handle, const Status& status, Errc expected, std::size_t live_before);

  // large_content.cpp
  void write(std::uint64_t key, std::uint8_t fill);
  void verify(std::uint64_t key, const char* when);

  // large_audit.cpp
  void check_audit();
  void check_quiescent(std::size_t foreign_live_objects);

  const std::map<std::uint64_t, LargeModelEntry>& live() const noexcept { return live_; }

 private:
  std::uint64_t offset_of(const LargeObject& object) const;
  void overlap_insert(const LargeObject& object);      // large_overlap.cpp
  void overlap_erase(const LargeObject& object);       // large_overlap.cpp
  void check_zeroed(const LargeObject& object);        // large_zero.cpp

  Oracles& oracles_;
  faults::SimOs& os_;
  LargeObjectAllocator& large_;
  std::map<std::uint64_t, LargeModelEntry> live_;      // by SimOs offset: stable across runs
  std::map<std::uint64_t, std::uint64_t> ranges_;      // offset → end, live objects
};

}  // namespace segsim::scenarios
