// The cache-policy episode: see cache_policy_episode.h.
#include "scenarios/workloads/cache_policy_episode.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/platform/mutex.h"
#include "core/size_class.h"
#include "scenarios/oracles/cache_policy.h"
#include "scenarios/oracles/zero_scan.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/swarm.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

// Named: a unity build puts this file beside tcache_churn.cpp's own Held, Op and limits.
namespace cache_policy_episode {
namespace {

constexpr std::size_t kMaxHeld = 12;          // segments the episode holds between calls
constexpr std::size_t kMaxStale = 4;          // released handles kept for stale releases
constexpr std::size_t kMaxBurst = 36;         // a burst passes the largest class capacity (32)
constexpr std::size_t kMaxHelperSegments = 4;
constexpr std::size_t kEpisodeBudgetBytes = std::size_t{32} << 20;  // far above what the calls can hold

enum Op : std::size_t { kAllocate, kRelease, kBurst, kStale, kFlush, kFreeUnused, kReleaseUnused, kHelper, kOpCount };

// Counts what the allocator tells its observer: each hand-out announced before
// it is made, each release once.
class CallCounter final : public SegmentObserver {
 public:
  void handing_out(const Segment& segment) override {
    pending_ = segment;
    ++handing_out_;
  }
  void handed_out(const Segment& segment, bool) override {
    if (!(segment == pending_)) mismatched_ = true;
    ++handed_out_;
  }
  void released(const Segment&) override { ++released_; }

  std::uint64_t handing_out_ = 0, handed_out_ = 0, released_ = 0;
  bool mismatched_ = false;

 private:
  Segment pending_;
};

struct Held {
  Segment segment;
  std::uint8_t fill = 0;
  bool other_cache = false;  // handed out by a helper fiber's cache
};

class Episode {
 public:
  Episode(Stack& stack, sim::Rng& rng, SegmentAllocator& allocator, CallCounter* counter)
      : stack_(stack), rng_(rng), allocator_(allocator), counter_(counter), model_(stack.oracles, allocator.config()) {}

  void run(std::uint32_t calls) {
    const OpMix mix(rng_, kOpCount, {kAllocate, kRelease});
    for (std::uint32_t n = 0; n < calls; ++n) {
      switch (static_cast<Op>(mix.pick(rng_))) {
        case kAllocate:
          if (held_.size() < kMaxHeld) allocate(draw_class());
          break;
        case kRelease:
          if (!held_.empty()) release(rng_.below(held_.size()));
          break;
        case kBurst: burst(); break;
        case kStale: release_stale(); break;
        case kFlush:
          allocator_.flush_thread_cache();
          model_.flushed(stats());
          break;
        case kFreeUnused: {
          const AllocatorStats before = stats();
          const std::size_t target = draw_one<std::size_t>(rng_, {0, before.virtual_bytes, kEpisodeBudgetBytes});
          (void)allocator_.free_unused_regions(target);
          model_.reclaimed(before.virtual_bytes > target, before, stats());
          break;
        }
        case kReleaseUnused: {
          const AllocatorStats before = stats();
          (void)allocator_.release_unused_regions(static_cast<int>(rng_.below(kSizeClassCount)));
          model_.reclaimed(true, before, stats());
          break;
        }
        case kHelper: helper(); break;
        case kOpCount: break;
      }
    }
    while (!held_.empty()) release(held_.size() - 1);
    allocator_.flush_thread_cache();
    model_.flushed(stats());
    const std::vector<std::string> audit = allocator_.audit();
    if (!audit.empty()) fail("accounting", fmt::format("the episode's allocator audits: {}", audit.front()));
  }

