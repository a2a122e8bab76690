// A thread's ring read by another thread while it records (real threads; the
// tsan preset runs it too). The report writer on a refusing thread copies
// every thread's ring as it stands and rebuilds the events each has ever
// recorded from the ring's laps and cursor, read as a seqlock (ring_head).
// The simulator cannot reach the window inside a wrap — wrap() is noexcept
// and has no scheduling point — so a thread is held there (hold_next_wrap),
// and a reader on a real thread hammers it: a ring of 16 events wraps every 8
// allocate+release pairs.
#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/flight_recorder.h"
#include "core/flight_recorder_state.h"
#include "core/linux_os.h"
#include "core/segment_allocator.h"
#include "core/tests/recorder_dir.h"

namespace segsim {
namespace {

using testing::RecorderDir;

// Allocate+release pairs the writer records: 2 events each, so with a ring of
// 16 events 25,000 laps: a second or two under TSan.
constexpr std::uint64_t kPairs = 200'000;
constexpr std::size_t kRingEvents = 16;
// The reader's reads of the head: a limit, not a goal (it stops when the
// writer is done).
constexpr std::uint64_t kMaxReads = std::uint64_t{1} << 32;

// The recorder on into `dir` with rings of kRingEvents, from a fresh report
// count (this process's earlier tests' reports count too); no signal handlers.
void start_recorder(const RecorderDir& dir) {
  flight_recorder::Config config;
  config.dir = dir.path();
  config.ring_events = kRingEvents;
  config.catch_signals = false;
  std::string error;
  ASSERT_TRUE(flight_recorder::reset_report_count());
  ASSERT_TRUE(flight_recorder::enable(config, &error)) << error;
}

// What a reader saw that it must not: the first one, and how often.
struct ReaderFindings {
  std::uint64_t reads = 0, went_back = 0, ahead = 0;
  std::string first;
  void note(std::uint64_t& count, const std::string& what) {
    if (count++ == 0 && first.empty()) first = what;
  }
};

// The count a reader rebuilds never goes back, and never passes what the
// thread has recorded (its counter, stored after each pair, read after the
// head: at most the pair under way ahead of it). A wrap read half done — the
// cursor back at the first slot, the lap not yet counted — reads a whole lap
// behind, which the seqlock (laps odd while a wrap is under way) must hide.
TEST(FlightRecorderRing, AReaderOnAnotherThreadNeverSeesTheCountGoBackWhileTheRingWraps) {
  RecorderDir dir;
  ASSERT_NO_FATAL_FAILURE(start_recorder(dir));
  SegmentAllocatorConfig allocator_config;
  allocator_config.region_bytes = 1 << 20;
  allocator_config.budget_bytes = 64 << 20;
  auto created = SegmentAllocator::create(LinuxOs::instance(), allocator_config);
  ASSERT_TRUE(created.ok());
  std::unique_ptr<SegmentAllocator> allocator = std::move(created.value());

  std::atomic<const flight_recorder::detail::Ring*> ring{nullptr};
  std::atomic<std::uint64_t> recorded{0};
  std::atomic<bool> done{false};
  std::atomic<bool> writer_failed{false};
  std::atomic<std::uint64_t> head_at_the_end{0};  // as the writer reads its own ring, before its exit
  std::thread writer([&] {
    for (std::uint64_t pair = 0; pair < kPairs; ++pair) {
      auto segment = allocator->allocate_uninitialized(4096);
      if (!segment.ok() || !allocator->release(segment.value()).ok()) {
        writer_failed.store(true);
        break;
      }
      recorded.store(2 * (pair + 1), std::memory_order_release);
      if (pair == 0) ring.store(flight_recorder::detail::tls_ring.ring, std::memory_order_release);
    }
    if (const auto* own = flight_recorder::detail::tls_ring.ring; own != nullptr) {
      head_at_the_end.store(flight_recorder::detail::ring_head(*own));
    }
    done.store(true, std::memory_order_release);
  });

  ReaderFindings findings;
  const flight_recorder::detail::Ring* seen = nullptr;
  while ((seen = ring.load(std::memory_order_acquire)) == nullptr && !done.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  std::uint64_t previous = 0;
  while (seen != nullptr && !done.load(std::memory_order_acquire) && findings.reads < kMaxReads) {
    const std::uint64_t head = flight_recorder::detail::ring_head(*seen);
    const std::uint64_t bound = recorded.load(std::memory_order_acquire) + 2;
    ++findings.reads;
    if (head < previous) {
      findings.note(findings.went_back, fmt::format("the head went back from {} to {}", previous, head));
    }
    if (head > bound) {
      findings.note(findings.ahead, fmt::format("the head {} passed the {} events recorded", head, bound - 2));
    }
    previous = head;
  }
  writer.join();
  ASSERT_FALSE(writer_failed.load()) << "an allocate or release of the writer failed";
  ASSERT_NE(seen, nullptr) << "the writer's thread got no ring";
  EXPECT_EQ(head_at_the_end.load(), 2 * kPairs);
  EXPECT_EQ(findings.went_back + findings.ahead, 0u)
      << findings.went_back << " reads went back, " << findings.ahead << " passed the count, of " << findings.reads
      << "; the first: " << findings.first;
  allocator.reset();
  flight_recorder::disable();
}

// What a thread held inside its wrap (hold_next_wrap) saw of its own ring,
// as a signal handler interrupting the wrap would.
struct WrapHold {
  std::latch held{1};
  std::latch go_on{1};
  std::uint64_t own_head = 0;
  bool ran = false;
};

// A thread held inside the wrap that ends its ring's first lap: every event
// of the lap is counted and kept, read by the thread itself (a signal
// handler's view), by another thread, and in a report written meanwhile.
TEST(FlightRecorderRing, AThreadHeldInsideItsWrapHasEveryEventOfTheLapCounted) {
  RecorderDir dir;
  ASSERT_NO_FATAL_FAILURE(start_recorder(dir));

  WrapHold hold;
  std::atomic<const flight_recorder::detail::Ring*> ring{nullptr};
  std::thread writer([&] {
    flight_recorder::hold_next_wrap(
        [](void* arg) {
          auto* h = static_cast<WrapHold*>(arg);
          h->ran = true;
          h->own_head = flight_recorder::detail::ring_head(*flight_recorder::detail::tls_ring.ring);
          h->held.count_down();
          h->go_on.wait();
        },
        &hold);
    for (std::size_t i = 0; i < kRingEvents; ++i) {
      flight_recorder::record_page_operation(flight_recorder::Op::PageClear, 1000 + i, 0, 0, nullptr);
      if (i == 0) ring.store(flight_recorder::detail::tls_ring.ring);
    }
    if (!hold.ran) {
      flight_recorder::hold_next_wrap(nullptr, nullptr);
      hold.held.count_down();  // never held: the checks below say so
    }
  });
  hold.held.wait();
  const flight_recorder::detail::Ring* seen = ring.load();
  const std::uint64_t other_head = seen == nullptr ? 0 : flight_recorder::detail::ring_head(*seen);
  const std::string path = flight_recorder::write_report("a ring held mid-wrap");
  hold.go_on.count_down();
  writer.join();
  flight_recorder::disable();

  ASSERT_TRUE(hold.ran) << "the thread never wrapped its ring";
  EXPECT_EQ(hold.own_head, kRingEvents) << "the thread's own read, inside the wrap";
  EXPECT_EQ(other_head, kRingEvents) << "another thread's read, while the wrap was held";
  ASSERT_NE(path, "");
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  std::size_t threads_with_events = 0;
  for (const nlohmann::json& thread : reports[0]["threads"]) {
    if (thread["events"].empty()) continue;
    ++threads_with_events;
    EXPECT_EQ(thread["recorded"], kRingEvents);
    ASSERT_EQ(thread["events"].size(), kRingEvents);
    for (std::size_t i = 0; i < kRingEvents; ++i) EXPECT_EQ(thread["events"][i]["page"], 1000 + i);
  }
  EXPECT_EQ(threads_with_events, 1u);
}

// More live threads than rings, all starting at once: several race for the
// last free slots (some see the table full, some claim a slot past its end
// and free the ring they made — which is the schedule's). Whatever the
// schedule, the report keeps one call a ring, kMaxThreads of them, counts
// the rest as not recorded, and the recorder holds one ring block a slot.
TEST(FlightRecorderRing, ThreadsRacingForTheLastSlotsAreCountedNotRecorded) {
  RecorderDir dir;
  ASSERT_NO_FATAL_FAILURE(start_recorder(dir));
  constexpr std::size_t kExtra = 3;
  const std::size_t threads = flight_recorder::kMaxThreads + kExtra;
  std::latch all_started(static_cast<std::ptrdiff_t>(threads));
  std::latch all_recorded(static_cast<std::ptrdiff_t>(threads));
  std::latch report_written(1);
  std::vector<std::thread> started;
  started.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    started.emplace_back([t, &all_started, &all_recorded, &report_written] {
      all_started.arrive_and_wait();
      flight_recorder::record_page_operation(flight_recorder::Op::PageClear, 5000 + t, 0, 0, nullptr);
      all_recorded.count_down();
      report_written.wait();  // alive, its ring held, until the report is written
    });
  }
  all_recorded.wait();
  const std::uint32_t rings_held = flight_recorder::rings_held();
  const std::string path = flight_recorder::write_report("every ring held");
  report_written.count_down();
  for (std::thread& thread : started) thread.join();
  flight_recorder::disable();

  EXPECT_EQ(rings_held, flight_recorder::kMaxThreads) << "one ring block a slot; a loser frees the ring it made";
  ASSERT_NE(path, "");
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["stack"]["threads_not_recorded"], kExtra);
  std::size_t kept = 0;
  for (const nlohmann::json& thread : reports[0]["threads"]) {
    std::size_t calls = 0;
    for (const nlohmann::json& e : thread["events"]) calls += e["page"].is_number() && e["page"] >= 5000 ? 1 : 0;
    EXPECT_LE(calls, 1u) << "thread " << thread["thread"] << " keeps calls of several threads";
    kept += calls;
  }
  EXPECT_EQ(kept, flight_recorder::kMaxThreads);
}

}  // namespace
}  // namespace segsim
