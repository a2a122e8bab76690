// The decommit-policy episode: see decommit_policy_episode.h.
#include "scenarios/workloads/decommit_policy_episode.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/large_object_allocator.h"
#include "core/platform/clock.h"
#include "core/platform/runtime.h"
#include "core/pressure_actions.h"
#include "core/units.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/decommit_policy.h"
#include "scenarios/oracles/os_ledger.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/manual_clock.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

// Named: a unity build puts this file beside large_objects.cpp's and pressure.cpp's own helpers.
namespace decommit_policy_episode {
namespace {

constexpr std::size_t kGranuleBytes = 64 * KiB;
constexpr std::size_t kMinGranules = 5;  // 320 KiB: the smallest large object rounded up
constexpr std::size_t kMaxGranules = 8;
constexpr std::size_t kEpisodeBudgetBytes = 64 * MiB;  // far above the two or three spans filled

enum Op : std::size_t { kRelease, kReallocate, kSleep, kDecommit, kAction, kOpCount };

class Episode {
 public:
  Episode(Stack& stack, sim::Rng& rng, ManualClock& clock, const faults::SimOs& os, LargeObjectAllocator& large)
      : stack_(stack), rng_(rng), clock_(clock), os_(os), large_(large), actions_(StackPressureTargets{.large = &large, .refuse_arenas = {}}),
        model_(stack.oracles, large.config()) {}

  // Spans filled exactly by `slot_bytes` (an odd count): the even slots stay
  // live for the whole episode, the odd ones are released and taken again.
  void fill(std::size_t spans, const std::vector<std::size_t>& slot_bytes) {
    for (std::size_t span = 0; span < spans; ++span) {
      for (std::size_t i = 0; i < slot_bytes.size(); ++i) {
        const LargeObject object = allocate(slot_bytes[i]);
        (i % 2 == 0 ? pillars_ : held_).push_back(object);
      }
    }
  }

  void run(std::uint32_t calls) {
    const OpMix mix(rng_, kOpCount, {kRelease, kReallocate, kSleep, kAction});
    for (std::uint32_t n = 0; n < calls; ++n) {
      switch (static_cast<Op>(mix.pick(rng_))) {
        case kRelease:
          if (rng_.chance(0.5)) sleep(draw_sleep());
          release_one();
          break;
        case kReallocate: reallocate(); break;
        case kSleep: sleep(draw_sleep()); break;
        case kDecommit: decommit(); break;
        case kAction: act(); break;
        case kOpCount: break;
      }
    }
    coalesce_drill();
    const std::vector<std::string> audit = large_.audit();
    if (!audit.empty()) stack_.oracles.fail("accounting", "decommit-policy episode: the allocator audits: " + audit.front());
  }

 private:
  static std::int64_t now() { return platform::now_ns(); }
  static void sleep(std::int64_t ns) {
    if (ns > 0) platform::sleep_for_ns(ns);
  }
  std::int64_t ns_around(std::int64_t at) { return at - 1 + static_cast<std::int64_t>(rng_.below(3)); }
  std::vector<DecommitPolicyModel::FreeRange> dirty_ranges() const {
    std::vector<DecommitPolicyModel::FreeRange> dirty;
    for (const auto& range : model_.free_ranges()) {
      if (!range.clean) dirty.push_back(range);
    }
    return dirty;
  }
  std::int64_t random_dirty_idle_since() {
    const std::vector<DecommitPolicyModel::FreeRange> dirty = dirty_ranges();
    return dirty.empty() ? now() : dirty[rng_.below(dirty.size())].idle_since;
  }

