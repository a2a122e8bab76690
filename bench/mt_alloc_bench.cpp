// segsim_mt_bench: the multi-threaded allocator benchmark (issue 17).
//
//   segsim_mt_bench ALLOCATOR THREADS [OPS_PER_THREAD]
//   ALLOCATOR: segment | segment-nocache | glibc | mimalloc   (segsim_mt_bench)
//              jemalloc | segment                            (segsim_mt_bench_jemalloc)
//
// One (allocator, thread count) per process, so the peak RSS (VmHWM) is that
// row's alone; bench/mt_alloc.sh runs every row in one go and prints the table
// of docs/benchmarks.md. Prints one line: allocator, threads, ops, seconds,
// Mops/s, peak RSS in MiB.
//
// The workload follows mimalloc's test-stress: each thread keeps a ring of
// live objects; every operation allocates one object of a realistic mix of
// classes (mostly small pages, a few large ones; sizes drawn inside the class),
// writes its first word, and frees the ring's oldest — or, one time in four,
// swaps it into a shared transfer array and frees whatever another thread
// left there (a cross-thread free). Streams are seeded per thread, so every
// allocator sees the same sequence of sizes and decisions.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/linux_os.h"
#include "core/segment_allocator.h"
#include "core/size_class.h"

#ifdef SEGSIM_MT_BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#else
#include <dlfcn.h>
#endif

namespace segsim::bench {
namespace {

constexpr std::size_t kRingObjects = 256;      // live objects per thread
constexpr std::size_t kTransferSlots = 256;    // shared between threads
constexpr std::uint32_t kTransferPercent = 25; // frees that go through the transfer array
// Class mix in percent, 4 KiB … 256 KiB: a page cache's view of a database.
constexpr std::uint32_t kClassPercent[kSizeClassCount] = {30, 25, 15, 12, 10, 5, 3};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "segsim_mt_bench: %s\n", what.c_str());
  std::exit(2);
}

struct Rng {  // splitmix64: seeded per thread, identical for every allocator
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
};

std::size_t draw_bytes(Rng& rng) {
  std::uint32_t pick = rng.below(100);
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    if (pick < kClassPercent[c]) {
      const std::size_t below = c == 0 ? 0 : class_bytes(c - 1);
      return below + 1 + rng.below(static_cast<std::uint32_t>(class_bytes(c) - below));
    }
    pick -= kClassPercent[c];
  }
  return kLargestClassBytes;
}

// What moves between threads: an object of any allocator.
struct Item {
  void* data = nullptr;
  Segment segment;
};

struct Api {
  virtual ~Api() = default;
  virtual void allocate(std::size_t bytes, Item& item) = 0;
  virtual void release(Item& item) = 0;
};

struct SegmentApi final : Api {
  explicit SegmentApi(bool cached) {
    SegmentAllocatorConfig config;  // the default: per-thread caches on
    if (!cached) config.thread_cache_bytes = 0;
    auto created = SegmentAllocator::create(LinuxOs::instance(), config);
    if (!created.ok()) die(created.error().describe());
    allocator = std::move(created).value();
  }
  void allocate(std::size_t bytes, Item& item) override {
    Result<Segment> got = allocator->allocate_uninitialized(bytes);
    if (!got.ok()) [[unlikely]] die("allocate: " + got.error().describe());
    item.segment = got.value();
    item.data = item.segment.data();
  }
  void release(Item& item) override {
    if (!allocator->release(item.segment).ok()) [[unlikely]] die("release refused");
    item.data = nullptr;
  }
  std::unique_ptr<SegmentAllocator> allocator;
};

struct MallocApi final : Api {
  void* (*do_malloc)(std::size_t);
  void (*do_free)(void*);
  MallocApi(void* (*m)(std::size_t), void (*f)(void*)) : do_malloc(m), do_free(f) {}
  void allocate(std::size_t bytes, Item& item) override {
    item.data = do_malloc(bytes);
    if (item.data == nullptr) [[unlikely]] die("malloc failed");
  }
  void release(Item& item) override {
    do_free(item.data);
    item.data = nullptr;
  }
};

