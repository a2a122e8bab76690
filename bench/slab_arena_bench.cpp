// Slab and Arena suites (seed 004 M001 / M003 claims, docs/claims.md).
//
// Slab: allocate+free of one object on the owning thread (the magazine fast
// path) per slab class, against glibc malloc/free and mimalloc of the same
// size; the seed's object mix on 2 threads with remote frees (half of every
// batch is freed by the other thread), with the fast-path hit rate reported.
// Arena: 10,000 small objects allocated in a transaction arena then rolled
// back, against malloc + free of the same objects; rollback alone of a
// transaction holding 10,000 objects.
#include <malloc.h>

#include <array>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "bench/bench_support.h"
#include "bench/mimalloc_loader.h"
#include "core/slab_allocator.h"
#include "core/txn_arena.h"

namespace segsim::bench {
namespace {

void slab_sizes(benchmark::internal::Benchmark* b) {
  for (std::size_t bytes : {64, 128, 192, 256, 384, 512, 1024, 2048, 4096}) b->Arg(static_cast<std::int64_t>(bytes));
}

struct SlabFixture {
  SlabFixture() : segments(make_allocator()) {
    auto created = SlabAllocator::create(*segments);
    if (!created.ok()) die("SlabAllocator::create: " + created.error().describe());
    slab = std::move(created).value();
  }
  std::unique_ptr<SegmentAllocator> segments;
  std::unique_ptr<SlabAllocator> slab;
};

void SlabFastPath(benchmark::State& state) {
  SlabFixture f;
  const auto bytes = static_cast<std::size_t>(state.range(0));
  for (int i = 0; i < kWarmupRounds; ++i) (void)f.slab->free(f.slab->allocate(bytes).value());
  for (auto _ : state) {
    Result<SlabObject> object = f.slab->allocate(bytes);
    benchmark::DoNotOptimize(object);
    if (!f.slab->free(object.value()).ok()) [[unlikely]] die("slab free refused");
  }
  state.counters["fast_path_hit_rate"] = f.slab->stats().fast_path_hit_rate();
}

template <class Alloc, class Free>
void malloc_loop(benchmark::State& state, Alloc alloc, Free release) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  for (int i = 0; i < kWarmupRounds; ++i) release(alloc(bytes));
  for (auto _ : state) {
    void* p = alloc(bytes);
    benchmark::DoNotOptimize(p);
    release(p);
  }
}

void SlabBaselineGlibc(benchmark::State& state) {
  malloc_loop(state, [](std::size_t n) { return std::malloc(n); }, [](void* p) { std::free(p); });
}

void SlabBaselineMimalloc(benchmark::State& state) {
  const Mimalloc& mi = mimalloc();
  if (!mi.error.empty()) {
    state.SkipWithError(mi.error.c_str());
    return;
  }
  malloc_loop(state, [&mi](std::size_t n) { return mi.malloc(n); }, [&mi](void* p) { mi.free(p); });
}

// The seed's object mix: lock entries and rows dominate, index nodes are rare.
constexpr std::array<std::size_t, 10> kMix = {64, 64, 64, 128, 192, 256, 256, 384, 512, 2048};
constexpr std::size_t kBatch = 64;

// Two threads; each allocates a batch of the mix, frees half itself and hands
// half to the other thread, which frees them (remote frees).
template <class Api>
void two_thread_mix(benchmark::State& state, Api& api) {
  static std::mutex mu;
  static std::array<std::vector<typename Api::Handle>, 2> inbox;
  const auto me = static_cast<std::size_t>(state.thread_index());
  std::vector<typename Api::Handle> batch, remote;
  std::size_t k = me;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) batch.push_back(api.allocate(kMix[k++ % kMix.size()]));
    {
      std::lock_guard guard(mu);
      for (std::size_t i = 0; i < kBatch / 2; ++i) inbox[1 - me].push_back(batch[i]);
      remote.swap(inbox[me]);
    }
    for (std::size_t i = kBatch / 2; i < kBatch; ++i) api.free(batch[i]);
    for (const auto& h : remote) api.free(h);
    batch.clear();
    remote.clear();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  std::lock_guard guard(mu);
  for (const auto& h : inbox[me]) api.free(h);
  inbox[me].clear();
}

struct SlabApi {
  using Handle = SlabObject;
  SlabAllocator* slab;
  SlabObject allocate(std::size_t n) { return slab->allocate(n).value(); }
  void free(const SlabObject& o) {
    if (!slab->free(o).ok()) die("slab free refused");
  }
};
struct GlibcApi {
  using Handle = void*;
  void* allocate(std::size_t n) { return std::malloc(n); }
  void free(void* p) { std::free(p); }
};

void SlabMixTwoThreadsRemoteFrees(benchmark::State& state) {
  static SlabFixture shared;  // one allocator for both threads (thread-safe init); kept to process exit
  SlabApi api{shared.slab.get()};
  two_thread_mix(state, api);  // the timed loop starts and ends with a barrier of both threads
  api.slab->flush_thread_cache();
  if (state.thread_index() == 0) {
    const SlabStats stats = shared.slab->stats();
    std::uint64_t remote = 0, frees = 0;
    for (const auto& c : stats.classes) {
      remote += c.remote_frees;
      frees += c.frees;
    }
    state.counters["fast_path_hit_rate"] = stats.fast_path_hit_rate();
    state.counters["remote_free_share"] = frees == 0 ? 0.0 : static_cast<double>(remote) / static_cast<double>(frees);
  }
}

