// The native-thread episode: see native_thread.h.
#include "scenarios/workloads/native_thread.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/asan.h"
#include "core/fault_point.h"
#include "core/flight_recorder.h"
#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "core/slab_allocator.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/slab_oracles.h"
#include "scenarios/oracles/zero_scan.h"
#include "scenarios/workloads/forged_handles.h"
#include "scenarios/workloads/native_thread_checks.h"
#include "scenarios/workloads/swarm.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

namespace {

// Keeps SegmentObserver's default was_reset / refused: a reset and a refused
// call reach the defaults, which must change nothing the model sees.
class NativeLiveSlices final : public SegmentObserver {
 public:
  void handing_out(const Segment& segment) override {
    if (live.count(segment.data()) != 0) note("handing out a slice that is live");
  }
  void handed_out(const Segment& segment, bool zeroed) override {
    (void)zeroed;
    live[segment.data()] = segment.generation();
    ++handed;
  }
  void released(const Segment& segment) override {
    auto it = live.find(segment.data());
    if (it == live.end() || it->second != segment.generation()) {
      note("released a slice the observer never saw handed out (or of another generation)");
    } else {
      live.erase(it);
    }
    ++releases;
  }
  void note(const std::string& what) {
    if (problem.empty()) problem = what;
  }
  std::map<const std::byte*, std::uint32_t> live;
  std::uint64_t handed = 0, releases = 0;
  std::string problem;
};

struct NativeHeldSegment {
  Segment segment;
  std::uint8_t fill = 0;
};
struct NativeHeldObject {
  SlabObject object;
  std::uint8_t fill = 0;
};

// What the thread does; failures are collected (an oracle's fail() throws,
// and must not on a thread or in a thread_local destructor).
struct NativeEpisode : NativeEpisodeCounts {
  SegmentAllocator* segments = nullptr;
  SlabAllocator* slab = nullptr;  // null: segments only
  NativeLiveSlices* observer = nullptr;
  std::vector<std::size_t> segment_sizes, object_sizes, late_segment_sizes, late_object_sizes;
  bool zeroed_first = true;
  bool faults_lifted = false;  // the run's fault-point controller lifted while the thread runs
  std::vector<NativeHeldSegment> segments_live;
  std::vector<NativeHeldObject> objects_live;
  std::uint8_t next_fill = 0;
  std::vector<std::string> failures;

  void fail(std::string what) {
    if (failures.size() < 8) failures.push_back(std::move(what));
  }
  std::uint8_t fill() { return static_cast<std::uint8_t>(1 + next_fill++ % 250); }
  // A block just handed out (segment or slab object): it overlaps no live
  // block and is not poisoned. It is filled with a fresh byte, returned.
  std::uint8_t take_new_block(std::byte* data, std::size_t size, std::size_t bytes, const char* what,
                              const char* phase) {
    if (overlaps(data, size)) fail(fmt::format("{}: a {}-byte {} overlaps a live one", phase, bytes, what));
    if (asan::is_poisoned(data)) fail(fmt::format("{}: a live {} is poisoned", phase, what));
    const std::uint8_t f = fill();
    std::fill(data, data + size, std::byte{f});
    return f;
  }

