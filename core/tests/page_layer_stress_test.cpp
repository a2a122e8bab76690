// Real-thread stress of the page layer (tsan preset too): writers build pages
// (growing them through classes) and publish them in a small cache that
// evicts constantly; readers pin pages and verify every slot; evicted pages
// go back to the pool. At the end the allocator holds no live segment.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/leaf_page_pool.h"
#include "core/page_cache.h"
#include "core/tests/failure_log.h"
#include "core/tests/scripted_os.h"
// Header-only and dependency-free: the simulator's seeded streams, so this
// test draws from the same generator the rest of segsim does.
#include "core/units.h"
#include "sim/random.h"

namespace segsim::testing {
namespace {


unsigned char pattern(std::uint64_t page_id, std::size_t slot) {
  return static_cast<unsigned char>((page_id * 31 + slot) & 0xff);
}

TEST(PageLayerStress, ReadersWritersAndConstantEviction) {
  ScriptedOs os;
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.budget_bytes = 64 * 1024 * KiB;
  config.cleanup_start_free_slices = 16;
  config.cleanup_every_free_slices = 8;
  auto allocator = std::move(SegmentAllocator::create(os, config).value());
  {
    LeafPagePool pool(*allocator);
    FailureLog failures;
    PageCache cache({8, std::size_t{1} << 30}, pool, [&](const std::uint64_t& id, const Status& back) {
      if (!back.ok()) failures.add(fmt::format("give_back of evicted page {}: {}", id, back.error().describe()));
    });
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<bool> writers_done{false};
    std::atomic<std::uint64_t> verified{0};

    auto writer = [&](int seed) {
      sim::Rng rng(static_cast<std::uint64_t>(seed));
      for (int n = 0; n < 400; ++n) {
        const std::uint64_t id = next_id.fetch_add(1);
        auto page = pool.borrow(id);
        if (!page.ok()) {
          failures.add(fmt::format("writer {}: borrow of page {}: {}", seed, id, page.error().describe()));
          continue;
        }
        const std::size_t slots = 1 + rng.below(24);
        for (std::size_t s = 0; s < slots; ++s) {
          std::vector<std::byte> value(1 + rng.below(3000), std::byte{pattern(id, s)});
          Status written = page.value()->set_slot(s, value);  // grows through classes
          if (!written.ok()) {
            failures.add(fmt::format("writer {}: page {} slot {} ({} bytes): {}", seed, id, s, value.size(),
                                     written.error().describe()));
          }
        }
        const std::vector<std::byte> dewey(8, std::byte{0x5d});
        if (rng.chance(0.3)) {
          Status written = page.value()->set_dewey_id(0, dewey);
          if (!written.ok()) {
            failures.add(fmt::format("writer {}: page {} DeweyID: {}", seed, id, written.error().describe()));
          }
        }
        cache.put(id, page.value());  // published: no more writes
      }
    };
    auto reader = [&](int seed) {
      sim::Rng rng(static_cast<std::uint64_t>(seed) + 100);
      while (!writers_done.load()) {
        const std::uint64_t upto = next_id.load();
        const std::uint64_t id = 1 + rng.below(upto);
        auto handle = cache.get(id);
        if (!handle) continue;
        for (std::size_t s = 0; s < handle.page()->slot_count(); ++s) {
          auto value = handle.page()->get_slot(s);
          for (std::size_t i = 0; i < value.size(); ++i) {
            if (value[i] != std::byte{pattern(id, s)}) {
              failures.add(fmt::format("reader {}: page {} slot {} byte {} reads {:#04x}, wrote {:#04x}", seed, id,
                                       s, i, static_cast<int>(value[i]), static_cast<int>(pattern(id, s))));
              break;
            }
          }
          if (value.empty()) break;
        }
        ++verified;
      }
    };
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w) threads.emplace_back(writer, w + 1);
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) readers.emplace_back(reader, r);
    for (auto& t : threads) t.join();
    writers_done = true;
    for (auto& t : readers) t.join();
    cache.clear();
    const std::vector<std::string> failed = failures.take();
    EXPECT_TRUE(failed.empty()) << failed.size() << " failures:\n" << joined(failed);
    EXPECT_EQ(pool.stats().borrowed, 0u);
    EXPECT_GT(cache.stats().evictions, 700u);
    ::testing::Test::RecordProperty("verified_reads", static_cast<int>(verified.load()));
  }
  allocator->wait_for_cleanups();
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  std::vector<std::string> violations = allocator->audit();
  EXPECT_TRUE(violations.empty()) << joined(violations);
}

}  // namespace
}  // namespace segsim::testing
