// The native-thread episode: see native_thread.h. The thread's two phases,
// the model's bookkeeping and the fiber's driver; the calls the phases make
// are native_thread_segments.cpp's and native_thread_objects.cpp's.
#include "scenarios/workloads/native_thread.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/asan.h"
#include "core/fault_point.h"
#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "core/slab_allocator.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/zero_scan.h"
#include "scenarios/workloads/native_thread_checks.h"
#include "scenarios/workloads/native_thread_episode.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

void NativeLiveSlices::handing_out(const Segment& segment) {
  if (live.count(segment.data()) != 0) note("handing out a slice that is live");
}
void NativeLiveSlices::handed_out(const Segment& segment, bool zeroed) {
  (void)zeroed;
  live[segment.data()] = segment.generation();
  ++handed;
}
void NativeLiveSlices::released(const Segment& segment) {
  auto it = live.find(segment.data());
  if (it == live.end() || it->second != segment.generation()) {
    note("released a slice the observer never saw handed out (or of another generation)");
  } else {
    live.erase(it);
  }
  ++releases;
}
void NativeLiveSlices::note(const std::string& what) {
  if (problem.empty()) problem = what;
}

std::uint8_t NativeEpisode::take_new_block(std::byte* data, std::size_t size, std::size_t bytes, const char* what,
                                           const char* phase) {
  if (overlaps(data, size)) fail(fmt::format("{}: a {}-byte {} overlaps a live one", phase, bytes, what));
  if (asan::is_poisoned(data)) fail(fmt::format("{}: a live {} is poisoned", phase, what));
  const std::uint8_t f = fill();
  std::fill(data, data + size, std::byte{f});
  return f;
}

bool NativeEpisode::overlaps(const std::byte* data, std::size_t bytes) const {
  auto hit = [&](const std::byte* other, std::size_t other_bytes) {
    return data < other + other_bytes && other < data + bytes;
  };
  for (const NativeHeldSegment& held : segments_live) {
    if (hit(held.segment.data(), held.segment.size())) return true;
  }
  for (const NativeHeldObject& held : objects_live) {
    if (hit(held.object.data(), held.object.size())) return true;
  }
  return false;
}
void NativeEpisode::check_bytes(const std::byte* data, std::size_t bytes, std::uint8_t want, const char* what) {
  // A byte loop here was half of a slab-churn seed's instructions.
  if (std::optional<std::size_t> i = first_byte_other_than(data, bytes, std::byte{want})) {
    fail(fmt::format("{}: byte {} of {} reads {:#04x}, {:#04x} was due", what, *i, bytes,
                     static_cast<unsigned>(data[*i]), want));
  }
}

