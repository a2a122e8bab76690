// SimOs against the real kernel's semantics for the same call sequences.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "core/linux_os.h"
#include "core/units.h"
#include "core/sanitizers.h"
#include "faults/sim_os.h"
#include "faults/tests/sim_os_fixture.h"
#include "core/platform/clock.h"
#include "sim/simulation.h"

namespace segsim::faults {
namespace {

std::unique_ptr<SimOs> make_sim_os(SimOsConfig config = {}) {
  return testing::make_test_sim_os(1024 * MiB, config);
}

class SimOsVsKernel : public ::testing::TestWithParam<bool> {
 protected:
  // The same test body runs against SimOs and against LinuxOs.
  Os& os() { return GetParam() ? static_cast<Os&>(*sim_os_) : LinuxOs::instance(); }
  std::unique_ptr<SimOs> sim_os_ = make_sim_os();
  std::size_t page = LinuxOs::instance().page_size();
};

TEST_P(SimOsVsKernel, MapGivesZeroedMemoryAndDontNeedZeroesAgain) {
  auto mapped = os().map(4 * page);
  ASSERT_TRUE(mapped.ok());
  std::byte* p = mapped.value();
  for (std::size_t i = 0; i < 4 * page; i += 64) ASSERT_EQ(p[i], std::byte{0});
  std::memset(p, 0x7e, 4 * page);
  ASSERT_TRUE(os().advise(p, 4 * page, Advice::DontNeed).ok());
  for (std::size_t i = 0; i < 4 * page; ++i) ASSERT_EQ(p[i], std::byte{0}) << i;
  EXPECT_TRUE(os().unmap(p, 4 * page).ok());
}

TEST_P(SimOsVsKernel, PartialUnmapKeepsBothEnds) {
  auto mapped = os().map(3 * page);
  ASSERT_TRUE(mapped.ok());
  std::byte* p = mapped.value();
  std::memset(p, 0x11, 3 * page);
  ASSERT_TRUE(os().unmap(p + page, page).ok());
  EXPECT_EQ(p[0], std::byte{0x11});
  EXPECT_EQ(p[2 * page + 5], std::byte{0x11});
  auto advised = os().advise(p + page, page, Advice::WillNeed);  // the hole
  ASSERT_FALSE(advised.ok());
  EXPECT_EQ(advised.error().errno_value, ENOMEM);
  EXPECT_TRUE(os().unmap(p, 3 * page).ok());  // unmapping across the hole is fine
}

TEST_P(SimOsVsKernel, HintsAreAcceptedOnMappedMemory) {
  auto mapped = os().map(page);
  ASSERT_TRUE(mapped.ok());
  EXPECT_TRUE(os().advise(mapped.value(), page, Advice::WillNeed).ok());
  EXPECT_TRUE(os().advise(mapped.value(), page, Advice::Sequential).ok());
  EXPECT_TRUE(os().unmap(mapped.value(), page).ok());
}

TEST_P(SimOsVsKernel, MisalignedAdviceIsEinval) {
  auto mapped = os().map(2 * page);
  ASSERT_TRUE(mapped.ok());
  auto advised = os().advise(mapped.value() + 1, page, Advice::DontNeed);
  ASSERT_FALSE(advised.ok());
  EXPECT_EQ(advised.error().errno_value, EINVAL);
  EXPECT_TRUE(os().unmap(mapped.value(), 2 * page).ok());
}

INSTANTIATE_TEST_SUITE_P(Both, SimOsVsKernel, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "SimOs" : "LinuxOs"; });

TEST(LinuxKernel, MadvFreeDoesNotZero) {
  // DESIGN.md's measured fact, checked here so SimOs's model stays honest.
  LinuxOs& os = LinuxOs::instance();
  const std::size_t page = os.page_size();
  auto mapped = os.map(4 * page);
  ASSERT_TRUE(mapped.ok());
  std::memset(mapped.value(), 0x42, 4 * page);
  ASSERT_TRUE(os.advise(mapped.value(), 4 * page, Advice::Free).ok());
  int survived = 0;
  for (std::size_t i = 0; i < 4; ++i) survived += mapped.value()[i * page] == std::byte{0x42} ? 1 : 0;
  EXPECT_GT(survived, 0) << "no memory pressure: MADV_FREE'd bytes should survive";
  EXPECT_TRUE(os.unmap(mapped.value(), 4 * page).ok());
}

TEST(SimOs, MadvFreeSurvivalFollowsTheStream) {
  for (double survival : {0.0, 1.0}) {
    SimOsConfig config;
    config.free_survival_probability = survival;
    auto os = make_sim_os(config);
    const std::size_t page = os->page_size();
    auto mapped = os->map(page);
    ASSERT_TRUE(mapped.ok());
    std::memset(mapped.value(), 0x42, page);
    ASSERT_TRUE(os->advise(mapped.value(), page, Advice::Free).ok());
    // Before the read below: reading a dropped page maps the zero page (resident).
    EXPECT_EQ(os->page_state(mapped.value()), survival == 1.0 ? PageState::LazyFree : PageState::Mapped);
    EXPECT_EQ(mapped.value()[0], survival == 1.0 ? std::byte{0x42} : std::byte{0});
  }
}

TEST(SimOs, AddressesAreDeterministic) {
  auto a = make_sim_os();
  auto b = make_sim_os();
  const std::size_t page = a->page_size();
  for (int round = 0; round < 3; ++round) {
    std::vector<std::uint64_t> offsets_a, offsets_b;
    for (Os* os : {static_cast<Os*>(a.get()), static_cast<Os*>(b.get())}) {
      SimOs* sim = static_cast<SimOs*>(os);
      auto& offsets = os == a.get() ? offsets_a : offsets_b;
      auto x = os->map(8 * page);
      auto y = os->map(2 * page);
      ASSERT_TRUE(x.ok() && y.ok());
      ASSERT_TRUE(os->unmap(x.value() + 2 * page, 4 * page).ok());
      offsets.push_back(*sim->offset_of(x.value()));
      offsets.push_back(*sim->offset_of(y.value()));
    }
    EXPECT_EQ(offsets_a, offsets_b);
    EXPECT_NE(offsets_a[0], offsets_a[1]);
  }
}

TEST(SimOs, StaysInNeverUsedSpaceThenReusesHolesFirstFit) {
  SimOsConfig config;
  auto os = make_sim_os(config);
  const std::size_t page = os->page_size();
  auto first = os->map(page);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(os->unmap(first.value(), page).ok());
  auto second = os->map(page);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second.value(), first.value());  // not reused while fresh space remains
  EXPECT_EQ(os->page_state(first.value()), PageState::Unmapped);
}