  // Sleeps biased to the policy's edges: the next check and a range's decommit time, ±1 ns.
  std::int64_t draw_sleep() {
    const LargeObjectAllocatorConfig& c = large_.config();
    const std::int64_t scale = std::max({c.decommit_after_ns, c.decommit_check_interval_ns, std::int64_t{1000}});
    switch (rng_.below(6)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return ns_around(model_.next_check_ns() - now());
      case 3: return ns_around(random_dirty_idle_since() + c.decommit_after_ns - now());
      case 4: return rng_.chance(0.5) ? c.decommit_after_ns : c.decommit_check_interval_ns;
      default: return static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(2 * scale) + 1));
    }
  }

  LargeObject allocate(std::size_t bytes) {
    const bool zeroed = rng_.chance(0.5);
    Result<LargeObject> got = zeroed ? large_.allocate(bytes) : large_.allocate_uninitialized(bytes);
    if (!got.ok()) {
      stack_.oracles.fail("decommit-policy", fmt::format("decommit-policy episode: allocate({}) refused: {}", bytes,
                                                         got.error().describe()));
    }
    // Zeroed exactly when dirty: a clean range (known zero) is not written at
    // all — nothing else touches the episode's memory, so its pages stay
    // dropped. A memset of one costs its every page faulted in.
    if (model_.allocated(got.value(), zeroed, now(), large_.stats())) {
      const std::optional<std::size_t> resident = os_.resident_pages(got.value().data(), got.value().size());
      if (resident.value_or(0) != 0) {
        stack_.oracles.fail("decommit-policy",
                            fmt::format("decommit-policy episode: {}({}) took a clean range (a fresh span's or a "
                                        "decommitted one) and wrote it: {} of its pages resident after the call",
                                        zeroed ? "allocate" : "allocate_uninitialized", bytes, *resident));
      }
    }
    return got.value();
  }

  void release_one() {
    if (held_.empty()) return;
    const std::size_t i = rng_.below(held_.size());
    const LargeObject object = held_[i];
    held_[i] = held_.back();
    held_.pop_back();
    const Status status = large_.release(object);
    if (!status.ok()) {
      stack_.oracles.fail("decommit-policy", "decommit-policy episode: release of a live object refused: " +
                                                 status.error().describe());
    }
    model_.released(object, now(), large_.stats());
  }

  // The smallest free range, taken whole (best fit): a released slot between two live ones.
  void reallocate() {
    if (const std::optional<std::size_t> bytes = model_.smallest_free_bytes()) {
      held_.push_back(allocate(std::min(*bytes, large_.config().max_object_bytes)));  // a coalesced range: its start
    }
  }

  void decommit() {
    const std::int64_t after = large_.config().decommit_after_ns;
    std::int64_t min_idle = 0;
    switch (rng_.below(5)) {
      case 0: min_idle = static_cast<std::int64_t>(rng_.below(2)); break;  // 0 (every dirty range) or 1
      case 1: min_idle = after; break;
      case 2:
      case 3: min_idle = ns_around(now() - random_dirty_idle_since()); break;  // a range's idle time ±1
      default: min_idle = 2 * after + 1 + static_cast<std::int64_t>(rng_.below(1000)); break;
    }
    min_idle = std::max<std::int64_t>(min_idle, 0);
    const std::size_t returned = large_.decommit_idle(min_idle);
    model_.decommitted(min_idle, returned, now(), large_.stats());
  }