void NativeEpisode::cached_phase() {
  const char* phase = "thread";
  bool zeroed = zeroed_first;
  for (std::size_t bytes : segment_sizes) {
    allocate_segment(bytes, zeroed, phase);
    zeroed = !zeroed;
  }
  // One class churned: after the first round trip the thread's cache serves
  // it (with no observer and no fault points: the inline hit paths).
  if (!segment_sizes.empty() && class_of(segment_sizes.front()) >= 0) {
    for (int round = 0; round < 16; ++round) {
      allocate_segment(segment_sizes.front(), round % 2 == 0, phase);
      release_segment(segments_live.size() - 1, phase);
    }
  }
  // A burst of one class past what a thread cache keeps (32 slices, and
  // past its grant first): the hit path declines a release into a full
  // cache or past its grant and the slow path takes it, each release
  // checked as above.
  const std::size_t burst_bytes = class_bytes(std::min<std::size_t>(3, kSizeClassCount - 1));
  const std::size_t kept = segments_live.size();
  for (int i = 0; i < 40; ++i) allocate_segment(burst_bytes, false, phase);
  while (segments_live.size() > kept) release_segment(segments_live.size() - 1, phase);
  reclaim_while_cached(phase);
  if (!segments_live.empty()) forged_releases(segments_live.front().segment, phase);
  for (NativeHeldSegment& held : segments_live) lookup_segment(held, phase);
  if (!segments_live.empty()) reset_segment(segments_live.front(), phase);
  for (std::size_t i = segments_live.size() / 2; i-- > 0;) release_segment(i, phase);
  segments->flush_thread_cache();
  segment_stats_while_live = segments->stats();  // its cache's hits, still its own: the exit must hand them on
  if (slab == nullptr) return;
  // A flush makes no cache: unchanged whether this thread has one yet or not.
  const std::size_t caches_before = slab->stats().thread_caches;
  slab->flush_thread_cache();
  if (slab->stats().thread_caches != caches_before) {
    fail(fmt::format("{}: a flush of this thread's slab cache changed the thread caches {} -> {}", phase,
                     caches_before, slab->stats().thread_caches));
  }
  for (std::size_t bytes : object_sizes) allocate_object(bytes, phase);
  if (slab->stats().thread_caches != 1) {
    fail(fmt::format("{}: the slab allocator counts {} thread caches while one thread uses it", phase,
                     slab->stats().thread_caches));
  }
  free_object_on_a_fresh_thread(phase);
  // A second slab allocator this thread uses, destroyed while the thread
  // lives: its cache is detached, and dropped from the thread's table the
  // next time the thread looks for another allocator's cache.
  SlabAllocatorConfig other_config;
  other_config.slab_bytes = 4096;
  auto other = SlabAllocator::create(*segments, other_config);
  if (!other.ok()) {
    fail("a second SlabAllocator refused: " + other.error().describe());
  } else {
    Result<SlabObject> o = other.value()->allocate(64);
    if (!o.ok()) fail("the second SlabAllocator's allocate(64) refused: " + o.error().describe());
    other.value().reset();  // its objects die with its slabs
  }
  for (std::size_t i = objects_live.size() / 2; i-- > 0;) free_object(i, phase, /*through_lookup=*/i % 2 == 1);
  if (!exits_with_cached_objects) {
    slab->flush_thread_cache();
    for (std::size_t c = 0; c < kSlabClassCount; ++c) {
      if (slab->stats().classes[c].cached_objects != 0) {
        fail(fmt::format("{}: {} objects of class {} B in the thread's magazines after its flush", phase,
                         slab->stats().classes[c].cached_objects, kSlabClassBytes[c]));
        break;
      }
    }
  }
  slab_stats_while_live = slab->stats();  // its counts, still in its cache: the exit must hand them on
}

void NativeEpisode::late_phase() {
  const char* phase = "thread exit";
  if (slab != nullptr) {
    for (std::size_t bytes : late_object_sizes) allocate_object(bytes, phase);
    slab->flush_thread_cache();  // no cache left: nothing to do
    while (!objects_live.empty()) free_object(objects_live.size() - 1, phase);
  }
  for (std::size_t bytes : late_segment_sizes) allocate_segment(bytes, true, phase);
  segments->flush_thread_cache();
  while (!segments_live.empty()) release_segment(segments_live.size() - 1, phase);
}

namespace {

// Constructed first on the thread, so destroyed after the cache tables.
struct NativeLateWork {
  NativeEpisode* episode = nullptr;
  ~NativeLateWork() {
    if (episode != nullptr) episode->late_phase();
  }
};
thread_local NativeLateWork t_late_work;

std::vector<std::size_t> native_draw_sizes(sim::Rng& rng, std::size_t count, std::size_t largest,
                                    std::span<const std::size_t> edges) {
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < count; ++i) sizes.push_back(draw_size(rng, 0, largest + 1, edges));
  return sizes;
}

}  // namespace

namespace {
std::atomic<std::uint64_t> g_episodes_run{0};
}  // namespace

std::uint64_t native_thread_episodes_run() { return g_episodes_run.load(std::memory_order_relaxed); }

void count_native_thread_episode() { g_episodes_run.fetch_add(1, std::memory_order_relaxed); }

