// The ownership model's generation_now (refusal-fields' due value) against a
// real SegmentAllocator: a stale handle's DoubleFree says the slice's
// generation now — 0 while the slice is free, the new holder's once it is
// handed out again — and the model, fed the same hand-outs and releases,
// says the same.
#include <gtest/gtest.h>

#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/ownership.h"

namespace segsim::scenarios {
namespace {

TEST(OwnershipModel, GenerationNowIsWhatAStaleReleaseSays) {
  auto os = faults::SimOs::create(faults::SimOsConfig{});
  ASSERT_TRUE(os.ok());
  SegmentAllocatorConfig config;
  config.thread_cache_bytes = 0;  // every release on the locked path: the slice is reused at once
  auto allocator = SegmentAllocator::create(*os.value(), config);
  ASSERT_TRUE(allocator.ok());
  SegmentAllocator& segments = *allocator.value();
  OwnershipModel model;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    auto first = segments.allocate(class_bytes(c));
    ASSERT_TRUE(first.ok());
    const Segment stale = first.value();
    EXPECT_EQ(model.handing_out(stale, 0, 0), "");
    EXPECT_EQ(model.generation_now(stale), stale.generation());
    ASSERT_TRUE(segments.release(stale).ok());
    EXPECT_EQ(model.released(stale), "");
    // Free: the refusal and the model both say 0.
    Status again = segments.release(stale);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, Errc::DoubleFree) << again.error().describe();
    EXPECT_EQ(again.error().live_generation, 0u) << again.error().describe();
    EXPECT_EQ(model.generation_now(stale), 0u);
    // Handed out again: the new holder's generation, in both.
    auto second = segments.allocate(class_bytes(c));
    ASSERT_TRUE(second.ok());
    const Segment live = second.value();
    ASSERT_EQ(live.data(), stale.data()) << "class " << c << ": the freed slice was not the one reused";
    EXPECT_EQ(model.handing_out(live, 0, 1), "");
    ASSERT_NE(live.generation(), stale.generation());
    again = segments.reset(stale);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, Errc::DoubleFree) << again.error().describe();
    EXPECT_EQ(again.error().live_generation, live.generation()) << again.error().describe();
    EXPECT_EQ(model.generation_now(stale), live.generation());
    ASSERT_TRUE(segments.release(live).ok());
    EXPECT_EQ(model.released(live), "");
  }
}

}  // namespace
}  // namespace segsim::scenarios