  // A pillar beside a dirty range released while a pass decommits that range
  // with its lock dropped (the fault point large.decommit.slow, fired once):
  // the two come back as one range, dirty, idle since the release — its
  // newer part's time. Then a held object beside the merged range released:
  // it merges with the older range before or after it. A pass that asks for
  // just more idle time than the last release's must leave the range. Once
  // per episode: every span keeps a live pillar.
  void coalesce_drill() {
    release_one();
    const std::vector<DecommitPolicyModel::FreeRange> dirty = dirty_ranges();
    if (dirty.empty()) return;
    // (dirty range, pillar beside it) pairs; those with a held object beyond
    // the pillar first, so that the later release merges with the range from
    // either side.
    struct Pair {
      DecommitPolicyModel::FreeRange target;
      std::size_t pillar;
    };
    std::vector<Pair> pairs, with_held_beyond;
    for (const auto& target : dirty) {
      for (std::size_t i = 0; i < pillars_.size(); ++i) {
        const LargeObject& p = pillars_[i];
        if (p.span_id() != target.span) continue;
        const bool after = target.offset + target.bytes == p.offset();
        if (!after && p.offset() + p.size() != target.offset) continue;
        pairs.push_back(Pair{target, i});
        const bool held_beyond = std::any_of(held_.begin(), held_.end(), [&](const LargeObject& h) {
          return h.span_id() == p.span_id() &&
                 (after ? h.offset() == p.offset() + p.size() : h.offset() + h.size() == p.offset());
        });
        if (held_beyond) with_held_beyond.push_back(pairs.back());
      }
    }
    const std::vector<Pair>& from = with_held_beyond.empty() ? pairs : with_held_beyond;
    if (from.empty()) return;
    const Pair pick = from[rng_.below(from.size())];
    const DecommitPolicyModel::FreeRange target = pick.target;
    const LargeObject pillar = pillars_[pick.pillar];
    pillars_.erase(pillars_.begin() + static_cast<std::ptrdiff_t>(pick.pillar));
    sleep(1 + static_cast<std::int64_t>(rng_.below(3)));
    const std::int64_t min_idle = now() - target.idle_since;  // the target, and every range idle longer
    const std::int64_t started = now();
    std::int64_t released_at = -1;
    std::size_t returned = 0;
    {
      fault_points::FireSites slow(fault_points::FireSites::Times::FirstAskOnly,
                                    {fault_points::id_of("large.decommit.slow")});
      fault_points::ControllerScope only_this(&slow);
      clock_.after_next_sleep([&] {
        released_at = now();
        const Status status = large_.release(pillar);
        if (!status.ok()) {
          stack_.oracles.fail("decommit-policy", "decommit-policy episode: a release during a decommit's advise was "
                                                 "refused: " + status.error().describe());
        }
      });
      returned = large_.decommit_idle(min_idle);
      clock_.after_next_sleep(nullptr);
    }
    if (released_at < 0) {
      stack_.oracles.fail("decommit-policy", fmt::format("decommit-policy episode: decommit_idle({}) with a dirty range "
                                                         "idle that long never reached its slow advise", min_idle));
    }
    model_.decommitted_around(min_idle, returned, started, pillar, released_at, large_.stats());
    sleep(1 + static_cast<std::int64_t>(rng_.below(1000)));
    std::int64_t newest = released_at;
    if (release_beside_a_free_range()) newest = now();
    sleep(static_cast<std::int64_t>(rng_.below(3)) * (1 + static_cast<std::int64_t>(rng_.below(1000))));
    const std::int64_t min_left = now() - newest + 1;
    const std::size_t left = large_.decommit_idle(min_left);
    model_.decommitted(min_left, left, now(), large_.stats());
  }

  // Releases a held object with a free range just before or after it; whether one was.
  bool release_beside_a_free_range() {
    const std::vector<DecommitPolicyModel::FreeRange> free = model_.free_ranges();
    std::vector<std::size_t> beside;
    for (std::size_t i = 0; i < held_.size(); ++i) {
      const LargeObject& h = held_[i];
      for (const auto& range : free) {
        if (range.span == h.span_id() &&
            (range.offset + range.bytes == h.offset() || h.offset() + h.size() == range.offset)) {
          beside.push_back(i);
          break;
        }
      }
    }
    if (beside.empty()) return false;
    const std::size_t i = beside[rng_.below(beside.size())];
    const LargeObject object = held_[i];
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
    const Status status = large_.release(object);
    if (!status.ok()) {
      stack_.oracles.fail("decommit-policy", "decommit-policy episode: release of a live object refused: " +
                                                 status.error().describe());
    }
    model_.released(object, now(), large_.stats());
    return true;
  }

