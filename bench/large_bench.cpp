// Large and Forecast suites (issue 15).
//
// LargeObject*: allocate+release of one large object (512 KiB … 8 MiB) from a
// warm LargeObjectAllocator, against glibc malloc/free and mimalloc in the
// same run (none of them zeroes: allocate_uninitialized). LargeObjectHooked
// has a pressure loop's on_budget_exhausted hook installed: an inactive loop
// must cost nothing on the allocation path.
// Forecast*: one PressureForecaster sample + forecast over a full window.
#include "bench/bench_support.h"
#include "bench/mimalloc_loader.h"
#include "core/large_object_allocator.h"
#include "core/pressure_forecaster.h"

namespace segsim::bench {
namespace {

constexpr std::size_t MiB = std::size_t{1} << 20;

void large_sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t kib : {512, 1024, 2048, 4096, 8192}) b->Arg(kib * 1024);
}

void large_loop(benchmark::State& state, bool hooked) {
  LargeObjectAllocatorConfig config;
  config.max_object_bytes = 8 * MiB;
  config.span_bytes = 16 * MiB;
  config.decommit_check_interval_ns = 0;  // a decommit would make this a different benchmark
  if (hooked) config.on_budget_exhausted = [](std::size_t) { return false; };
  auto created = LargeObjectAllocator::create(LinuxOs::instance(), config);
  if (!created.ok()) die("LargeObjectAllocator::create: " + created.error().describe());
  LargeObjectAllocator& large = *created.value();
  alloc_release_loop(
      state,
      [&large](std::size_t bytes) {
        auto got = large.allocate_uninitialized(bytes);
        if (!got.ok()) [[unlikely]] die("allocate: " + got.error().describe());
        return got.value();
      },
      [&large](const LargeObject& object) {
        if (!large.release(object).ok()) [[unlikely]] die("release failed");
      });
}

void LargeObjectAlloc(benchmark::State& state) { large_loop(state, false); }
void LargeObjectAllocHooked(benchmark::State& state) { large_loop(state, true); }

void LargeGlibcMalloc(benchmark::State& state) { glibc_malloc_loop(state); }
void LargeMimalloc(benchmark::State& state) { mimalloc_malloc_loop(state); }

void ForecastSampleAndForecast(benchmark::State& state) {
  PressureForecasterConfig config;
  config.window_samples = static_cast<std::size_t>(state.range(0));
  auto forecaster = PressureForecaster::create(config);
  if (!forecaster.ok()) die("PressureForecaster::create");
  PressureForecaster& f = *forecaster.value();
  std::int64_t t = 0;
  std::size_t used = 1000;
  for (auto _ : state) {
    t += 1'000'000'000;
    used = (used * 1103515245 + 12345) % (1u << 30);
    if (!f.record_at(t, used, std::size_t{1} << 30).ok()) [[unlikely]] die("record_at");
    PressureForecast forecast = f.forecast();
    benchmark::DoNotOptimize(forecast);
  }
}

BENCHMARK(LargeObjectAlloc)->Apply(large_sizes);
BENCHMARK(LargeObjectAllocHooked)->Apply(large_sizes);
BENCHMARK(LargeGlibcMalloc)->Apply(large_sizes);
BENCHMARK(LargeMimalloc)->Apply(large_sizes);
BENCHMARK(ForecastSampleAndForecast)->Arg(10)->Arg(30)->Arg(60);

}  // namespace
}  // namespace segsim::bench
