// Allocator ids never repeat (core/id_counter.h): each is taken once, the
// counter is exhausted after UINT32_MAX, and each allocator kind's create()
// refuses then — checked in a child process, since it exhausts the process's
// ids for good.
#include "core/id_counter.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/large_object_allocator.h"
#include "core/large_object_state.h"
#include "core/segment_allocator.h"
#include "core/segment_allocator_impl.h"
#include "core/slab_allocator.h"
#include "core/slab_internal.h"
#include "core/tests/scripted_os.h"

namespace segsim {
namespace {

using detail::IdCounter;
using testing::ScriptedOs;

TEST(IdCounter, TakesEachIdOnceThenAnswersZeroForEver) {
  IdCounter ids(UINT32_MAX - 2);
  EXPECT_EQ(ids.take(), UINT32_MAX - 2);
  EXPECT_EQ(ids.take(), UINT32_MAX - 1);
  EXPECT_EQ(ids.take(), UINT32_MAX);
  EXPECT_EQ(ids.take(), 0u);
  EXPECT_EQ(ids.take(), 0u);
  ids.skip_to(7);  // exhausted stays exhausted: 7 was handed out long ago
  EXPECT_EQ(ids.take(), 0u);
}

TEST(IdCounter, SkipsOnlyForward) {
  IdCounter ids;
  EXPECT_EQ(ids.take(), 1u);
  ids.skip_to(100);
  EXPECT_EQ(ids.take(), 100u);
  ids.skip_to(50);  // back: ids 50..100 were skipped or issued, never again
  EXPECT_EQ(ids.take(), 101u);
  ids.skip_to(UINT32_MAX);
  EXPECT_EQ(ids.take(), UINT32_MAX);
  EXPECT_EQ(ids.take(), 0u);
}

TEST(IdCounter, RefusesTheArmedTakesWithoutUsingAnId) {
  IdCounter ids;
  EXPECT_EQ(ids.take(), 1u);
  ids.refuse_next(2);
  EXPECT_EQ(ids.take(), 0u);
  EXPECT_EQ(ids.take(), 0u);
  EXPECT_EQ(ids.take(), 2u);  // the refusals used none
  ids.refuse_next(3);
  ids.refuse_next(0);  // disarmed
  EXPECT_EQ(ids.take(), 3u);
}

// Real threads racing for the last ids: each issued once, and exactly as many
// issued as were left.
TEST(IdCounter, RacingThreadsTakeTheLastIdsEachOnce) {
  constexpr std::uint32_t kLeft = 1000;
  constexpr int kThreads = 4;
  constexpr int kTakesPerThread = 500;  // 2,000 asks for 1,000 ids
  IdCounter ids(UINT32_MAX - kLeft + 1);
  std::vector<std::vector<std::uint32_t>> taken(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, &mine = taken[static_cast<std::size_t>(t)]] {
      for (int i = 0; i < kTakesPerThread; ++i) mine.push_back(ids.take());
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<std::uint32_t> issued;
  for (const auto& mine : taken) {
    for (const std::uint32_t id : mine) {
      if (id != 0) issued.push_back(id);
    }
  }
  std::sort(issued.begin(), issued.end());
  ASSERT_EQ(issued.size(), kLeft);
  EXPECT_EQ(std::adjacent_find(issued.begin(), issued.end()), issued.end()) << "an id issued twice";
  EXPECT_EQ(issued.front(), UINT32_MAX - kLeft + 1);
  EXPECT_EQ(issued.back(), UINT32_MAX);
}

// In a child: the kind's last id is issued, then create() refuses with
// OutOfMemory, naming the exhaustion. Exit 0 when all of that held.
template <class Make>
void last_id_then_refused(IdCounter& ids, Make make) {
  ids.skip_to(UINT32_MAX);
  auto last = make();
  if (!last.ok() || last.value().first != UINT32_MAX) std::_Exit(3);
  auto refused = make();
  if (refused.ok() || refused.error().code != Errc::OutOfMemory) std::_Exit(4);
  if (refused.error().describe().find("allocator ids exhausted") == std::string::npos) std::_Exit(5);
  std::_Exit(0);
}

// An allocator made, as (the id its handles carry, the allocator); or the error.
template <class T>
using Made = Result<std::pair<std::uint32_t, std::unique_ptr<T>>>;

TEST(IdCounterDeathTest, EachAllocatorKindRefusesOnceItsIdsAreExhausted) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ScriptedOs os;
        last_id_then_refused(detail::segment_allocator_ids(), [&]() -> Made<SegmentAllocator> {
          auto made = SegmentAllocator::create(os);
          if (!made.ok()) return made.error();
          auto segment = made.value()->allocate(4096);
          if (!segment.ok()) std::_Exit(6);
          const std::uint32_t id = segment.value().allocator_id();
          (void)made.value()->release(segment.value());
          return std::pair{id, std::move(made.value())};
        });
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        ScriptedOs os;
        auto segments = SegmentAllocator::create(os);
        if (!segments.ok()) std::_Exit(6);
        last_id_then_refused(detail::slab_allocator_ids(), [&]() -> Made<SlabAllocator> {
          auto made = SlabAllocator::create(*segments.value());
          if (!made.ok()) return made.error();
          auto object = made.value()->allocate(64);
          if (!object.ok()) std::_Exit(7);
          const std::uint32_t id = object.value().allocator_id();
          (void)made.value()->free(object.value());
          return std::pair{id, std::move(made.value())};
        });
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        ScriptedOs os;
        last_id_then_refused(detail::large_allocator_ids(), [&]() -> Made<LargeObjectAllocator> {
          auto made = LargeObjectAllocator::create(os);
          if (!made.ok()) return made.error();
          auto object = made.value()->allocate(512 * 1024);
          if (!object.ok()) std::_Exit(8);
          const std::uint32_t id = object.value().allocator_id();
          (void)made.value()->release(object.value());
          return std::pair{id, std::move(made.value())};
        });
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace segsim