  // An action, often in the nanosecond of a release: no range may stay dirty because it is new.
  void act() {
    if (rng_.chance(0.7)) release_one();
    const auto action = static_cast<DecommitPolicyModel::Action>(rng_.below(3));
    switch (action) {
      case DecommitPolicyModel::Action::Gentle: actions_.gentle_eviction(); break;
      case DecommitPolicyModel::Action::Aggressive: actions_.aggressive_eviction(); break;
      case DecommitPolicyModel::Action::Emergency: actions_.emergency_cleanup(); break;
    }
    model_.acted(action, now(), large_.stats());
  }

  Stack& stack_;
  sim::Rng& rng_;
  ManualClock& clock_;
  const faults::SimOs& os_;
  LargeObjectAllocator& large_;
  StackPressureActions actions_;
  DecommitPolicyModel model_;
  std::vector<LargeObject> pillars_;  // live all along but one (coalesce_drill): free ranges stay apart till then
  std::vector<LargeObject> held_;     // live, between two pillars (or a pillar and the span's end)
};

}  // namespace
}  // namespace decommit_policy_episode

void run_decommit_policy_episode(Stack& stack, sim::Rng& rng) {
  using namespace decommit_policy_episode;
  fault_points::ControllerScope quiet(nullptr);  // the model predicts a decommit no fault point delays
  // One span's slots: an odd count of objects of 5–8 granules; spans are exactly that long.
  std::vector<std::size_t> slot_bytes(3 + 2 * rng.below(3));
  for (std::size_t& bytes : slot_bytes) bytes = kGranuleBytes * (kMinGranules + rng.below(kMaxGranules - kMinGranules + 1));
  LargeObjectAllocatorConfig config;
  config.granule_bytes = kGranuleBytes;
  config.max_object_bytes = kGranuleBytes * kMaxGranules;
  config.span_bytes = 0;
  for (std::size_t bytes : slot_bytes) config.span_bytes += bytes;
  config.budget_bytes = kEpisodeBudgetBytes;
  config.fit = FitPolicy::BestFit;  // a request of the smallest free range's size takes it whole
  config.huge_pages = false;
  config.decommit_after_ns = draw_one<std::int64_t>(rng, {0, 1, 1'000, 20'000, 1'000'000, 1'000'000'000});
  // 0: release() never decommits by itself.
  config.decommit_check_interval_ns = draw_one<std::int64_t>(rng, {0, 0, 1, 1'000, 20'000, 1'000'000});
  const std::size_t spans = 2 + rng.below(2);
  const auto calls = 60 + static_cast<std::uint32_t>(rng.below(90));

  ManualClock clock(0, [&stack](const std::string& what) {
    stack.oracles.fail("decommit-policy", "decommit-policy episode: " + what);
  });
  platform::RuntimeScope on_the_clock(&clock);  // everything private lives and dies inside it
  const std::unique_ptr<faults::SimOs> os = make_episode_os(stack, rng, 32 * MiB, "decommit-policy");
  OsLedgerOs ledger_os(*os);  // the destructor's unmaps, judged below
  auto large = LargeObjectAllocator::create(ledger_os, config);
  if (!large.ok()) stack.oracles.fail("exception", "decommit-policy episode: allocator: " + large.error().describe());
  {
    Episode episode(stack, rng, clock, *os, *large.value());
    episode.fill(spans, slot_bytes);
    episode.run(calls);
  }
  // Its spans still mapped (free, some decommitted) go back with the allocator.
  const OsLedger before = ledger_os.ledger();
  large.value().reset();
  if (std::string problem = teardown_unmapped_problem("~LargeObjectAllocator", "span(s)", before, ledger_os.ledger());
      !problem.empty()) {
    stack.oracles.fail("teardown-unmapped", "decommit-policy episode: " + problem);
  }
}

}  // namespace segsim::scenarios
