// The recorder-addresses oracle (scenarios/oracles/recorder_addresses.h): it
// accepts each event's address as the region record gives it — a compact
// event's from the base noted now, 0 after its allocator's destruction; a
// wide one's from any mapping of its region — and fires on every other.
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "core/flight_recorder.h"
#include "core/size_class.h"
#include "scenarios/oracles/recorder_addresses.h"

namespace segsim::scenarios {
namespace {

using flight_recorder::Op;

constexpr std::uint32_t kAllocator = 7;
constexpr std::uintptr_t kFirstBase = 0x7f0000000000;
constexpr std::uintptr_t kSecondBase = 0x7f0000800000;
constexpr int kClass = 2;  // 16 KiB slices

CrashEvent allocator_event(Op op, std::uint32_t slice, std::uintptr_t address, std::uint32_t depth = 0) {
  CrashEvent e;
  e.op = op;
  e.allocator = kAllocator;
  e.region = 3;
  e.slice = slice;
  e.generation = 5;
  e.size_class = kClass;
  e.bytes = op == Op::Allocate ? class_bytes(kClass) : 0;
  e.depth = depth;
  e.address.value = address;
  return e;
}

std::uintptr_t address_of_slice(std::uintptr_t base, std::uint32_t slice) { return base + slice * class_bytes(kClass); }

CrashReport report_with(std::initializer_list<CrashEvent> events) {
  CrashReport report;
  report.threads.push_back(CrashThread{0, events.size(), events});
  return report;
}

TEST(RecorderAddresses, CompactEventsTakeTheBaseNotedNowWideOnesTheirOwn) {
  RegionRecord record;
  record.mapped(kAllocator, 3, kFirstBase, kClass);
  const CrashEvent first = allocator_event(Op::Allocate, 1, address_of_slice(kFirstBase, 1));
  std::size_t checked = 0;
  EXPECT_EQ(record.problem(report_with({first}), &checked), std::nullopt);
  EXPECT_EQ(checked, 1u);

  // Mapped again elsewhere: a compact event of the first mapping gives the new base; a wide one its own.
  record.mapped(kAllocator, 3, kSecondBase, kClass);
  EXPECT_NE(record.problem(report_with({first})), std::nullopt);
  const CrashEvent rebuilt = allocator_event(Op::Allocate, 1, address_of_slice(kSecondBase, 1));
  const CrashEvent wide_old = allocator_event(Op::Release, 1, address_of_slice(kFirstBase, 1), /*depth=*/1);
  EXPECT_EQ(record.problem(report_with({rebuilt, wide_old}), &checked), std::nullopt);
  EXPECT_EQ(checked, 2u);
  const CrashEvent wide_elsewhere = allocator_event(Op::Release, 1, address_of_slice(kFirstBase, 2), 1);
  EXPECT_NE(record.problem(report_with({wide_elsewhere})), std::nullopt);

  // Destroyed: compact events give 0x0; wide ones keep theirs.
  record.destroyed(kAllocator);
  EXPECT_NE(record.problem(report_with({rebuilt})), std::nullopt);
  EXPECT_EQ(record.problem(report_with({allocator_event(Op::Allocate, 1, 0), wide_old})), std::nullopt);
}

TEST(RecorderAddresses, ANamedRegionMustBeMappedInItsClass) {
  RegionRecord record;
  record.mapped(kAllocator, 3, kFirstBase, kClass);
  CrashEvent other_region = allocator_event(Op::Reset, 0, kFirstBase);
  other_region.region = 4;
  const auto problem = record.problem(report_with({other_region}));
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("never mapped"), std::string::npos) << *problem;
  CrashEvent other_class = allocator_event(Op::Reset, 0, kFirstBase);
  other_class.size_class = kClass + 1;
  EXPECT_NE(record.problem(report_with({other_class})), std::nullopt);
}

TEST(RecorderAddresses, RefusalsAndUnknownAllocatorsAreNotChecked) {
  RegionRecord record;
  record.mapped(kAllocator, 3, kFirstBase, kClass);
  CrashEvent refused = allocator_event(Op::Release, 9, 0x1234);
  refused.error = Errc::DoubleFree;
  CrashEvent foreign = allocator_event(Op::Allocate, 1, 0x1000);
  foreign.allocator = kAllocator + 1;
  std::size_t checked = 1;
  EXPECT_EQ(record.problem(report_with({refused, foreign}), &checked), std::nullopt);
  EXPECT_EQ(checked, 0u);
}

TEST(RecorderAddresses, TheFailureTextHoldsNoRawAddress) {
  RegionRecord record;
  record.mapped(kAllocator, 3, kFirstBase, kClass);
  const auto problem = record.problem(report_with({allocator_event(Op::Allocate, 1, address_of_slice(kFirstBase, 2))}));
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->find("0x7f"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("no slice 1"), std::string::npos) << *problem;
}

}  // namespace
}  // namespace segsim::scenarios