TEST(SimOs, SplittingAndTheMapCountLimit) {
  SimOsConfig config;
  config.max_mappings = 2;
  auto os = make_sim_os(config);
  const std::size_t page = os->page_size();
  auto a = os->map(3 * page);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(os->stats().mappings, 1u);
  ASSERT_TRUE(os->unmap(a.value() + page, page).ok());  // split: 2 mappings
  EXPECT_EQ(os->stats().mappings, 2u);
  EXPECT_EQ(os->stats().virtual_bytes, 2 * page);
  auto refused = os->map(page);  // a third mapping
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().errno_value, ENOMEM);
  ASSERT_TRUE(os->unmap(a.value(), page).ok());
  auto b = os->map(4 * page);
  ASSERT_TRUE(b.ok());
  // Punching a hole in b would make 3 mappings: refused, nothing changed.
  auto split = os->unmap(b.value() + page, page);
  ASSERT_FALSE(split.ok());
  EXPECT_EQ(split.error().errno_value, ENOMEM);
  EXPECT_EQ(os->stats().virtual_bytes, 5 * page);
  b.value()[page] = std::byte{1};  // still mapped
  EXPECT_EQ(os->stats().failures[static_cast<std::size_t>(OsCall::Unmap)], 1u);
}

TEST(SimOs, ResidentBytesFollowTouchesAndDontNeed) {
  auto os = make_sim_os();
  const std::size_t page = os->page_size();
  auto mapped = os->map(8 * page);
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(os->stats().resident_bytes, 0u);
  std::memset(mapped.value(), 1, 3 * page);
  EXPECT_EQ(os->stats().resident_bytes, 3 * page);
  EXPECT_EQ(os->page_state(mapped.value()), PageState::Resident);
  ASSERT_TRUE(os->advise(mapped.value(), 8 * page, Advice::DontNeed).ok());
  EXPECT_EQ(os->stats().resident_bytes, 0u);
  EXPECT_EQ(os->stats().calls[static_cast<std::size_t>(OsCall::Advise)], 1u);
}