 private:
  // Zeroings the allocator counts (a failed madvise falls back to a counted memset).
  std::uint64_t zeroings() const {
    const AllocatorStats s = allocator_.stats();
    return s.resets_memset + s.resets_madvise;
  }
  AllocatorStats stats() const {
    AllocatorStats stats = allocator_.stats();
    check_observer();
    return stats;
  }
  void check_observer() const {
    if (counter_ == nullptr) return;
    if (counter_->mismatched_ || counter_->handing_out_ != counter_->handed_out_ ||
        counter_->handed_out_ != handed_out_ || counter_->released_ != released_) {
      fail("observer-calls", fmt::format("the observer was told of {} hand-out(s) to come, {} made and {} release(s){}; "
                                         "the calls made {} and {}",
                                         counter_->handing_out_, counter_->handed_out_, counter_->released_,
                                         counter_->mismatched_ ? " (a hand-out not the one announced)" : "",
                                         handed_out_, released_));
    }
  }
  [[noreturn]] void fail(const char* oracle, const std::string& what) const {
    stack_.oracles.fail(oracle, fmt::format("cache-policy episode: {}", what));
  }

  // Classes at both ends are the ones whose capacities differ most.
  int draw_class() { return static_cast<int>(rng_.below(kSizeClassCount)); }
  // A size of class `c`: its edges first (the class's bytes, one past the class below).
  std::size_t draw_bytes(int c) {
    const std::size_t top = class_bytes(static_cast<std::size_t>(c));
    const std::size_t bottom = c == 0 ? 1 : class_bytes(static_cast<std::size_t>(c - 1)) + 1;
    switch (rng_.below(4)) {
      case 0: return top;
      case 1: return bottom;
      default: return bottom + rng_.below(top - bottom + 1);
    }
  }

  // One allocation by the calling fiber, checked; the segment is held.
  Held take(int c, bool by_helper) {
    const bool zero = rng_.chance(0.5);
    const std::size_t bytes = draw_bytes(c);
    const std::uint64_t zeroings_before = zeroings();
    Result<Segment> got = zero ? allocator_.allocate(bytes) : allocator_.allocate_uninitialized(bytes);
    if (!got.ok()) fail("cache-policy", fmt::format("allocate({}) refused: {}", bytes, got.error().describe()));
    // Only this fiber runs (a helper runs while the episode waits for it):
    // allocate_uninitialized zeroes nothing — its caller overwrites every
    // byte, so a zeroing there is only time lost — and allocate at most once.
    if (const std::uint64_t zeroed = zeroings() - zeroings_before; zeroed > (zero ? 1u : 0u)) {
      fail("zero-on-allocate", fmt::format("{}({}) zeroed {} time(s) by stats(): {}",
                                           zero ? "allocate" : "allocate_uninitialized", bytes, zeroed,
                                           zero ? "once at most" : "it zeroes nothing"));
    }
    ++handed_out_;
    const Segment segment = got.value();
    if (segment.size_class() != c) {
      fail("cache-policy", fmt::format("allocate({}) handed out class {}, not {}", bytes, segment.size_class(), c));
    }
    if (zero) {
      if (const auto at = first_nonzero_word(segment.data(), segment.size())) {
        fail("zero-on-allocate", fmt::format("a zeroed {}-byte segment reads non-zero at byte {}", segment.size(), *at));
      }
    }
    const auto fill = static_cast<std::uint8_t>(1 + rng_.below(255));
    std::memset(segment.data(), fill, segment.size());
    if (!by_helper) model_.allocated(c, segment, stats());
    return Held{segment, fill, false};
  }
  void allocate(int c) { held_.push_back(take(c, false)); }

  void release(std::size_t i) {
    const Held held = held_[i];
    held_[i] = held_.back();
    held_.pop_back();
    const std::byte* data = held.segment.data();
    for (std::size_t off = 0; off < held.segment.size(); off += 512) {
      if (data[off] != std::byte{held.fill}) {
        fail("content", fmt::format("a held {}-byte segment reads {:#04x} at byte {}; {:#04x} was written",
                                    held.segment.size(), static_cast<unsigned>(data[off]), off, held.fill));
      }
    }
    const Status status = allocator_.release(held.segment);
    if (!status.ok()) fail("cache-policy", fmt::format("release of a live handle refused: {}", status.error().describe()));
    ++released_;
    model_.released(held.segment, held.other_cache, stats());
    stale_.push_back(held.segment);
    if (stale_.size() > kMaxStale) stale_.erase(stale_.begin());
  }