std::unique_ptr<Api> make_api(const std::string& name) {
  if (name == "segment") return std::make_unique<SegmentApi>(true);
  if (name == "segment-nocache") return std::make_unique<SegmentApi>(false);
#ifdef SEGSIM_MT_BENCH_JEMALLOC
  if (name == "jemalloc") return std::make_unique<MallocApi>(&malloc, &free);
#else
  if (name == "glibc") return std::make_unique<MallocApi>(&std::malloc, &std::free);
  if (name == "mimalloc") {
    void* handle = ::dlopen(SEGSIM_MIMALLOC_LIBRARY, RTLD_NOW | RTLD_LOCAL);  // see alloc_bench.cpp
    if (handle == nullptr) die(std::string("dlopen mimalloc: ") + ::dlerror());
    auto m = reinterpret_cast<void* (*)(std::size_t)>(::dlsym(handle, "mi_malloc"));
    auto f = reinterpret_cast<void (*)(void*)>(::dlsym(handle, "mi_free"));
    if (m == nullptr || f == nullptr) die("mimalloc symbols missing");
    return std::make_unique<MallocApi>(m, f);
  }
#endif
  die("unknown allocator: " + name);
}

void run_thread(Api& api, std::vector<std::atomic<Item*>>& transfer, std::uint32_t self, std::uint64_t ops) {
  Rng rng{0x5e65u + self * 0x1000193ULL};
  std::vector<std::unique_ptr<Item>> owned;  // Items circulate; each lives to the end
  std::vector<Item*> ring(kRingObjects, nullptr);
  for (std::size_t i = 0; i < kRingObjects; ++i) {
    owned.push_back(std::make_unique<Item>());
    ring[i] = owned.back().get();
  }
  for (std::uint64_t op = 0; op < ops; ++op) {
    Item*& slot = ring[op % kRingObjects];
    if (slot->data != nullptr) {
      if (rng.below(100) < kTransferPercent) {
        slot = transfer[rng.below(kTransferSlots)].exchange(slot, std::memory_order_acq_rel);
        if (slot->data != nullptr) api.release(*slot);  // another thread's object, often
      } else {
        api.release(*slot);
      }
    }
    api.allocate(draw_bytes(rng), *slot);
    const std::uint64_t word = op;
    std::memcpy(slot->data, &word, sizeof word);
  }
  for (Item* item : ring) {
    if (item->data != nullptr) api.release(*item);
  }
  // Items left in the transfer array are released by main; ours must outlive that.
  for (auto& item : owned) item.release();
}

std::size_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 3) die("usage: segsim_mt_bench ALLOCATOR THREADS [OPS_PER_THREAD]");
  const std::string name = argv[1];
  const long threads = std::strtol(argv[2], nullptr, 10);
  const long long ops = argc > 3 ? std::strtoll(argv[3], nullptr, 10) : 400000;
  if (threads < 1 || threads > 64) die("THREADS must be 1..64");
  if (ops < 1) die("OPS_PER_THREAD must be positive");
  std::unique_ptr<Api> api = make_api(name);
  std::vector<std::atomic<Item*>> transfer(kTransferSlots);
  std::vector<Item> transfer_items(kTransferSlots);
  for (std::size_t i = 0; i < kTransferSlots; ++i) transfer[i].store(&transfer_items[i]);

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (long t = 0; t < threads; ++t) {
    pool.emplace_back(run_thread, std::ref(*api), std::ref(transfer), static_cast<std::uint32_t>(t),
                      static_cast<std::uint64_t>(ops));
  }
  for (auto& th : pool) th.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& slot : transfer) {
    Item* item = slot.load();
    if (item->data != nullptr) api->release(*item);
  }
  const double total = static_cast<double>(ops) * static_cast<double>(threads);
  std::printf("%s\t%ld\t%lld\t%.3f\t%.3f\t%.1f\n", name.c_str(), threads, ops, seconds, total / seconds / 1e6,
              static_cast<double>(peak_rss_kib()) / 1024.0);
  return 0;
}

}  // namespace
}  // namespace segsim::bench

int main(int argc, char** argv) { return segsim::bench::run(argc, argv); }