// page_state_since answers from the drop stamps what page_state asks the
// kernel: written pages not dropped since are Resident; after a DONTNEED, an
// unmap + remap or a reclaimed FREE of that page it asks mincore again.
TEST(SimOs, PageStateSinceAWriteAgreesWithTheKernel) {
  auto os = make_sim_os();
  const std::size_t page = os->page_size();
  auto mapped = os->map(4 * page);
  ASSERT_TRUE(mapped.ok());
  std::byte* p = mapped.value();
  p[0] = std::byte{1};
  p[2 * page] = std::byte{1};
  const std::uint32_t written = os->drop_epoch();
  EXPECT_EQ(os->page_state_since(p, written), PageState::Resident);
  EXPECT_EQ(os->page_state(p), PageState::Resident);
  // Another page dropped: this one's answer does not change.
  ASSERT_TRUE(os->advise(p + 2 * page, page, Advice::DontNeed).ok());
  EXPECT_GT(os->drop_epoch(), written);
  EXPECT_EQ(os->page_state_since(p, written), PageState::Resident);
  EXPECT_EQ(os->page_state_since(p + 2 * page, written), PageState::Mapped);  // the kernel's answer
  // Dropped, then written again: resident by the kernel, not by the stamp.
  ASSERT_TRUE(os->advise(p, page, Advice::DontNeed).ok());
  EXPECT_EQ(os->page_state_since(p, written), PageState::Mapped);
  p[0] = std::byte{2};
  EXPECT_EQ(os->page_state_since(p, written), PageState::Resident);
  // Unmapped: Unmapped, whatever the stamp.
  const std::uint32_t rewritten = os->drop_epoch();
  ASSERT_TRUE(os->unmap(p, 4 * page).ok());
  EXPECT_EQ(os->page_state_since(p, rewritten), PageState::Unmapped);
}

// resident_pages: a range nobody wrote has none, a write makes its page
// resident and no other (the reservation takes no transparent huge pages,
// so a write does not fault in the 2 MiB around it on a THP "always"
// machine), a DONTNEED drops them. Swap or not.
TEST(SimOs, ResidentPagesCountsTheWrittenPagesAlone) {
  auto os = make_sim_os();
  const std::size_t page = os->page_size();
  const std::size_t bytes = std::size_t{8} << 20;  // a 2 MiB-aligned stretch lies inside
  auto mapped = os->map(bytes);
  ASSERT_TRUE(mapped.ok());
  std::byte* p = mapped.value();
  EXPECT_EQ(os->resident_pages(p, bytes), 0u);
  p[5 * page] = std::byte{1};
  p[(bytes / 2) + 7] = std::byte{1};
  EXPECT_EQ(os->resident_pages(p, bytes), 2u);
  EXPECT_EQ(os->resident_pages(p + 5 * page, 1), 1u);
  EXPECT_EQ(os->resident_pages(p + 6 * page, page), 0u) << "a neighbour of a written page";
  ASSERT_TRUE(os->advise(p, bytes, Advice::DontNeed).ok());
  EXPECT_EQ(os->resident_pages(p, bytes), 0u);
  std::vector<std::byte> outside(page);
  EXPECT_FALSE(os->resident_pages(outside.data(), outside.size()).has_value());
  EXPECT_FALSE(os->resident_pages(p, 0).has_value());
}

