// The zeroing-due drill: see zeroing_due_drill.h.
#include "scenarios/workloads/zeroing_due_drill.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace {

constexpr char kDrill[] = "zeroing-due drill";
constexpr std::byte kDirt{0xA5};

std::uint64_t zeroings(const SegmentAllocator& allocator) {
  const AllocatorStats stats = allocator.stats();
  return stats.resets_memset + stats.resets_madvise;
}

class Drill {
 public:
  Drill(Stack& stack, SegmentAllocator& allocator, std::size_t size_class)
      : stack_(stack), allocator_(allocator), calls_{stack, allocator, kDrill}, size_class_(size_class),
        slice_bytes_(class_bytes(size_class)), slices_(allocator.config().region_bytes / slice_bytes_) {}

  std::size_t slices() const { return slices_; }

  // `count` allocations, the i-th zeroed when zeroed(i); exactly `due`
  // zeroings may happen meanwhile; each zeroed slice must read zero.
  template <typename Zeroed>
  void take(std::size_t count, Zeroed zeroed, std::uint64_t due, std::string_view phase) {
    const std::uint64_t before = zeroings(allocator_);
    for (std::size_t i = 0; i < count; ++i) {
      const bool zero = zeroed(i);
      Result<Segment> got = zero ? allocator_.allocate(slice_bytes_) : allocator_.allocate_uninitialized(slice_bytes_);
      if (!got.ok()) {
        stack_.oracles.fail("exception", fmt::format("{}: {}: allocation {} of class {} refused: {}", kDrill, phase,
                                                     i, size_class_, got.error().describe()));
        return;
      }
      if (zero) check_reads_zero(got.value(), phase);
      held_.push_back(got.value());
    }
    const std::uint64_t done = zeroings(allocator_) - before;
    if (done != due) {
      stack_.oracles.fail("zero-on-allocate",
                          fmt::format("{}: {}: {} allocation(s) of {} B zeroed {} slice(s); {} due (a zeroed "
                                      "allocation zeroes a slice only when it may be dirty)",
                                      kDrill, phase, count, slice_bytes_, done, due));
    }
  }

  // Writes every held slice, releases them all and empties this thread's caches.
  void dirty_and_release_all() {
    for (const Segment& segment : held_) std::memset(segment.data(), static_cast<int>(kDirt), segment.size());
    release_all();
  }

  void release_all() {
    for (const Segment& segment : held_) calls_.release(segment, "a release");
    held_.clear();
    allocator_.flush_thread_cache();
  }

  // The premise of every phase: the class has the one region mapped first.
  void check_one_region(std::string_view phase) {
    const AllocatorStats stats = allocator_.stats();
    if (stats.regions_mapped != 1 || stats.regions_unmapped != 0) {
      stack_.oracles.fail("exception", fmt::format("{}: {}: {} region(s) mapped and {} unmapped; the drill's class "
                                                   "was to keep one",
                                                   kDrill, phase, stats.regions_mapped, stats.regions_unmapped));
    }
  }

  void release_region(std::string_view phase) {
    if (const std::size_t released = allocator_.release_unused_regions(static_cast<int>(size_class_)); released != 1) {
      stack_.oracles.fail("exception", fmt::format("{}: {}: release_unused_regions({}) released {} region(s) with "
                                                   "the class's one region all free; 1 was due",
                                                   kDrill, phase, size_class_, released));
    }
  }

 private:
  void check_reads_zero(const Segment& segment, std::string_view phase) {
    const std::byte* data = segment.data();
    const std::byte* end = data + segment.size();
    const std::byte* dirty = std::find_if(data, end, [](std::byte b) { return b != std::byte{0}; });
    if (dirty != end) {
      stack_.oracles.fail("zero-on-allocate",
                          fmt::format("{}: {}: a zeroed allocation of {} B reads {:#04x} at byte {}", kDrill, phase,
                                      slice_bytes_, static_cast<unsigned>(*dirty), dirty - data));
    }
  }

  Stack& stack_;
  SegmentAllocator& allocator_;
  const EpisodeCalls calls_;
  const std::size_t size_class_;
  const std::size_t slice_bytes_;
  const std::size_t slices_;
  std::vector<Segment> held_;
};

}  // namespace

void run_zeroing_due_drill(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // no fault point may steer what the drill predicts
  SegmentAllocatorConfig config = clocked_drill_config(rng, kDrillRegionBytes, kDrillBudgetBytes);
  // Half the seeds without thread caches: the pool's own hand-out path.
  if (rng.chance(0.5)) config.thread_cache_bytes = 0;
  const std::size_t size_class = rng.below(kSizeClassCount);
  // memset, or madvise from the drill's class on (its slices are whole pages).
  if (rng.chance(0.5)) config.reset_madvise_min_bytes = class_bytes(size_class);
  ClockedInstance instance(stack, rng, 2 * config.budget_bytes, config, kDrill);
  Drill drill(stack, *instance.allocator, size_class);
  const std::size_t n = drill.slices();
  const auto all = [](std::size_t) { return true; };

  const std::size_t first = 1 + rng.below(n);
  drill.take(first, all, 0, "fresh region");
  instance.allocator->flush_thread_cache();
  drill.take(n - first, all, 0, "fresh region after a flush");
  drill.check_one_region("fresh region");

  drill.dirty_and_release_all();
  std::vector<bool> zeroed(1 + rng.below(n));
  std::generate(zeroed.begin(), zeroed.end(), [&] { return rng.chance(0.5); });
  drill.take(zeroed.size(), [&](std::size_t i) { return zeroed[i]; },
             static_cast<std::uint64_t>(std::count(zeroed.begin(), zeroed.end(), true)), "dirty slices");

  drill.dirty_and_release_all();
  drill.release_region("released region");
  drill.take(n, all, 0, "released region");

  drill.dirty_and_release_all();
  drill.release_region("partly dirtied region");
  const std::size_t dirtied = 1 + rng.below(n);
  drill.take(dirtied, all, 0, "released region, a part taken");
  drill.dirty_and_release_all();
  drill.take(n, all, dirtied, "partly dirtied region");
  drill.check_one_region("the drill's end");
  drill.release_all();
  if (const std::vector<std::string> audit = instance.allocator->audit(); !audit.empty()) {
    stack.oracles.fail("accounting", fmt::format("{}: the allocator audits: {}", kDrill, audit.front()));
  }
}

}  // namespace segsim::scenarios
