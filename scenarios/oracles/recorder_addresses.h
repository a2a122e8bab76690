// The "recorder-addresses" oracle (recorder_addresses.cpp): what a crash
// report promises of the address of a SegmentAllocator's event
// (docs/flight-recorder.md, format 4; core/flight_recorder_regions.h),
// against the harness's own record of where each region was mapped
// (SegmentObserver::region_mapped), not the recorder's table:
//   * a compact event (a successful call of the program: depth 0, a request
//     under 512 KiB) gives its slice's address rebuilt from the base its
//     region has now — the latest mapping, kept after an unmap while the
//     allocator lives — and "0x0" once its allocator was destroyed;
//   * any other successful event gives the address its slice had at the
//     call: its slice in one of the region's mappings;
//   * a successful event names a region its allocator mapped, in the class
//     the region was mapped for;
//   * a successful allocate carries its request's bytes, which its slice's
//     class is the smallest to hold.
// Refused and failed calls are not checked (a forged handle's pointer is the
// caller's). Allocators the record never heard of are not checked either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/crash_report.h"

namespace segsim::scenarios {

class Oracles;

// Where each region of the recorded allocators was mapped, in order. Bounded:
// past kMaxRegions regions or kMaxMappingsPerRegion mappings of one, the
// allocator's events are no longer checked (counted in unchecked_allocators).
class RegionRecord {
 public:
  static constexpr std::size_t kMaxRegions = std::size_t{1} << 14;
  static constexpr std::size_t kMaxMappingsPerRegion = 256;

  void mapped(std::uint32_t allocator, std::uint32_t region, std::uintptr_t base, int size_class);
  // The allocator was destroyed: its compact events' addresses are 0 after.
  void destroyed(std::uint32_t allocator) { destroyed_.insert(allocator); }
  std::size_t unchecked_allocators() const noexcept { return incomplete_.size(); }

  // What the report got wrong, or nullopt. `checked`: the events compared (may be null).
  std::optional<std::string> problem(const CrashReport& report, std::size_t* checked = nullptr) const;

 private:
  struct Mappings {
    int size_class = -1;
    std::vector<std::uintptr_t> bases;  // in mapping order; back(): the base noted now
  };
  // A successful event of an allocator recorded in full.
  bool checks(const CrashEvent& e) const;
  // What one checked event got wrong (after "thread N's "), or nullopt.
  std::optional<std::string> event_problem(const CrashEvent& e) const;
  std::map<std::pair<std::uint32_t, std::uint32_t>, Mappings> regions_;  // (allocator, region)
  std::set<std::uint32_t> allocators_;
  std::set<std::uint32_t> destroyed_;
  std::set<std::uint32_t> incomplete_;  // a mapping not recorded (a bound): not checked
};

// Fires "recorder-addresses" on record.problem(report).
void check_recorded_addresses(Oracles& hub, const RegionRecord& record, const CrashReport& report);

}  // namespace segsim::scenarios
