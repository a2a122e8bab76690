// segsim_recorder_cost: the flight recorder's cost on the hot paths (issue
// 13), measured as paired, interleaved rounds in one process.
//
//   segsim_recorder_cost segment|page-set|cache-get [ROUNDS (101)] [OPS_PER_ROUND (200000)] [BYTES (65536)]
//                        [RING_EVENTS (512)]
//
// Why not two Google Benchmark rows: on this shared VM the time of one row
// moves by 10-15 % between runs, more than the effect to be measured, and two
// rows are measured seconds apart. Here one process enables the recorder once
// and then alternates short rounds (a few ms each) with it paused and live —
// the same allocator, the same warm caches, the same ring, the same loop code
// at the same address — so a change of the machine's load hits both halves of
// a pair alike. Each round's on/off ratio is one sample; the tool prints
// min / median / max of the ratios and of each side's ns per operation. The
// order within a round alternates (off first, then on first), so a warm-up
// effect of the second half cancels out.
//
// "Paused" stores 0 into the recorder's switch (what disable() does first),
// keeping the epoch: the thread's ring stays current, so the next live round
// writes on where the last one stopped, with no ring set-up in it. The
// platform seam's clock stays on in both halves (these loops take no mutex).
//
//   segment    allocate_uninitialized + release of BYTES from a warm per-thread
//              cache (the hit path; an op is one pair: two compact events)
//   page-set   LeafPage::set_slot of a 100-byte value over 8 slots (bench/
//              page_bench.cpp's PageSetSlot: one wide page event)
//   cache-get  PageCache::get of a cached page + dropping the handle
//              (page_bench.cpp's CacheHit: a get and an unpin event)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/flight_recorder.h"
#include "core/leaf_page.h"
#include "core/leaf_page_pool.h"
#include "core/linux_os.h"
#include "core/page_cache.h"
#include "core/segment_allocator.h"

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "segsim_recorder_cost: %s\n", what.c_str());
  std::exit(2);
}

// One round of `ops` operations; returns ns per operation. noinline and one
// instance per workload: the paused and live halves run the same code.
template <class Op>
[[gnu::noinline]] double timed_round(long ops, Op& op) {
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < ops; ++i) op(i);
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(end - start).count() / static_cast<double>(ops);
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(at);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

template <class Op>
void measure(const char* name, long rounds, long ops, Op& op) {
  const std::uint32_t epoch = segsim::flight_recorder::live();
  auto set_live = [epoch](bool live) {
    segsim::flight_recorder::detail::g_live.store(live ? epoch : 0, std::memory_order_release);
  };
  // Warm: a few untimed rounds of each (the ring's first lap, the caches).
  for (int w = 0; w < 3; ++w) {
    set_live(false);
    (void)timed_round(ops, op);
    set_live(true);
    (void)timed_round(ops, op);
  }
  std::vector<double> off, on, ratio;
  for (long r = 0; r < rounds; ++r) {
    double t_off = 0, t_on = 0;
    for (int half = 0; half < 2; ++half) {
      const bool live = (half == 0) == (r % 2 == 1);  // even rounds: off first
      set_live(live);
      (live ? t_on : t_off) = timed_round(ops, op);
    }
    off.push_back(t_off);
    on.push_back(t_on);
    ratio.push_back(t_on / t_off);
  }
  set_live(true);
  auto pct = [](double r) { return (r - 1.0) * 100.0; };
  std::printf("%s: %ld rounds x %ld ops, ns/op off min %.2f median %.2f, on min %.2f median %.2f\n", name, rounds,
              ops, quantile(off, 0), quantile(off, 0.5), quantile(on, 0), quantile(on, 0.5));
  std::printf("%s: on vs off per round: min %+.1f %%, q1 %+.1f %%, median %+.1f %%, q3 %+.1f %%, max %+.1f %%;"
              " ratio of the minima %+.1f %%\n",
              name, pct(quantile(ratio, 0)), pct(quantile(ratio, 0.25)), pct(quantile(ratio, 0.5)),
              pct(quantile(ratio, 0.75)), pct(quantile(ratio, 1)), pct(quantile(on, 0) / quantile(off, 0)));
}

