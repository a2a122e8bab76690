// recorder-addresses: see recorder_addresses.h.
#include "scenarios/oracles/recorder_addresses.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/flight_recorder.h"
#include "core/size_class.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

namespace {

// The recorder writes a successful call of the program into a compact slot
// (flight_recorder.h, detail::Slot): no address of its own, rebuilt from the
// region's base when the report is written.
bool recorded_compact(const CrashEvent& e) {
  return e.depth == 0 && !e.error && e.bytes < flight_recorder::detail::kCompactBytesLimit;
}

std::string describe_allocator_event(const CrashEvent& e) {
  return fmt::format("{} of allocator {} region {} slice {} generation {} (class {}, depth {}, {} slot)",
                     flight_recorder::op_name(e.op), e.allocator, e.region, e.slice, e.generation, e.size_class,
                     e.depth, recorded_compact(e) ? "compact" : "wide");
}

// Stable words for a failure text: which of a region's mappings (`bases`)
// `address` is the slice at `offset` of — never the raw address.
std::string where_in(const std::vector<std::uintptr_t>& bases, std::uintptr_t offset, std::uint32_t slice,
                     std::uint64_t address) {
  if (address == 0) return "0x0";
  for (std::size_t k = 0; k < bases.size(); ++k) {
    if (address >= bases[k] && address - bases[k] == offset) return fmt::format("the slice in mapping {}", k);
  }
  return fmt::format("no slice {} of the region's {} mapping(s)", slice, bases.size());
}

}  // namespace

void RegionRecord::mapped(std::uint32_t allocator, std::uint32_t region, std::uintptr_t base, int size_class) {
  allocators_.insert(allocator);
  const auto key = std::make_pair(allocator, region);
  auto it = regions_.find(key);
  if (it == regions_.end()) {
    if (regions_.size() >= kMaxRegions) {
      incomplete_.insert(allocator);
      return;
    }
    it = regions_.emplace(key, Mappings{size_class, {}}).first;
  }
  Mappings& m = it->second;
  if (m.bases.size() >= kMaxMappingsPerRegion || m.size_class != size_class) {
    incomplete_.insert(allocator);  // a class change breaks the allocator's promise: allocation.cpp's to name
    return;
  }
  m.bases.push_back(base);
}

bool RegionRecord::checks(const CrashEvent& e) const {
  return flight_recorder::is_allocator_op(e.op) && !e.error && allocators_.count(e.allocator) != 0 &&
         incomplete_.count(e.allocator) == 0;
}

std::optional<std::string> RegionRecord::problem(const CrashReport& report, std::size_t* checked) const {
  std::size_t compared = 0;
  for (const CrashThread& thread : report.threads) {
    for (const CrashEvent& e : thread.events) {
      if (!checks(e)) continue;
      ++compared;
      if (auto wrong = event_problem(e)) return fmt::format("thread {}'s {}", thread.thread, *wrong);
    }
  }
  if (checked != nullptr) *checked = compared;
  return std::nullopt;
}

std::optional<std::string> RegionRecord::event_problem(const CrashEvent& e) const {
  const auto it = regions_.find({e.allocator, e.region});
  if (it == regions_.end() || it->second.size_class != e.size_class) {
    return fmt::format("{} succeeded on a region its allocator {}", describe_allocator_event(e),
                       it == regions_.end() ? std::string("never mapped")
                                            : fmt::format("mapped for class {}", it->second.size_class));
  }
  // The request an allocate carries: the slice's class is the smallest to hold it.
  if ((e.op == flight_recorder::Op::Allocate || e.op == flight_recorder::Op::AllocateUninitialized) &&
      class_of(e.bytes) != e.size_class) {
    return fmt::format("{} carries a request of {} B, which class {} is not the smallest to hold",
                       describe_allocator_event(e), e.bytes, e.size_class);
  }
  const std::vector<std::uintptr_t>& bases = it->second.bases;
  const std::uintptr_t offset = std::uintptr_t{e.slice} * class_bytes(static_cast<std::size_t>(e.size_class));
  const std::uint64_t got = e.address.value;
  if (recorded_compact(e)) {
    const bool gone = destroyed_.count(e.allocator) != 0;
    const std::uint64_t due = gone ? 0 : bases.back() + offset;
    if (got == due) return std::nullopt;
    return fmt::format("{} gives {}; due {} ({})", describe_allocator_event(e), where_in(bases, offset, e.slice, got),
                       where_in(bases, offset, e.slice, due),
                       gone ? "its allocator was destroyed before the report"
                            : fmt::format("the region's base noted now: mapping {} of {}", bases.size() - 1,
                                          bases.size()));
  }
  if (std::any_of(bases.begin(), bases.end(), [&](std::uintptr_t b) { return got == b + offset; })) {
    return std::nullopt;
  }
  return fmt::format("{} gives {}; due the slice's address at the call, in one of the region's {} mapping(s)",
                     describe_allocator_event(e), where_in(bases, offset, e.slice, got), bases.size());
}

void check_recorded_addresses(Oracles& hub, const RegionRecord& record, const CrashReport& report) {
  if (auto problem = record.problem(report)) hub.fail("recorder-addresses", *problem);
}

void Oracles::check_recorded_addresses(const CrashReport& report) {
  scenarios::check_recorded_addresses(*this, region_record_, report);
}

}  // namespace segsim::scenarios
