// The magazine-policy episode: see magazine_policy_episode.h.
#include "scenarios/workloads/magazine_policy_episode.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/slab_allocator.h"
#include "scenarios/oracles/magazine_policy.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/swarm.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

// Named: a unity build puts this file beside slab_churn.cpp's own helpers.
namespace magazine_policy_episode {
namespace {

constexpr std::size_t kMaxHeld = 400;         // objects held between calls (bursts of a few magazines)
constexpr std::uint32_t kMaxCalls = 40'000;   // allocations and frees in all
constexpr std::size_t kMaxStale = 4;
constexpr std::size_t kEpisodeBudgetBytes = std::size_t{64} << 20;  // far above what the held objects need

struct Held {
  SlabObject object;
  std::uint8_t fill = 0;
};

class Episode {
 public:
  Episode(Stack& stack, sim::Rng& rng, SlabAllocator& slab)
      : stack_(stack), rng_(rng), slab_(slab), model_(stack.oracles, slab.config()) {}

  void run() {
    // A flush before any call: the episode's one caller has no cache of this
    // new allocator, and a flush gives it none.
    slab_.flush_thread_cache();
    if (const std::size_t caches = slab_.stats().thread_caches; caches != 0) {
      fail(fmt::format("a flush by a caller with no cache of a new allocator left {} thread cache(s)", caches));
    }
    // Two or three classes take the phases, so each sees windows of exchanges.
    std::vector<int> classes;
    const std::size_t n_classes = 2 + rng_.below(2);
    for (std::size_t k = 0; k < n_classes; ++k) classes.push_back(static_cast<int>(rng_.below(kSlabClassCount)));
    const std::uint32_t phases = 12 + static_cast<std::uint32_t>(rng_.below(24));
    for (std::uint32_t p = 0; p < phases && calls_ < kMaxCalls; ++p) {
      const int c = classes[rng_.below(classes.size())];
      switch (rng_.below(8)) {
        case 0:
        case 1: hot(c); break;
        case 2:
        case 3: cold(c); break;
        case 4: walk(c); break;
        case 5: refusals(); break;
        case 6: edge(c); break;
        default: flush(); break;
      }
    }
    // With objects live too: the audit's recount of live generation words is
    // only tested while some are (at quiescence every count is 0).
    if (const std::vector<std::string> audit = slab_.audit(); !audit.empty()) {
      fail(fmt::format("the episode's allocator audits, {} object(s) held: {}", held_.size(), audit.front()));
    }
    while (!held_.empty()) release(held_.size() - 1);
    flush();
    const std::vector<std::string> audit = slab_.audit();
    if (!audit.empty()) fail(fmt::format("the episode's allocator audits: {}", audit.front()));
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    stack_.oracles.fail("magazine-policy", fmt::format("magazine-policy episode: {}", what));
  }
  std::uint32_t capacity(int c) const { return model_.capacity(c); }

  // A size of slab class `c`: its edges first.
  std::size_t draw_bytes(int c) {
    const std::size_t top = kSlabClassBytes[static_cast<std::size_t>(c)];
    const std::size_t bottom = c == 0 ? 1 : kSlabClassBytes[static_cast<std::size_t>(c - 1)] + 1;
    switch (rng_.below(4)) {
      case 0: return top;
      case 1: return bottom;
      default: return bottom + rng_.below(top - bottom + 1);
    }
  }

  void allocate(int c) {
    if (held_.size() >= kMaxHeld) return;
    ++calls_;
    const std::size_t bytes = draw_bytes(c);
    Result<SlabObject> got = slab_.allocate(bytes);
    if (!got.ok()) fail(fmt::format("allocate({}) refused: {}", bytes, got.error().describe()));
    const SlabObject object = got.value();
    if (object.size_class() != c) fail(fmt::format("allocate({}) handed out class {}, not {}", bytes, object.size_class(), c));
    model_.allocated(c, object, slab_.stats());
    const auto fill = static_cast<std::uint8_t>(1 + rng_.below(255));
    std::fill_n(object.data(), kSlabClassBytes[static_cast<std::size_t>(c)], std::byte{fill});
    held_.push_back(Held{object, fill});
  }