std::unique_ptr<segsim::SegmentAllocator> make_allocator() {
  auto created = segsim::SegmentAllocator::create(segsim::LinuxOs::instance(), {});
  if (!created.ok()) die(created.error().describe());
  return std::move(created.value());
}

void run_segment(long rounds, long ops, std::size_t bytes) {
  auto allocator = make_allocator();
  segsim::SegmentAllocator& a = *allocator;
  auto op = [&a, bytes](long) {
    auto got = a.allocate_uninitialized(bytes);
    if (!got.ok()) [[unlikely]] die("allocate: " + got.error().describe());
    const segsim::Segment handle = got.value();
    asm volatile("" : : "g"(&handle) : "memory");  // the pair must not be elided
    if (!a.release(handle).ok()) [[unlikely]] die("release refused");
  };
  op(0);  // the full path fills the cache (and notes the stack)
  op(0);
  measure("segment", rounds, ops, op);
}

void run_page_set(long rounds, long ops) {
  auto allocator = make_allocator();
  auto page = std::move(segsim::LeafPage::create(*allocator, {}, 1).value());
  const std::vector<std::byte> value(100, std::byte{7});
  auto op = [&](long i) {
    // Rewriting a handful of slots: compaction keeps the page in its class.
    if (!page->set_slot(static_cast<std::size_t>(i % 8), value).ok()) [[unlikely]] die("set_slot");
  };
  measure("page-set", rounds, ops, op);
}

void run_cache_get(long rounds, long ops) {
  auto allocator = make_allocator();
  segsim::LeafPagePool pool(*allocator);
  segsim::PageCache cache({128, std::size_t{1} << 30}, pool);
  for (std::uint64_t k = 0; k < 64; ++k) cache.put(k, pool.borrow(k).value());
  auto op = [&](long i) {
    auto handle = cache.get(static_cast<std::uint64_t>(i % 64));
    asm volatile("" : : "g"(handle.page()) : "memory");
  };
  measure("cache-get", rounds, ops, op);
  cache.clear();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    die("usage: segsim_recorder_cost segment|page-set|cache-get [ROUNDS] [OPS_PER_ROUND] [BYTES] [RING_EVENTS]");
  }
  const std::string which = argv[1];
  const long rounds = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 101;
  const long ops = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 200000;
  const long bytes = argc > 4 ? std::strtol(argv[4], nullptr, 10) : 65536;
  const long ring_events = argc > 5 ? std::strtol(argv[5], nullptr, 10) : 512;
  if (rounds < 1 || ops < 1) die("ROUNDS and OPS_PER_ROUND must be positive");
  if (bytes < 1 || bytes > 262144) die("BYTES must be in 1..262144");
  // Multi-threaded, as segsim_bench and segsim_alloc_loop are.
  std::thread([] {}).join();
  char dir[] = "/tmp/segsim-recorder-cost-XXXXXX";
  if (::mkdtemp(dir) == nullptr) die("mkdtemp failed");
  segsim::flight_recorder::Config config;
  config.dir = dir;
  config.ring_events = static_cast<std::size_t>(ring_events);
  config.catch_signals = false;
  config.report_refusals = false;  // nothing is refused here; a benchmark writes no report
  std::string error;
  if (!segsim::flight_recorder::enable(config, &error)) die(error);
  if (which == "segment") {
    run_segment(rounds, ops, static_cast<std::size_t>(bytes));
  } else if (which == "page-set") {
    run_page_set(rounds, ops);
  } else if (which == "cache-get") {
    run_cache_get(rounds, ops);
  } else {
    die("unknown workload: " + which);
  }
  segsim::flight_recorder::disable();
  const bool empty = segsim::flight_recorder::reports_written() == 0;
  (void)::rmdir(dir);
  if (!empty) die("a crash report was written during the measurement");
  return 0;
}