  void release_stale() {
    if (stale_.empty()) return;
    const Segment stale = stale_[rng_.below(stale_.size())];
    const AllocatorStats before = stats();
    const Status status = allocator_.release(stale);
    if (status.ok() || status.error().code != Errc::DoubleFree) {
      fail("cache-policy", fmt::format("a stale release answered {}; DoubleFree was due",
                                       outcome_text(status, "ok")));
    }
    model_.refused(before, stats());
  }

  // Past a class cache's capacity and back: the releases spill.
  void burst() {
    const int c = draw_class();
    const std::size_t n = std::min<std::size_t>(kMaxBurst, model_.capacity(c) + 1 + rng_.below(4));
    const std::size_t first = held_.size();
    for (std::size_t k = 0; k < n; ++k) allocate(c);
    while (held_.size() > first) release(first + rng_.below(held_.size() - first));
  }

  // Another fiber allocates from the same allocator, hands its segments over
  // and flushes its cache: the episode's releases of them are remote.
  void helper() {
    const std::size_t n = std::min(kMaxHeld - held_.size(), 1 + rng_.below(kMaxHelperSegments));
    if (n == 0) return;
    struct Shared {
      platform::Mutex mu;
      platform::CondVar cv;
      bool done = false;
      std::vector<Held> segments;
    };
    auto shared = std::make_shared<Shared>();
    stack_.simulation.spawn("cache-policy-helper", [this, shared, n] {
      for (std::size_t k = 0; k < n; ++k) {
        const std::uint64_t hits = allocator_.stats().cache_hits;
        Held held = take(draw_class(), true);
        held.other_cache = allocator_.stats().cache_hits != hits;  // its own cache handed it out
        shared->segments.push_back(held);
      }
      allocator_.flush_thread_cache();
      platform::LockGuard guard(shared->mu);
      shared->done = true;
      shared->cv.notify_all();
    });
    {
      platform::UniqueLock lock(shared->mu);
      shared->cv.wait(lock, [&] { return shared->done; });
    }
    for (const Held& held : shared->segments) held_.push_back(held);
    model_.others_ran(stats(), shared->segments.size());
  }

  Stack& stack_;
  sim::Rng& rng_;
  SegmentAllocator& allocator_;
  CallCounter* counter_;
  CachePolicyModel model_;
  std::vector<Held> held_;
  std::vector<Segment> stale_;
  std::uint64_t handed_out_ = 0, released_ = 0;
};

}  // namespace
}  // namespace cache_policy_episode

void run_cache_policy_episode(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // the model predicts a cache no fault point steers
  auto os = make_episode_os(stack, rng, std::size_t{64} << 20, "cache-policy");
  SegmentAllocatorConfig config;
  config.region_bytes = draw_one<std::size_t>(rng, {std::size_t{256} << 10, std::size_t{1} << 20});
  config.budget_bytes = cache_policy_episode::kEpisodeBudgetBytes;
  config.proactive_cleanup = false;  // no async task empties the cache behind the model
  // From one slice per class (4 KiB) to 32 of every class (8 MiB).
  config.thread_cache_bytes = draw_one<std::size_t>(rng, {4096, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 8 << 20});
  // The limit on all caches: one largest slice (releases pass it often) to the default.
  config.thread_caches_max_bytes = draw_one<std::size_t>(rng, {256 << 10, 512 << 10, 1 << 20, 8 << 20});
  // Observed, the hit paths run out of line and tell the observer (allocate_hit_observed).
  cache_policy_episode::CallCounter counter;
  const bool observed = rng.chance(0.5);
  if (observed) config.observer = &counter;
  auto allocator = make_episode_allocator(stack, *os, config, "cache-policy");
  cache_policy_episode::Episode episode(stack, rng, *allocator, observed ? &counter : nullptr);
  episode.run(120 + static_cast<std::uint32_t>(rng.below(120)));
}

}  // namespace segsim::scenarios