  bool overlaps(const std::byte* data, std::size_t bytes) const {
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
  void check_bytes(const std::byte* data, std::size_t bytes, std::uint8_t want, const char* what) {
    // A byte loop here was half of a slab-churn seed's instructions.
    if (std::optional<std::size_t> i = first_byte_other_than(data, bytes, std::byte{want})) {
      fail(fmt::format("{}: byte {} of {} reads {:#04x}, {:#04x} was due", what, *i, bytes,
                       static_cast<unsigned>(data[*i]), want));
    }
  }

  // ---- segments
  void allocate_segment(std::size_t bytes, bool zeroed, const char* phase) {
    Result<Segment> got = zeroed ? segments->allocate(bytes) : segments->allocate_uninitialized(bytes);
    if (class_of(bytes) < 0) {
      if (got.ok() || got.error().code != Errc::InvalidSize) {
        fail(fmt::format("{}: allocate({}) gave {}; InvalidSize was due", phase, bytes,
                         outcome_text(got, "a segment")));
        if (got.ok()) (void)segments->release(got.value());
      }
      return;
    }
    if (!got.ok()) {
      fail(fmt::format("{}: allocate({}) refused under a 32 MiB budget on a fault-free Os: {}", phase, bytes,
                       got.error().describe()));
      return;
    }
    const Segment segment = got.value();
    if (segment.size() != class_bytes(static_cast<std::size_t>(class_of(bytes)))) {
      fail(fmt::format("{}: allocate({}) gave {} bytes", phase, bytes, segment.size()));
    }
    if (segment.bytes().data() != segment.data() || segment.bytes().size() != segment.size()) {
      fail(fmt::format("{}: a segment's bytes() is not its data() and size()", phase));
    }
    if (zeroed) check_bytes(segment.data(), segment.size(), 0, "a zeroed allocation");
    segments_live.push_back({segment, take_new_block(segment.data(), segment.size(), bytes, "segment", phase)});
  }

  void release_segment(std::size_t index, const char* phase) {
    const NativeHeldSegment held = segments_live[index];
    segments_live.erase(segments_live.begin() + static_cast<std::ptrdiff_t>(index));
    check_bytes(held.segment.data(), held.segment.size(), held.fill, "a live segment");
    if (Status released = segments->release(held.segment); !released.ok()) {
      fail(fmt::format("{}: release of a live segment refused: {}", phase, released.error().describe()));
      return;
    }
    // Refusals: a second release and a reset of the freed handle are
    // DoubleFree, reach no observer hook but the default refused(), and
    // change nothing.
    const std::uint64_t handed = observer->handed, releases = observer->releases;
    const AllocatorStats before = segments->stats();
    Status again, reset;
    {
      // Refused on purpose: the flight recorder (on in alloc-api's half of
      // the seeds) must write no report for them.
      const std::size_t reports = flight_recorder::reports_written();
      flight_recorder::RefusalsExpected expected;
      again = segments->release(held.segment);
      reset = segments->reset(held.segment);
      if (flight_recorder::reports_written() != reports) {
        fail(fmt::format("{}: the flight recorder wrote a report of a refusal made under RefusalsExpected", phase));
      }
    }
    if (again.ok() || again.error().code != Errc::DoubleFree || reset.ok() || reset.error().code != Errc::DoubleFree) {
      fail(fmt::format("{}: release / reset of a released segment answered {} / {}; DoubleFree was due", phase,
                       outcome_text(again, "ok"), outcome_text(reset, "ok")));
    }
    if (observer->handed != handed || observer->releases != releases) {
      fail(fmt::format("{}: a refused release reached the observer's hand-out / release hooks", phase));
    }
    const AllocatorStats after = segments->stats();
    if (after.live_slices() != before.live_slices() || after.free_slices() != before.free_slices()) {
      fail(fmt::format("{}: a refused release changed the live / free slices", phase));
    }
  }

  void reset_segment(NativeHeldSegment& held, const char* phase) {
    if (Status reset = segments->reset(held.segment); !reset.ok()) {
      fail(fmt::format("{}: reset of a live segment refused: {}", phase, reset.error().describe()));
      return;
    }
    check_bytes(held.segment.data(), held.segment.size(), 0, "a reset segment");
    held.fill = fill();
    std::fill(held.segment.data(), held.segment.data() + held.segment.size(), std::byte{held.fill});
  }

  void lookup_segment(const NativeHeldSegment& held, const char* phase) {
    Result<Segment> found = segments->lookup(held.segment.data());
    if (!found.ok() || !(found.value() == held.segment)) {
      fail(fmt::format("{}: lookup of a live segment answered {}", phase,
                       outcome_text(found, "another handle")));
    }
  }

  // Forged handles of a live segment (forged_handles.h): each is refused by
  // its rule — the hit path's handle checks decline it first when it runs —
  // and changes no slice count; the segment stays live.
  void forged_releases(const Segment& live, const char* phase) {
    const AllocatorStats before = segments->stats();
    for (std::size_t f = 0; f < kForgeryCount; ++f) {
      const std::optional<Segment> forged = forge(live, static_cast<Forgery>(f), segments->config().region_bytes);
      if (!forged) continue;
      Status got;
      {
        flight_recorder::RefusalsExpected expected;  // refused on purpose: no report
        got = segments->release(*forged);
      }
      const Errc due = refusal_of(static_cast<Forgery>(f));
      if (got.ok() || got.error().code != due) {
        fail(fmt::format("{}: release of {} answered {}; {} was due", phase, forgery_name(static_cast<Forgery>(f)),
                         outcome_text(got, "ok"), errc_name(due)));
      }
    }
    const AllocatorStats after = segments->stats();
    if (after.live_slices() != before.live_slices() || after.free_slices() != before.free_slices()) {
      fail(fmt::format("{}: refused releases of forged handles changed the live / free slices", phase));
    }
  }

  // A reclaim on another thread (free_unused_regions) cannot reach this
  // thread's cache: it leaves the cached slices where they are and bumps the
  // flush epoch, and this thread empties its cache at its next call — the
  // hit paths decline on the epoch and the slow path flushes. Checked for an
  // allocation and for a release, each after a reclaim; the flush counts
  // only with the run's fault points lifted (a fault may bypass the cache).
  void reclaim_elsewhere() {
    std::thread([this] { (void)segments->free_unused_regions(0); }).join();
  }
  void reclaim_while_cached(const char* phase) {
    const std::size_t c = 0;  // the smallest class: every cache's grant holds its slices
    for (int i = 0; i < 2; ++i) {
      allocate_segment(class_bytes(c), false, phase);
      release_segment(segments_live.size() - 1, phase);
    }
    for (int call = 0; call < 2; ++call) {
      const AllocatorStats before = segments->stats();
      reclaim_elsewhere();
      const AllocatorStats reclaimed = segments->stats();
      if (reclaimed.classes[c].cached_slices != before.classes[c].cached_slices ||
          reclaimed.cache_flushes != before.cache_flushes) {
        fail(fmt::format("{}: a reclaim on another thread changed this thread's cache ({} cached slices of {} B "
                         "before, {} after; {} flushes before, {} after)", phase, before.classes[c].cached_slices,
                         class_bytes(c), reclaimed.classes[c].cached_slices, before.cache_flushes,
                         reclaimed.cache_flushes));
      }
      const std::size_t live = segments_live.size();
      if (call == 0) {
        allocate_segment(class_bytes(c), true, phase);
      } else if (!segments_live.empty()) {
        release_segment(segments_live.size() - 1, phase);
      }
      const bool made = call == 0 ? segments_live.size() > live : segments_live.size() < live;
      const std::uint64_t flushes = segments->stats().cache_flushes;
      if (faults_lifted && made && before.classes[c].cached_slices > 0 && flushes != reclaimed.cache_flushes + 1) {
        fail(fmt::format("{}: this thread's {} after another thread's reclaim flushed its cache {} times ({} slices "
                         "of {} B cached); once was due", phase, call == 0 ? "allocation" : "release",
                         flushes - reclaimed.cache_flushes, before.classes[c].cached_slices, class_bytes(c)));
      }
      // Once flushed, the cache has seen the reclaim: the next calls keep caching.
      const std::size_t live_now = segments_live.size();
      allocate_segment(class_bytes(c), false, phase);
      if (segments_live.size() > live_now) release_segment(segments_live.size() - 1, phase);
      const AllocatorStats settled = segments->stats();
      if (faults_lifted && made && settled.cache_flushes != flushes) {
        fail(fmt::format("{}: this thread's cache flushed again ({} more) on the calls after the one that saw "
                         "another thread's reclaim", phase, settled.cache_flushes - flushes));
      }
    }
  }

  // ---- slab objects
  void allocate_object(std::size_t bytes, const char* phase) {
    Result<SlabObject> got = slab->allocate(bytes);
    if (slab_class_of(bytes) < 0) {
      if (got.ok() || got.error().code != Errc::InvalidSize) {
        fail(fmt::format("{}: slab allocate({}) gave {}; InvalidSize was due", phase, bytes,
                         outcome_text(got, "an object")));
        if (got.ok()) (void)slab->free(got.value());
      }
      return;
    }
    if (!got.ok()) {
      fail(fmt::format("{}: slab allocate({}) refused on a fault-free Os: {}", phase, bytes, got.error().describe()));
      return;
    }
    const SlabObject object = got.value();
    ++slab_allocations;
    slab_requested_bytes += bytes;
    if (object.size() != slab_class_bytes(static_cast<std::size_t>(slab_class_of(bytes))) ||
        reinterpret_cast<std::uintptr_t>(object.data()) % 64 != 0) {
      fail(fmt::format("{}: slab allocate({}) gave {} bytes at a {}-aligned address", phase, bytes, object.size(),
                       reinterpret_cast<std::uintptr_t>(object.data()) % 64));
    }
    Result<SlabObject> found = slab->lookup(object.data());
    if (!found.ok() || found->generation() != object.generation() || found->index() != object.index()) {
      fail(fmt::format("{}: lookup of a new object answered {}", phase,
                       outcome_text(found, "another object")));
    }
    objects_live.push_back({object, take_new_block(object.data(), object.size(), bytes, "slab object", phase)});
  }

  // `through_lookup`: freed through the handle lookup() gives, which names no
  // cache, so a cached free of it counts as remote (slab_allocator.h).
  void free_object(std::size_t index, const char* phase, bool through_lookup = false) {
    const NativeHeldObject held = objects_live[index];
    objects_live.erase(objects_live.begin() + static_cast<std::ptrdiff_t>(index));
    check_bytes(held.object.data(), held.object.size(), held.fill, "a live slab object");
    SlabObject handle = held.object;
    if (through_lookup) {
      Result<SlabObject> found = slab->lookup(held.object.data());
      if (!found.ok()) {
        fail(fmt::format("{}: lookup of a live object refused: {}", phase, found.error().describe()));
        return;
      }
      handle = found.value();
    }
    if (Status freed = slab->free(handle); !freed.ok()) {
      fail(fmt::format("{}: free of a live object refused: {}", phase, freed.error().describe()));
      return;
    }
    ++slab_frees;
    if (through_lookup) ++slab_remote_frees;
    // Freed and not handed out again yet: poisoned exactly under ASan.
    if (asan::is_poisoned(held.object.data()) != asan::kEnabled) {
      fail(fmt::format("{}: a freed slab object is {}poisoned (ASan {})", phase,
                       asan::kEnabled ? "not " : "", asan::kEnabled ? "on" : "off"));
    }
    Status again = slab->free(held.object);
    if (again.ok() || again.error().code != Errc::DoubleFree) {
      fail(fmt::format("{}: a second free answered {}; DoubleFree was due", phase,
                       outcome_text(again, "ok")));
    } else {
      ++slab_double_frees;
    }
  }

  // ---- the two phases
  void cached_phase() {
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

  // From a thread_local destructor that runs after the cache tables are gone.
  void late_phase() {
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
};

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
