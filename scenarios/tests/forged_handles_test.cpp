// forged_handles.h against a real SegmentAllocator: every forgery of a live
// handle is refused with its code (refusal_of), by a rule of its own, naming the
// handle as it came (refusal-fields: address, class, generation), and the
// live slice stays live.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/forged_handles.h"

namespace segsim::scenarios {
namespace {

TEST(ForgedHandles, EachIsRefusedByItsOwnRuleNamingTheHandle) {
  auto os = faults::SimOs::create(faults::SimOsConfig{});
  ASSERT_TRUE(os.ok());
  SegmentAllocatorConfig config;
  config.thread_cache_bytes = 0;
  auto allocator = SegmentAllocator::create(*os.value(), config);
  ASSERT_TRUE(allocator.ok());
  SegmentAllocator& segments = *allocator.value();
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    auto live = segments.allocate(class_bytes(c));
    ASSERT_TRUE(live.ok());
    std::set<std::string> rules;
    for (std::size_t f = 0; f < kForgeryCount; ++f) {
      const auto forged = forge(live.value(), static_cast<Forgery>(f), config.region_bytes);
      ASSERT_TRUE(forged.has_value()) << "forgery " << f;
      for (bool reset : {false, true}) {
        const Status got = reset ? segments.reset(*forged) : segments.release(*forged);
        ASSERT_FALSE(got.ok()) << "forgery " << f;
        const Error& e = got.error();
        EXPECT_EQ(e.code, refusal_of(static_cast<Forgery>(f))) << e.describe();
        EXPECT_EQ(e.address, reinterpret_cast<std::uintptr_t>(forged->data())) << e.describe();
        EXPECT_EQ(e.size_class, forged->size_class()) << e.describe();
        EXPECT_EQ(e.generation, forged->generation()) << e.describe();
        EXPECT_EQ(error_text_problem(e, e.describe()), std::nullopt);
        rules.insert(e.detail);
      }
    }
    EXPECT_EQ(rules.size(), kForgeryCount) << "class " << c;
    // Nothing refused changed the slice: still live, and at its address.
    const auto found = segments.lookup(live.value().data());
    ASSERT_TRUE(found.ok()) << "class " << c;
    EXPECT_TRUE(found.value() == live.value()) << "class " << c;
    EXPECT_TRUE(segments.release(live.value()).ok()) << "class " << c;
  }
}

TEST(ForgedHandles, ANullHandleIsRefusedNamingNothing) {
  auto os = faults::SimOs::create(faults::SimOsConfig{});
  ASSERT_TRUE(os.ok());
  auto allocator = SegmentAllocator::create(*os.value(), SegmentAllocatorConfig{});
  ASSERT_TRUE(allocator.ok());
  const Status got = allocator.value()->release(Segment{});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::InvalidPointer);
  EXPECT_EQ(got.error().address, 0u);
  EXPECT_EQ(got.error().size_class, -1);
  EXPECT_EQ(got.error().describe(), "invalid pointer: null segment");
}

}  // namespace
}  // namespace segsim::scenarios