// residency: which pages a zero scan must read. Touched pages may hold data;
// untouched and dropped ones read zero and are skipped. (With swap on the
// machine it answers nullopt: any page may hold data.)
TEST(SimOs, ResidencyFlagsOnlyPagesThatMayHoldData) {
  auto os = make_sim_os();
  const std::size_t page = os->page_size();
  constexpr std::size_t kPages = SimOs::kMinResidencyQueryPages + 1;
  auto mapped = os->map(kPages * page);
  ASSERT_TRUE(mapped.ok());
  std::byte* p = mapped.value();
  EXPECT_FALSE(os->residency(p, (kPages - 2) * page).has_value()) << "a short range: read it, do not ask";
  EXPECT_FALSE(os->residency(p, 0).has_value());
  std::vector<std::byte> outside(kPages * page);
  EXPECT_FALSE(os->residency(outside.data(), outside.size()).has_value());
  p[page + 5] = std::byte{1};
  p[3 * page] = std::byte{1};
  auto residency = os->residency(p + 8, kPages * page - 8);  // unaligned start: first_page rounds down
  if (!residency) GTEST_SKIP() << "swap is on: every page may hold data";
  EXPECT_EQ(residency->first_page, p);
  EXPECT_EQ(residency->page_bytes, page);
  std::vector<unsigned char> want(kPages, 0);
  want[1] = want[3] = 1;
  EXPECT_EQ(residency->may_hold_data, want);
  ASSERT_TRUE(os->advise(p + 3 * page, page, Advice::DontNeed).ok());
  want[3] = 0;
  EXPECT_EQ(os->residency(p, kPages * page)->may_hold_data, want);
}

TEST(SimOs, InMemoryFiles) {
  auto os = make_sim_os();
  std::vector<std::byte> contents(10000, std::byte{0x5a});
  os->add_file("/pages.db", contents, 1234);
  auto status = os->stat_file("/pages.db");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->bytes, 10000u);
  EXPECT_EQ(status->mtime_ns, 1234);
  auto file = os->map_file("/pages.db");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->bytes, 10000u);
  EXPECT_EQ(std::memcmp(file->data, contents.data(), contents.size()), 0);
  EXPECT_TRUE(os->unmap(const_cast<std::byte*>(file->data), file->bytes).ok());
  auto missing = os->map_file("/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().errno_value, ENOENT);
  EXPECT_TRUE(os->remove_file("/pages.db"));
  EXPECT_FALSE(os->stat_file("/pages.db").ok());
}

// A descriptor names its file, not its path (as a POSIX one names an inode).
TEST(SimOs, ADescriptorWritesToItsFileNotToWhateverIsAtItsPathNow) {
  auto os = make_sim_os();
  const auto bytes_of = [](const char* text) {
    std::vector<std::byte> out;
    for (const char* c = text; *c != '\0'; ++c) out.push_back(static_cast<std::byte>(*c));
    return out;
  };
  const auto write = [&](int fd, const char* text) {
    const std::vector<std::byte> data = bytes_of(text);
    ASSERT_EQ(os->write_file(fd, data.data(), data.size()).value(), data.size());
  };
  // Removed and created anew: the old descriptor writes to the unlinked file.
  const int unlinked = os->create_file("/f").value();
  write(unlinked, "a");
  ASSERT_TRUE(os->remove_file("/f"));
  const int recreated = os->create_file("/f").value();
  write(unlinked, "bb");
  write(recreated, "c");
  EXPECT_EQ(os->file_contents("/f"), bytes_of("c"));
  // Created again while open: the same file, truncated for both descriptors.
  const int first = os->create_file("/t").value();
  write(first, "abc");
  const int second = os->create_file("/t").value();
  EXPECT_EQ(os->file_contents("/t"), bytes_of(""));
  write(first, "d");
  write(second, "e");
  EXPECT_EQ(os->file_contents("/t"), bytes_of("de"));
  // Replaced by another file (a rename over it): the descriptor keeps the old one.
  const int replaced = os->create_file("/r").value();
  os->add_file("/r", bytes_of("new"), 7);
  write(replaced, "x");
  EXPECT_EQ(os->file_contents("/r"), bytes_of("new"));
  for (const int fd : {unlinked, recreated, first, second, replaced}) EXPECT_TRUE(os->close_file(fd).ok());
  EXPECT_EQ(os->open_file_count(), 0u);
}