void run_native_thread_episode(Stack& stack, sim::Rng& rng, bool with_slab) {
  count_native_thread_episode();
  faults::SimOsConfig os_config;
  os_config.reservation_bytes = kNativeThreadBudgetBytes + (std::size_t{8} << 20);
  os_config.seed = rng.next();
  auto os = faults::SimOs::create(os_config);
  if (!os.ok()) stack.oracles.fail("exception", "native-thread SimOs: " + os.error().describe());
  NativeLiveSlices observer;
  SegmentAllocatorConfig config;
  config.region_bytes = kNativeThreadRegionBytes;
  config.budget_bytes = kNativeThreadBudgetBytes;
  config.proactive_cleanup = false;  // no async cleanup thread outlives the episode
  config.thread_cache_bytes = draw_one<std::size_t>(rng, {std::size_t{4} << 10, std::size_t{64} << 10,
                                                          std::size_t{256} << 10});
  // Half the episodes without an observer (the checks that need one hold
  // trivially) and without the run's fault-point controller while the thread
  // runs: the allocator's inline hit paths run only then (segment_fast_path.h).
  // Half the observed ones lift the controller too: an observer alone must
  // keep the calls off the inline paths, which would not tell it.
  const bool observed = rng.chance(0.5);
  const bool faults_lifted = !observed || rng.chance(0.5);
  if (observed) config.observer = &observer;
  auto segments = SegmentAllocator::create(*os.value(), config);
  if (!segments.ok()) stack.oracles.fail("exception", "native-thread allocator: " + segments.error().describe());
  std::unique_ptr<SlabAllocator> slab;
  if (with_slab) {
    SlabAllocatorConfig slab_config;
    slab_config.slab_bytes = std::size_t{4096} << (2 * rng.below(3));
    for (auto& capacity : slab_config.magazine_capacity) capacity = 1 + static_cast<std::uint32_t>(rng.below(8));
    slab_config.empty_slabs_kept = rng.below(2);
    auto made = SlabAllocator::create(*segments.value(), slab_config);
    if (!made.ok()) stack.oracles.fail("exception", "native-thread slab: " + made.error().describe());
    slab = std::move(made.value());
  }

  std::vector<std::size_t> segment_edges;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) segment_edges.push_back(class_bytes(c));
  const std::vector<std::size_t> object_edges(kSlabClassBytes.begin(), kSlabClassBytes.end());
  NativeEpisode episode;
  episode.segments = segments.value().get();
  episode.slab = slab.get();
  episode.observer = &observer;
  episode.zeroed_first = rng.chance(0.5);
  episode.faults_lifted = faults_lifted;
  episode.exits_with_cached_objects = rng.chance(0.5);
  episode.segment_sizes = native_draw_sizes(rng, 4 + rng.below(8), kLargestClassBytes, segment_edges);
  episode.late_segment_sizes = native_draw_sizes(rng, 1 + rng.below(3), kLargestClassBytes, segment_edges);
  if (with_slab) {
    episode.object_sizes = native_draw_sizes(rng, 8 + rng.below(24), kSlabLargestObjectBytes, object_edges);
    episode.late_object_sizes = native_draw_sizes(rng, 1 + rng.below(4), kSlabLargestObjectBytes, object_edges);
  }

  // The fiber blocks in join(): no scheduling point until the thread is gone.
  {
    std::optional<fault_points::ControllerScope> quiet;
    if (faults_lifted) quiet.emplace(nullptr);  // nothing else runs until join() returns
    std::thread thread([&episode] {
      t_late_work.episode = &episode;  // first thread_local touched: destroyed last
      episode.cached_phase();
    });
    thread.join();
  }

  auto fail = [&](const std::string& what) { stack.oracles.fail(kNativeOracle, what); };
  if (!episode.failures.empty()) fail(episode.failures.front());
  if (!observer.problem.empty()) fail("observer: " + observer.problem);
  // Before the slab goes: its destruction releases slabs from this fiber,
  // which gives the fiber a cache of its own.
  if (episode.segment_stats_while_live) {  // the retired cache's counts stay counted
    stack.oracles.check_counters_grow(*episode.segment_stats_while_live, segments.value()->stats());
  }
  if (const std::size_t caches = segments.value()->stats().thread_caches; caches != 0) {
    fail(fmt::format("{} segment thread cache(s) left after the thread exited", caches));
  }
  if (slab != nullptr) {
    check_slab_after_thread_exit(stack, episode, *slab);
    slab.reset();
  }
  const AllocatorStats stats = segments.value()->stats();
  if (stats.live_slices() != 0 || !observer.live.empty()) {
    fail(fmt::format("{} slice(s) live ({} by the observer) after every segment and slab went back",
                     stats.live_slices(), observer.live.size()));
  }
  if (observer.handed != observer.releases) {
    fail(fmt::format("the observer saw {} hand-outs and {} releases", observer.handed, observer.releases));
  }
  if (std::vector<std::string> lines = segments.value()->audit(); !lines.empty()) fail("allocator audit: " + lines.front());
  segments.value().reset();
}

}  // namespace segsim::scenarios