  // Frees held_[i] (by handle or by address), checking its bytes first.
  void release(std::size_t i) {
    ++calls_;
    const Held held = held_[i];
    held_[i] = held_.back();
    held_.pop_back();
    const int c = held.object.size_class();
    const std::size_t bytes = kSlabClassBytes[static_cast<std::size_t>(c)];
    const std::byte* data = held.object.data();
    for (std::size_t off = 0; off < bytes; off += 61) {
      if (data[off] != std::byte{held.fill}) {
        stack_.oracles.fail("content", fmt::format("magazine-policy episode: a held {}-byte object reads {:#04x} at "
                                                   "byte {}; {:#04x} was written",
                                                   bytes, static_cast<unsigned>(data[off]), off, held.fill));
      }
    }
    const Status status = rng_.chance(0.5) ? slab_.free(held.object) : slab_.free(held.object.data(), bytes);
    if (!status.ok()) fail(fmt::format("free of a live object refused: {}", status.error().describe()));
    model_.freed(c, data, slab_.stats());
    stale_.push_back(held.object);
    if (stale_.size() > kMaxStale) stale_.erase(stale_.begin());
  }
  void release_newest_of(int c) {
    for (std::size_t i = held_.size(); i-- > 0;) {
      if (held_[i].object.size_class() == c) return release(i);
    }
  }
  std::size_t held_of(int c) const {
    return static_cast<std::size_t>(
        std::count_if(held_.begin(), held_.end(), [c](const Held& h) { return h.object.size_class() == c; }));
  }

  // Traffic through the depot: past two magazines and back, a few times.
  void hot(int c) {
    const std::uint32_t rounds = 2 + static_cast<std::uint32_t>(rng_.below(6));
    for (std::uint32_t r = 0; r < rounds; ++r) {
      const std::size_t n = 2 * std::size_t{capacity(c)} + rng_.below(2 * std::size_t{capacity(c)} + 2);
      for (std::size_t k = 0; k < n; ++k) allocate(c);
      while (held_of(c) > 0) release_newest_of(c);
    }
  }
  // Rounds of many operations the magazines serve, each ended by a burst
  // that needs the depot (about four exchanges). More than a window of
  // exchanges, each after more than 16 magazines' worth of calls: the
  // capacity shrinks (a burst's own exchanges come fast, so the rounds run
  // 48 to 80 magazines' worth of allocate-free pairs).
  void cold(int c) {
    const std::uint32_t rounds = 5 + static_cast<std::uint32_t>(rng_.below(4));
    for (std::uint32_t r = 0; r < rounds && calls_ < kMaxCalls; ++r) {
      const std::size_t pairs = std::size_t{capacity(c)} * (48 + rng_.below(33));
      for (std::size_t k = 0; k < pairs && calls_ < kMaxCalls; ++k) {
        allocate(c);
        release_newest_of(c);
      }
      const std::size_t n = 2 * std::size_t{capacity(c)} + 1;
      for (std::size_t k = 0; k < n; ++k) allocate(c);
      while (held_of(c) > 0) release(held_.size() - 1 - rng_.below(std::min<std::size_t>(held_.size(), 3)));
    }
  }
  // One exchange of class `c` that costs one operation: after a flush both
  // magazines are empty, so the next allocation goes to the depot; its
  // object goes back at once (a fast free: the magazine just loaded has room).
  void exchange_once(int c) {
    flush();
    allocate(c);
    release_newest_of(c);
  }
  // A window of exchanges that ends exactly on one of the capacity policy's
  // edges (slab_allocator.h, "Magazine capacity"): the operations per
  // exchange at twice the capacity (grows) or one more (does not), at
  // sixteen times it (does not shrink) or one more (shrinks). The model
  // says which, and the next check holds the allocator to it. Steered with
  // the model's window: exchanges of one operation up to the window's last,
  // allocate-free pairs (fast, two operations, no magazine changed) to the
  // count due, and the last exchange.
  void edge(int c) {
    if (!model_.adaptive() || held_.size() + 2 >= kMaxHeld) return;
    for (std::uint32_t e = 0; e <= kMagazineAdaptWindow && model_.window_exchanges(c) != kMagazineAdaptWindow - 1; ++e) {
      exchange_once(c);
    }
    const std::uint64_t cap = capacity(c);
    const bool shrink_edge = cap <= 16 && rng_.chance(0.5);  // 16 x a larger capacity costs too many calls
    const std::uint64_t per_exchange = (shrink_edge ? 16 * cap : 2 * cap) + rng_.below(2);
    // The last exchange's own allocation counts too (the flush before it does not).
    const std::uint64_t so_far = model_.window_ops(c) + 1;
    // Any count of the 16 that divide to per_exchange, of the parity pairs can reach.
    std::uint64_t due = per_exchange * kMagazineAdaptWindow + rng_.below(kMagazineAdaptWindow);
    if ((due - so_far) % 2 != 0) due = due % kMagazineAdaptWindow == kMagazineAdaptWindow - 1 ? due - 1 : due + 1;
    if (due < so_far || calls_ + (due - so_far) + 4 >= kMaxCalls) return;  // past the edge already, or no calls left
    for (std::uint64_t pad = so_far; pad < due; pad += 2) {
      allocate(c);
      release_newest_of(c);
    }
    exchange_once(c);
  }
  // Random allocations and frees of one class, any held object freed.
  void walk(int c) {
    const std::uint32_t steps = 20 + static_cast<std::uint32_t>(rng_.below(200));
    const double allocate_share = draw_one<double>(rng_, {0.3, 0.5, 0.7});
    for (std::uint32_t s = 0; s < steps; ++s) {
      if (held_.empty() || rng_.chance(allocate_share)) {
        allocate(c);
      } else {
        release(rng_.below(held_.size()));
      }
    }
  }
  // Refused frees change nothing: a stale handle, the null handle, an address no object starts at.
  void refusals() {
    if (!stale_.empty()) {
      const SlabObject stale = stale_[rng_.below(stale_.size())];
      const Status status = slab_.free(stale);
      if (status.ok() || status.error().code != Errc::DoubleFree) {
        fail(fmt::format("a stale free answered {}; DoubleFree was due",
                         outcome_text(status, "ok")));
      }
      model_.refused("stale free", slab_.stats());
    }
    const Status null_free = slab_.free(SlabObject{});
    if (null_free.ok() || null_free.error().code != Errc::InvalidPointer) {
      fail(fmt::format("a free of the null handle answered {}; InvalidPointer was due",
                       outcome_text(null_free, "ok")));
    }
    model_.refused("null free", slab_.stats());
  }
  void flush() {
    slab_.flush_thread_cache();
    model_.flushed(slab_.stats());
  }

