// OsLedgerOs: the harness's own account of what one component asked of the
// Os — a decorator that forwards every call unchanged and counts the maps,
// unmaps and DontNeed advises and how each ended. An oracle holds the
// component's counters (LargeObjectStats::decommits, AllocatorStats::
// regions_mapped, …) against this ledger instead of trusting the counters'
// code. It adds no scheduling point, draws from no random stream and traces
// nothing, so a run over it is the same run (same trace hash) as one without
// it. Under the simulator fibers run one at a time, so plain counters suffice.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "core/forwarding_os.h"
#include "core/os.h"
#include "scenarios/oracles/sim_now.h"

namespace segsim::scenarios {

struct OsLedger {
  std::uint64_t maps_ok = 0;
  std::uint64_t maps_failed = 0;
  std::uint64_t unmaps_ok = 0;
  std::uint64_t unmaps_failed = 0;
  // Unmaps (either outcome) of a range that is not one live mapping of the
  // component's, whole: its own mappings are all it may give back.
  std::uint64_t unmaps_not_mapped = 0;
  std::map<const std::byte*, std::size_t> live_mappings;  // address → bytes, mapped and not yet unmapped
  // The errno of each fiber's last failed map: what an OutOfMemory refusal
  // caused by it must carry (Error::os_errno).
  std::map<std::uint32_t, int> last_map_errno_by_fiber;
  int last_map_errno_of_current_fiber() const { return of_current_fiber(last_map_errno_by_fiber); }
  // Maps (either outcome) by the fiber that asked: what one call of one fiber
  // asked, read around the call (map-retry).
  struct FiberMaps {
    std::uint64_t maps = 0;
    std::uint64_t failed = 0;
    bool last_failed = false;  // the fiber's latest map failed
  };
  std::map<std::uint32_t, FiberMaps> maps_by_fiber;
  FiberMaps maps_of_current_fiber() const { return of_current_fiber(maps_by_fiber); }
  std::uint64_t mapped_bytes = 0;       // of live_mappings
  std::uint64_t peak_mapped_bytes = 0;  // the most mapped_bytes has been
  std::uint64_t dont_need_ok = 0;      // DontNeed advises that succeeded
  std::uint64_t dont_need_failed = 0;  // DontNeed advises that failed (injected or refused)
  std::uint64_t dont_need_ok_bytes = 0;
  std::uint64_t other_advises = 0;     // any other advice
  // HugePage advises (either outcome) by the address they began at, with
  // their bytes, until a new mapping starts there (large-grow: which spans
  // were given the hint).
  std::map<const std::byte*, std::size_t> huge_page_advised;
  // Unmaps (either outcome) asked before the latest DontNeed advise: whether
  // an advise came after an unmap (teardown-unmapped: a destructor lets the
  // cleanups in flight finish before it unmaps).
  std::uint64_t unmaps_before_last_dont_need = 0;
  // DontNeed advises (either outcome) by the fiber that asked: what one call
  // of one fiber asked, read around the call (zeroing-method).
  std::map<std::uint32_t, std::uint64_t> dont_need_by_fiber;
  std::map<std::uint32_t, std::uint64_t> dont_need_ok_by_fiber;  // of those, the ones that succeeded
  std::uint64_t dont_need_by_current_fiber() const { return of_current_fiber(dont_need_by_fiber); }
  std::uint64_t dont_need_ok_by_current_fiber() const { return of_current_fiber(dont_need_ok_by_fiber); }
  // The calling fiber's entry of a per-fiber map, or zero.
  template <typename Value>
  static Value of_current_fiber(const std::map<std::uint32_t, Value>& by_fiber) {
    auto it = by_fiber.find(fiber_now());
    return it == by_fiber.end() ? Value{} : it->second;
  }
};

// teardown-unmapped (teardown_unmapped.cpp): what a component's destructor
// did to the Os between `before` (its ledger just before it ran) and `after`:
// empty when it unmapped each of its live mappings exactly once, whole, mapped
// nothing, left a mapping behind only where that unmap failed, and no DontNeed
// advise (a cleanup's) came after its first unmap; otherwise
// one line naming `destructor` and its `mappings` ("region(s)", "span(s)").
std::string teardown_unmapped_problem(const char* destructor, const char* mappings, const OsLedger& before,
                                      const OsLedger& after);

// map-retry (map_retry.cpp): what one call of a component asked of the Os
// after a map of its own failed, between `before` and `after` (the calling
// fiber's maps around the call): empty when it asked no other map — the
// failed map was the call's only failed one and its last; otherwise one line
// saying what it mapped, naming `call`.
std::string map_retry_problem(const std::string& call, const OsLedger::FiberMaps& before,
                              const OsLedger::FiberMaps& after);

class OsLedgerOs final : public ForwardingOs {
 public:
  using ForwardingOs::ForwardingOs;  // inner must outlive it

  OsResult<std::byte*> map(std::size_t bytes) override {
    OsResult<std::byte*> mapped = inner().map(bytes);
    ++(mapped.ok() ? ledger_.maps_ok : ledger_.maps_failed);
    OsLedger::FiberMaps& by_fiber = ledger_.maps_by_fiber[fiber_now()];
    ++by_fiber.maps;
    if (!mapped.ok()) ++by_fiber.failed;
    by_fiber.last_failed = !mapped.ok();
    if (!mapped.ok()) ledger_.last_map_errno_by_fiber[fiber_now()] = mapped.error().errno_value;
    if (mapped.ok()) {
      ledger_.huge_page_advised.erase(mapped.value());
      ledger_.live_mappings[mapped.value()] = bytes;
      ledger_.mapped_bytes += bytes;
      ledger_.peak_mapped_bytes = std::max(ledger_.peak_mapped_bytes, ledger_.mapped_bytes);
    }
    return mapped;
  }
  OsStatus unmap(std::byte* addr, std::size_t bytes) override {
    const auto live = ledger_.live_mappings.find(addr);
    const bool whole_mapping = live != ledger_.live_mappings.end() && live->second == bytes;
    if (!whole_mapping) ++ledger_.unmaps_not_mapped;
    OsStatus status = inner().unmap(addr, bytes);
    ++(status.ok() ? ledger_.unmaps_ok : ledger_.unmaps_failed);
    if (status.ok() && whole_mapping) {
      ledger_.mapped_bytes -= bytes;
      ledger_.live_mappings.erase(live);
    }
    return status;
  }
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override {
    OsStatus status = inner().advise(addr, bytes, advice);
    if (advice != Advice::DontNeed) {
      ++ledger_.other_advises;
      if (advice == Advice::HugePage) ledger_.huge_page_advised[addr] = bytes;
      return status;
    }
    ++ledger_.dont_need_by_fiber[fiber_now()];
    ledger_.unmaps_before_last_dont_need = ledger_.unmaps_ok + ledger_.unmaps_failed;
    if (status.ok()) {
      ++ledger_.dont_need_ok_by_fiber[fiber_now()];
      ++ledger_.dont_need_ok;
      ledger_.dont_need_ok_bytes += bytes;
    } else {
      ++ledger_.dont_need_failed;
    }
    return status;
  }

  const OsLedger& ledger() const noexcept { return ledger_; }

 private:
  OsLedger ledger_;
};

}  // namespace segsim::scenarios
