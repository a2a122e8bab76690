// Reset suite: zeroing a resident buffer of one class size, by mechanism.
//
// The question behind it is SegmentAllocatorConfig::reset_madvise_min_bytes:
// madvise(DONTNEED) makes the syscall cheap-looking, but every page it drops
// faults again on the next touch, and a reset segment is about to be used.
// So each madvise variant is measured twice: the syscall alone (manual time,
// re-dirtying the buffer off the clock) and the syscall plus one write per page.
#include <sys/mman.h>

#include <chrono>
#include <cstring>

#include "bench/bench_support.h"

namespace segsim::bench {
namespace {

constexpr unsigned char kDirtyByte = 0xAB;

// Pages whose first byte is not zero: after a zeroing reset this must be 0;
// after MADV_FREE it shows the old bytes surviving.
std::size_t nonzero_pages(const std::byte* data, std::size_t bytes, std::size_t page) {
  std::size_t count = 0;
  for (std::size_t offset = 0; offset < bytes; offset += page) {
    count += *reinterpret_cast<const volatile unsigned char*>(data + offset) != 0 ? 1 : 0;
  }
  return count;
}

// A resident, dirty buffer, as a segment that was just used.
class ResidentBuffer : public MappedBuffer {
 public:
  explicit ResidentBuffer(std::size_t bytes) : MappedBuffer(bytes) {
    std::memset(data(), kDirtyByte, bytes);
  }
};

void ResetMemset(benchmark::State& state) {
  ResidentBuffer buffer(static_cast<std::size_t>(state.range(0)));
  std::byte* data = buffer.data();
  benchmark::DoNotOptimize(data);
  for (auto _ : state) {
    std::memset(data, 0, buffer.bytes());
    benchmark::ClobberMemory();  // the zeroes must reach memory: someone reads them next
  }
}

// Syscall alone, on a resident dirty buffer each time: the buffer is re-dirtied
// (refaulting every page for DONTNEED) off the clock.
void madvise_syscall_only(benchmark::State& state, int advice) {
  const std::size_t page = page_bytes();
  ResidentBuffer buffer(static_cast<std::size_t>(state.range(0)));
  std::byte* data = buffer.data();
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const int rc = ::madvise(data, buffer.bytes(), advice);
    const auto stop = std::chrono::steady_clock::now();
    if (rc != 0) [[unlikely]] die("madvise failed");
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    std::memset(data, kDirtyByte, buffer.bytes());
    benchmark::ClobberMemory();
  }
  // Off the clock: does the advice zero? DONTNEED must read 0 pages non-zero.
  std::memset(data, kDirtyByte, buffer.bytes());
  if (::madvise(data, buffer.bytes(), advice) != 0) die("madvise failed");
  state.counters["nonzero_pages_after"] =
      static_cast<double>(nonzero_pages(data, buffer.bytes(), page));
  state.counters["pages"] = static_cast<double>(buffer.bytes() / page);
}

void madvise_then_touch(benchmark::State& state, int advice) {
  const std::size_t page = page_bytes();
  ResidentBuffer buffer(static_cast<std::size_t>(state.range(0)));
  std::byte* data = buffer.data();
  for (auto _ : state) {
    if (::madvise(data, buffer.bytes(), advice) != 0) [[unlikely]] die("madvise failed");
    touch_pages(data, buffer.bytes(), page);
  }
}

void ResetMadviseDontneedSyscall(benchmark::State& state) { madvise_syscall_only(state, MADV_DONTNEED); }
void ResetMadviseDontneedTouch(benchmark::State& state) { madvise_then_touch(state, MADV_DONTNEED); }
void ResetMadviseFreeSyscall(benchmark::State& state) { madvise_syscall_only(state, MADV_FREE); }
void ResetMadviseFreeTouch(benchmark::State& state) { madvise_then_touch(state, MADV_FREE); }

// SegmentAllocator::reset on a live, resident segment, then one write per page.
void segment_reset_then_touch(benchmark::State& state, SegmentAllocatorConfig config) {
  const std::size_t page = page_bytes();
  const auto bytes = static_cast<std::size_t>(state.range(0));
  auto allocator = make_allocator(config);
  Result<Segment> got = allocator->allocate_uninitialized(bytes);
  if (!got.ok()) die("allocate: " + got.error().describe());
  const Segment segment = got.value();
  std::memset(segment.data(), kDirtyByte, segment.size());
  for (auto _ : state) {
    if (!allocator->reset(segment).ok()) [[unlikely]] die("reset failed");
    touch_pages(segment.data(), segment.size(), page);
  }
  const AllocatorStats stats = allocator->stats();
  // Proves which mechanism ran, so a changed default cannot mislabel a row.
  state.counters["resets_madvise"] = static_cast<double>(stats.resets_madvise > 0);
  if (!allocator->release(segment).ok()) die("release failed");
}

void ResetSegmentDefaultTouch(benchmark::State& state) { segment_reset_then_touch(state, {}); }

void ResetSegmentMadviseTouch(benchmark::State& state) {
  SegmentAllocatorConfig config;
  config.reset_madvise_min_bytes = 4096;
  segment_reset_then_touch(state, config);
}

BENCHMARK(ResetMemset)->Apply(all_class_sizes);
BENCHMARK(ResetMadviseDontneedSyscall)->Apply(all_class_sizes)->UseManualTime();
BENCHMARK(ResetMadviseDontneedTouch)->Apply(all_class_sizes);
BENCHMARK(ResetMadviseFreeSyscall)->Apply(all_class_sizes)->UseManualTime();
BENCHMARK(ResetMadviseFreeTouch)->Apply(all_class_sizes);
BENCHMARK(ResetSegmentDefaultTouch)->Apply(all_class_sizes);
BENCHMARK(ResetSegmentMadviseTouch)->Apply(all_class_sizes);

}  // namespace
}  // namespace segsim::bench