TEST(SimOs, BadArgumentsAreErrorsNotCrashes) {
  auto os = make_sim_os();
  int outside = 0;
  auto* foreign = reinterpret_cast<std::byte*>(&outside);
  EXPECT_EQ(os->unmap(foreign, 4096).error().errno_value, EINVAL);
  EXPECT_EQ(os->advise(foreign, 4096, Advice::DontNeed).error().errno_value, EINVAL);
  EXPECT_EQ(os->map(0).error().errno_value, EINVAL);
  EXPECT_EQ(os->map(100).error().errno_value, EINVAL);
  SimOsConfig bad;
  bad.reservation_bytes = 1000;
  EXPECT_FALSE(SimOs::create(bad).ok());
}

TEST(SimOsDeathTest, TouchAfterUnmapIsReportedWithFiberAndStep) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto os = make_sim_os();
        sim::SimulationConfig config;
        config.seed = 77;
        sim::Simulation simulation(config);
        simulation.spawn("writer", [&] {
          auto mapped = os->map(os->page_size());
          SEGSIM_ASSERT(mapped.ok(), "map");
          platform::yield();
          SEGSIM_ASSERT(os->unmap(mapped.value(), os->page_size()).ok(), "unmap");
          platform::yield();
          mapped.value()[10] = std::byte{1};  // use after release
        });
        (void)simulation.run();
      },
      "use after release: access to unmapped SimOs memory at offset 0xa in fiber #0 at step [0-9]+ "
      "\\(seed 77\\)");
}

// `body` on the one fiber of a simulation of `seed`, after a yield, with a
// SimOs alive (its signal handlers installed).
void run_on_a_fiber(std::uint64_t seed, const char* name, const std::function<void()>& body) {
  auto os = make_sim_os();
  sim::SimulationConfig config;
  config.seed = seed;
  sim::Simulation simulation(config);
  simulation.spawn(name, [&] {
    platform::yield();
    body();
  });
  (void)simulation.run();
}

// A fault in the null page while a simulation runs is named by the same
// handler: a null pointer followed, at that offset from null.
TEST(SimOsDeathTest, ANullPointerFollowedInAFiberIsReportedAsANullDereference) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(run_on_a_fiber(78, "follower",
                              [] {
                                const volatile std::uintptr_t field = 0x18;  // a field of a null object
                                *reinterpret_cast<volatile std::byte*>(field) = std::byte{1};
                              }),
      "null dereference: access to address 0x18 in the null page in fiber #0 at step [0-9]+ \\(seed 78\\)");
}

// The last element of an empty array: null minus the element's size. Under
// ASan or TSan the instrumentation reads the address's shadow first, which for
// an address this high is non-canonical: the kernel's report of that fault
// carries address 0, so it is named as a fault in the null page.
#if defined(SEGSIM_HAS_ASAN) || defined(SEGSIM_HAS_TSAN)
constexpr const char* kBelowNullLine = "null dereference: access to address 0x0 in the null page in fiber #0 at step "
                                       "[0-9]+ \\(seed 79\\)";
#else
constexpr const char* kBelowNullLine = "null dereference: access to address 0xffffffffffffffe8 just below null in "
                                       "fiber #0 at step [0-9]+ \\(seed 79\\)";
#endif

TEST(SimOsDeathTest, ANullPointerIndexedBackwardsInAFiberIsReportedAsANullDereference) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(run_on_a_fiber(79, "follower",
                              [] {
                                const volatile std::uintptr_t element = ~std::uintptr_t{0} - 0x17;  // null minus 0x18
                                *reinterpret_cast<volatile std::byte*>(element) = std::byte{1};
                              }),
      kBelowNullLine);
}

// An integer division by zero while a simulation runs is named too, with
// where the run was. (Under the asan preset UBSan reports the division first.)
#if !defined(SEGSIM_HAS_ASAN)
TEST(SimOsDeathTest, AnIntegerDivisionByZeroInAFiberIsReportedAsAnArithmeticFault) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(run_on_a_fiber(80, "divider",
                              [] {
                                volatile std::uint64_t records = 0;  // a count of nothing
                                volatile std::uint64_t per_record = 4096 / records;
                                (void)per_record;
                              }),
      "arithmetic fault: integer division by zero in fiber #0 at step [0-9]+ \\(seed 80\\)");
}
#endif

}  // namespace
}  // namespace segsim::faults
