// Platform suite: the production cost of the platform seam (core/platform/),
// i.e. with no simulation installed on the thread. Each seam operation is
// measured beside the std primitive it wraps; single-threaded, so uncontended,
// and the difference is the thread-local runtime check alone.
#include <atomic>
#include <cstdint>
#include <mutex>

#include <benchmark/benchmark.h>

#include "core/platform/atomic.h"
#include "core/platform/mutex.h"
#include "core/platform/runtime.h"

namespace segsim::bench {
namespace {

// Objects live outside the loop and their address escapes, so the compiler
// must assume someone else can see them and cannot fold the operations away.
template <class MutexT>
void lock_unlock_pair(benchmark::State& state) {
  MutexT mutex;
  MutexT* escaped = &mutex;
  benchmark::DoNotOptimize(escaped);
  for (auto _ : state) {
    escaped->lock();
    escaped->unlock();
    benchmark::ClobberMemory();
  }
}

template <class AtomicT>
void fetch_add(benchmark::State& state) {
  AtomicT counter{0};
  AtomicT* escaped = &counter;
  benchmark::DoNotOptimize(escaped);
  for (auto _ : state) benchmark::DoNotOptimize(escaped->fetch_add(1));
}

template <class AtomicT>
void load(benchmark::State& state) {
  AtomicT value{42};
  AtomicT* escaped = &value;
  benchmark::DoNotOptimize(escaped);
  for (auto _ : state) benchmark::DoNotOptimize(escaped->load());
}

void no_simulation_check(benchmark::State& state) {
  if (platform::current_runtime() != nullptr) state.SkipWithError("a simulation runtime is installed");
}

void PlatformMutexLockUnlock(benchmark::State& state) {
  no_simulation_check(state);
  lock_unlock_pair<platform::Mutex>(state);
}
void PlatformStdMutexLockUnlock(benchmark::State& state) { lock_unlock_pair<std::mutex>(state); }
void PlatformAtomicFetchAdd(benchmark::State& state) {
  no_simulation_check(state);
  fetch_add<platform::Atomic<std::uint64_t>>(state);
}
void PlatformStdAtomicFetchAdd(benchmark::State& state) { fetch_add<std::atomic<std::uint64_t>>(state); }
void PlatformAtomicLoad(benchmark::State& state) {
  no_simulation_check(state);
  load<platform::Atomic<std::uint64_t>>(state);
}
void PlatformStdAtomicLoad(benchmark::State& state) { load<std::atomic<std::uint64_t>>(state); }

BENCHMARK(PlatformMutexLockUnlock);
BENCHMARK(PlatformStdMutexLockUnlock);
BENCHMARK(PlatformAtomicFetchAdd);
BENCHMARK(PlatformStdAtomicFetchAdd);
BENCHMARK(PlatformAtomicLoad);
BENCHMARK(PlatformStdAtomicLoad);

}  // namespace
}  // namespace segsim::bench
