// The page layer's hot paths (issue "Page layer", Benchmarks):
//  * PageSetSlot / PageGetSlot: a 100-byte value into / out of a leaf page;
//    baseline: memcpy of 100 bytes (BaselineMemcpy100).
//  * PageResize: filling a fresh page until its slot memory has grown from the
//    4 KiB class to 256 KiB (six resizes, each allocate + copy + release).
//  * CacheHit: PageCache::get of a cached page and dropping the handle (pin +
//    LRU touch + unpin); baseline: std::unordered_map lookup (BaselineMapFind).
//  * PageSetSlotRecorderOn / CacheHitRecorderOn: the same with the flight
//    recorder on (issue 13: its cost on the page hot path; the paired
//    measurement is bench/recorder_cost.cpp's, docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_support.h"
#include "core/flight_recorder.h"
#include "core/leaf_page.h"
#include "core/leaf_page_pool.h"
#include "core/page_cache.h"

namespace segsim::bench {
namespace {

std::unique_ptr<SegmentAllocator> page_allocator() {
  auto created = SegmentAllocator::create(LinuxOs::instance());
  if (!created.ok()) die(created.error().describe());
  return std::move(created.value());
}

void BaselineMemcpy100(benchmark::State& state) {
  std::vector<std::byte> from(100, std::byte{7}), to(100);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), 100);
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BaselineMemcpy100);

void PageSetSlot(benchmark::State& state) {
  auto allocator = page_allocator();
  auto page = std::move(LeafPage::create(*allocator, {}, 1).value());
  const std::vector<std::byte> value(100, std::byte{7});
  std::size_t slot = 0;
  for (auto _ : state) {
    // Rewriting a handful of slots: compaction keeps the page in its class.
    if (!page->set_slot(slot, value).ok()) die("set_slot");
    slot = (slot + 1) % 8;
  }
}
BENCHMARK(PageSetSlot);

void PageGetSlot(benchmark::State& state) {
  auto allocator = page_allocator();
  auto page = std::move(LeafPage::create(*allocator, {}, 1).value());
  const std::vector<std::byte> value(100, std::byte{7});
  for (std::size_t s = 0; s < 8; ++s) (void)page->set_slot(s, value);
  std::size_t slot = 0;
  for (auto _ : state) {
    auto got = page->get_slot(slot);
    benchmark::DoNotOptimize(got.data());
    slot = (slot + 1) % 8;
  }
}
BENCHMARK(PageGetSlot);

void PageResize(benchmark::State& state) {
  auto allocator = page_allocator();
  const std::vector<std::byte> value(16 * 1024, std::byte{7});
  for (auto _ : state) {
    auto page = std::move(LeafPage::create(*allocator, {}, 1).value());
    for (std::size_t s = 0; s < 15; ++s) {  // 240 KiB of values: grows 4 KiB -> 256 KiB
      if (!page->set_slot(s, value).ok()) die("set_slot while growing");
    }
    benchmark::DoNotOptimize(page.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(PageResize);

void BaselineMapFind(benchmark::State& state) {
  std::unordered_map<std::uint64_t, int> map;
  for (std::uint64_t k = 0; k < 64; ++k) map[k] = static_cast<int>(k);
  std::uint64_t key = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(map.find(key));
    key = (key + 1) % 64;
  }
}
BENCHMARK(BaselineMapFind);

void CacheHit(benchmark::State& state) {
  auto allocator = page_allocator();
  LeafPagePool pool(*allocator);
  PageCache cache({128, std::size_t{1} << 30}, pool);
  for (std::uint64_t k = 0; k < 64; ++k) cache.put(k, pool.borrow(k).value());
  std::uint64_t key = 0;
  for (auto _ : state) {
    auto handle = cache.get(key);
    benchmark::DoNotOptimize(handle.page());
    key = (key + 1) % 64;
  }
  cache.clear();
}
BENCHMARK(CacheHit);

// The flight recorder on for one benchmark run (as flight_recorder_bench.cpp's).
class RecorderOn {
 public:
  explicit RecorderOn(benchmark::State& state) {
    flight_recorder::Config config;
    config.dir = std::filesystem::temp_directory_path().string();
    config.catch_signals = false;
    config.report_refusals = false;  // a benchmark writes no report
    std::string error;
    ok_ = flight_recorder::enable(config, &error);
    if (!ok_) state.SkipWithError(error.c_str());
  }
  ~RecorderOn() { flight_recorder::disable(); }
  RecorderOn(const RecorderOn&) = delete;
  RecorderOn& operator=(const RecorderOn&) = delete;
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};

void PageSetSlotRecorderOn(benchmark::State& state) {
  if (RecorderOn on(state); on.ok()) PageSetSlot(state);
}
BENCHMARK(PageSetSlotRecorderOn);

void CacheHitRecorderOn(benchmark::State& state) {
  if (RecorderOn on(state); on.ok()) CacheHit(state);
}
BENCHMARK(CacheHitRecorderOn);

}  // namespace
}  // namespace segsim::bench