  Stack& stack_;
  sim::Rng& rng_;
  SlabAllocator& slab_;
  MagazinePolicyModel model_;
  std::vector<Held> held_;
  std::vector<SlabObject> stale_;
  std::uint32_t calls_ = 0;
};

}  // namespace
}  // namespace magazine_policy_episode

void run_magazine_policy_episode(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // the model predicts magazines no fault point steers
  auto os = make_episode_os(stack, rng, std::size_t{128} << 20, "magazine-policy");
  SegmentAllocatorConfig segment_config;
  segment_config.budget_bytes = magazine_policy_episode::kEpisodeBudgetBytes;
  segment_config.proactive_cleanup = false;
  auto segments = make_episode_allocator(stack, *os, segment_config, "magazine-policy");
  SlabAllocatorConfig config;
  config.slab_bytes = std::size_t{4096} << (2 * rng.below(3));  // 4, 16 or 64 KiB
  const bool small = rng.chance(0.7);  // small magazines: windows of exchanges come fast
  for (auto& capacity : config.magazine_capacity) {
    capacity = small ? 1 + static_cast<std::uint32_t>(rng.below(8)) : draw_one<std::uint32_t>(rng, {16, 24, 33, 64});
  }
  config.adaptive_magazines = rng.chance(0.8);
  config.depot_full_magazines_max = rng.below(4);
  config.empty_slabs_kept = rng.below(3);
  auto slab = SlabAllocator::create(*segments, config);
  if (!slab.ok()) stack.oracles.fail("exception", "magazine-policy episode: slab: " + slab.error().describe());
  magazine_policy_episode::Episode episode(stack, rng, *slab.value());
  episode.run();
}

}  // namespace segsim::scenarios