void SlabBaselineGlibcMixTwoThreads(benchmark::State& state) {
  GlibcApi api;
  two_thread_mix(state, api);
}

// ---------------------------------------------------------------------------
// Arena

constexpr std::size_t kObjects = 10000;

void ArenaAllocateThenRollback(benchmark::State& state) {
  auto segments = make_allocator();
  auto arenas = std::move(TxnArenaManager::create(*segments)).value();
  const auto bytes = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    TxnArena* arena = arenas->begin(1, ArenaProfile::Medium).value();
    for (std::size_t i = 0; i < kObjects; ++i) benchmark::DoNotOptimize(arena->allocate(bytes).value());
    if (!arenas->rollback(arena->id()).ok()) die("rollback refused");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kObjects));
}

void ArenaBaselineGlibcMallocFree(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  std::vector<void*> objects(kObjects);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kObjects; ++i) objects[i] = std::malloc(bytes);
    benchmark::DoNotOptimize(objects.data());
    for (void* p : objects) std::free(p);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kObjects));
}

// Rollback alone: the transaction is filled outside the timing.
void ArenaRollback10k(benchmark::State& state) {
  auto segments = make_allocator();
  auto arenas = std::move(TxnArenaManager::create(*segments)).value();
  const auto bytes = static_cast<std::size_t>(state.range(0));
  std::size_t chunks = 0, used = 0, reserved = 0, metadata = 0;
  for (auto _ : state) {
    state.PauseTiming();
    TxnArena* arena = arenas->begin(1, ArenaProfile::Medium).value();
    for (std::size_t i = 0; i < kObjects; ++i) (void)arena->allocate(bytes).value();
    chunks = arena->chunk_count();
    used = arena->used_bytes();
    reserved = arena->reserved_bytes();
    metadata = arenas->stats().metadata_bytes;
    state.ResumeTiming();
    if (!arenas->rollback(arena->id()).ok()) die("rollback refused");
  }
  state.counters["chunks"] = static_cast<double>(chunks);
  // Reserved beyond what was handed out, and bookkeeping, as fractions of what was handed out.
  state.counters["slack_ratio"] = static_cast<double>(reserved - used) / static_cast<double>(used);
  state.counters["metadata_ratio"] = static_cast<double>(metadata) / static_cast<double>(used);
}

// The seed's footprint table: a transaction of N bytes of row-sized objects
// (16..512 B) in the arena of profile_for(N), against glibc (usable size plus
// its 8-byte chunk header per object). Counters are ratios to the bytes asked.
void ArenaFootprint(benchmark::State& state) {
  auto segments = make_allocator();
  auto arenas = std::move(TxnArenaManager::create(*segments)).value();
  const auto total = static_cast<std::size_t>(state.range(0));
  double arena_ratio = 0, glibc_ratio = 0, metadata_ratio = 0;
  for (auto _ : state) {
    TxnArena* arena = arenas->begin_estimated(1, total).value();
    std::vector<void*> mallocs;
    std::size_t asked = 0, glibc = 0, k = 0;
    while (asked < total) {
      const std::size_t bytes = 16 + (k++ * 37) % 497;
      if (!arena->allocate(bytes, 8).ok()) die("arena refused within its profile");
      void* p = std::malloc(bytes);
      glibc += ::malloc_usable_size(p) + 8;
      mallocs.push_back(p);
      asked += bytes;
    }
    arena_ratio = static_cast<double>(arena->tree_reserved_bytes()) / static_cast<double>(asked);
    metadata_ratio = static_cast<double>(arenas->stats().metadata_bytes) / static_cast<double>(asked);
    glibc_ratio = static_cast<double>(glibc) / static_cast<double>(asked);
    for (void* p : mallocs) std::free(p);
    if (!arenas->commit(arena->id()).ok()) die("commit refused");
  }
  state.counters["arena_footprint_ratio"] = arena_ratio;
  state.counters["arena_metadata_ratio"] = metadata_ratio;
  state.counters["glibc_footprint_ratio"] = glibc_ratio;
}

BENCHMARK(SlabFastPath)->Apply(slab_sizes);
BENCHMARK(SlabBaselineGlibc)->Apply(slab_sizes);
BENCHMARK(SlabBaselineMimalloc)->Apply(slab_sizes);
BENCHMARK(SlabMixTwoThreadsRemoteFrees)->Threads(2)->UseRealTime();
BENCHMARK(SlabBaselineGlibcMixTwoThreads)->Threads(2)->UseRealTime();
BENCHMARK(ArenaAllocateThenRollback)->Arg(64)->Arg(256);
BENCHMARK(ArenaBaselineGlibcMallocFree)->Arg(64)->Arg(256);
BENCHMARK(ArenaRollback10k)->Arg(64)->Arg(256);
BENCHMARK(ArenaFootprint)->Arg(10'000)->Arg(500'000)->Arg(5'000'000)->Iterations(3);

}  // namespace
}  // namespace segsim::bench
