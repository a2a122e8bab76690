// The region table drill: see region_table_drill.h.
#include "scenarios/workloads/region_table_drill.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/flight_recorder_regions.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace region_table_drill {
namespace {

using flight_recorder::detail::forget_region;
using flight_recorder::detail::kRegionTableEntries;
using flight_recorder::detail::note_region_mapped;
using flight_recorder::detail::region_base;
using flight_recorder::detail::region_entry;
using flight_recorder::detail::region_home_entry;
using flight_recorder::detail::region_max_displacement;

constexpr std::size_t kMinClusters = 1;
constexpr std::size_t kMaxClusters = 3;
// Keys of one cluster: 2–4 share its home entry, 0–2 the entry after it,
// and one more of its home is never noted (its search must come back empty).
constexpr std::size_t kMinSameHome = 2;
constexpr std::size_t kMaxSameHome = 4;
constexpr std::size_t kMaxNextHome = 2;
constexpr std::size_t kMinSteps = 24;
constexpr std::size_t kMaxSteps = 48;
// The hash visits every entry within a few table sizes of consecutive ids.
constexpr std::uint32_t kSearchLimit = 64 * kRegionTableEntries;
// Bases the drill notes: distinct, never 0, never a mapping of this process's.
constexpr std::uintptr_t kFirstBase = 0x5e9000000000;
constexpr std::uintptr_t kBaseStep = 0x40000;

constexpr std::size_t kClaimSite = fault_points::id_of("recorder.regions.claim.yield");
// The racing X's home run: its home and the entries after it, each taken by a
// key homed there (displacement 0), so X is placed this far from its home.
constexpr std::size_t kRacingDisplacement = 3;

// Where a key's search starts, relative to its cluster's home entry.
enum class Placement { Home, NextEntry, HomeNeverNoted, LaterEntry, Racing };

struct Key {
  std::uint32_t region = 0;
  std::size_t cluster = 0;
  Placement placement = Placement::Home;
  std::uintptr_t due = 0;  // the model: its last noted base, 0 when none or forgotten

  bool notable() const { return placement != Placement::HomeNeverNoted; }
};

const char* placement_text(Placement placement) {
  switch (placement) {
    case Placement::Home: return "homed at its cluster's entry";
    case Placement::NextEntry: return "homed at the entry after its cluster's";
    case Placement::HomeNeverNoted: return "homed at its cluster's entry, never noted";
    case Placement::LaterEntry: return "homed at a later entry of its cluster's run";
    case Placement::Racing: return "homed at its cluster's entry, placed while another placement was in flight";
  }
  return "?";
}

class Drill {
 public:
  Drill(Stack& stack, sim::Rng& rng, std::uint32_t allocator, std::uint32_t first_region)
      : stack_(stack), rng_(rng), allocator_(allocator), next_region_(first_region) {}

  void run() {
    race();
    const std::size_t clusters = kMinClusters + rng_.below(kMaxClusters - kMinClusters + 1);
    for (std::size_t n = 0; n < clusters; ++n) add_cluster();
    // Every notable key noted, in a shuffled order: each cluster's second key
    // of a home is displaced while the first is noted.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i].notable()) order.push_back(i);
    }
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng_.below(i)]);
    for (std::size_t i : order) note(i, "noted");
    const std::size_t steps = kMinSteps + rng_.below(kMaxSteps - kMinSteps + 1);
    for (std::size_t s = 0; s < steps; ++s) {
      const std::size_t i = order[rng_.below(order.size())];
      if (keys_[i].due == 0) {
        note(i, "noted anew");
      } else if (rng_.chance(0.5)) {
        note(i, "mapped again at another base");
      } else {
        forget(i);
      }
    }
    for (std::size_t i : order) {
      if (keys_[i].due != 0) forget(i);
    }
  }

 private:
  // Placements in flight at once: at the fault point where a key has claimed
  // its entry and read the farthest placement but published neither, "another
  // thread" (ActOnce) places its own key. Each key must then be found.
  //  * Farther first: X, homed where three entries in a row are taken by
  //    keys homed at each (displacement 0: the farthest placement stays 0 in
  //    a process where no key was displaced yet, as at a worker's first
  //    seed), is placed 3 from its home; meanwhile Y, behind one key of its
  //    own home, is placed 1 from it. The farthest placement must end at 3,
  //    or a search for X stops short.
  //  * Same home: W claims its home entry; meanwhile Z of the same home is
  //    placed. Z must not take W's claimed entry (W's publication would then
  //    overwrite Z's base and key).
  // All six keys are forgotten at the end (the run's steps may note them again).
  void race() {
    const std::size_t x_cluster = clusters_++;
    const std::uint32_t x_home_key = next_region_++;
    const std::size_t x_home = region_home_entry(allocator_, x_home_key);
    std::vector<std::size_t> racing{keys_.size()};
    keys_.push_back(Key{x_home_key, x_cluster, Placement::Home, 0});
    for (std::size_t d = 1; d < kRacingDisplacement; ++d) {
      racing.push_back(keys_.size());
      keys_.push_back(Key{region_homed_at((x_home + d) % kRegionTableEntries), x_cluster, Placement::LaterEntry, 0});
    }
    const std::size_t x = keys_.size();
    keys_.push_back(Key{region_homed_at(x_home), x_cluster, Placement::Racing, 0});
    const std::size_t y_cluster = clusters_++;
    const std::uint32_t y_home_key = next_region_++;
    racing.push_back(keys_.size());
    keys_.push_back(Key{y_home_key, y_cluster, Placement::Home, 0});
    const std::size_t y = keys_.size();
    keys_.push_back(Key{region_homed_at(region_home_entry(allocator_, y_home_key)), y_cluster, Placement::Racing, 0});
    for (std::size_t i : racing) note(i, "noted");
    note_racing(x, [&] { note(y, "placed while key " + std::to_string(x) + "'s placement was in flight"); });

    const std::size_t w_cluster = clusters_++;
    const std::size_t w = keys_.size();
    const std::uint32_t w_key = next_region_++;
    keys_.push_back(Key{w_key, w_cluster, Placement::Racing, 0});
    const std::size_t z = keys_.size();
    keys_.push_back(Key{region_homed_at(region_home_entry(allocator_, w_key)), w_cluster, Placement::Racing, 0});
    note_racing(w, [&] { note(z, "placed while key " + std::to_string(w) + "'s placement was in flight"); });
    racing.insert(racing.end(), {x, y, w, z});
    for (std::size_t i : racing) forget(i);
  }
  // Notes key `i` while `meanwhile` runs at its placement's fault point.
  void note_racing(std::size_t i, std::function<void()> meanwhile) {
    const std::uintptr_t base = next_base_;
    next_base_ += kBaseStep;
    fault_points::ActOnce in_flight(kClaimSite, std::move(meanwhile));
    {
      fault_points::ControllerScope scope(&in_flight);
      note_region_mapped(allocator_, keys_[i].region, base);
    }
    if (!in_flight.acted()) {
      stack_.oracles.fail("exception", fmt::format("region table drill: key {}'s placement never reached its fault "
                                                   "point (recorder.regions.claim.yield)",
                                                   i));
    }
    keys_[i].due = base;  // only now: while in flight it is not yet published
    placed(i);
    check(i, "placed while another was placed");
  }

  // The next region id whose key's home entry is `entry`.
  std::uint32_t region_homed_at(std::size_t entry) {
    for (std::uint32_t tries = 0; tries < kSearchLimit; ++tries) {
      SEGSIM_ASSERT(next_region_ != UINT32_MAX, "the region table drill ran out of region ids");
      const std::uint32_t region = next_region_++;
      if (region_home_entry(allocator_, region) == entry) return region;
    }
    // No entry number in the text: an entry hangs on the allocator's id, which
    // hangs on what the process made before (the signature must not).
    stack_.oracles.fail("exception", fmt::format("region table drill: no region id of allocator {} among the next {} "
                                                 "has the home entry a cluster needs",
                                                 allocator_, kSearchLimit));
  }
  void add_key(std::size_t cluster, std::size_t home, Placement placement) {
    const std::size_t entry = placement == Placement::NextEntry ? (home + 1) % kRegionTableEntries : home;
    keys_.push_back(Key{region_homed_at(entry), cluster, placement, 0});
  }
  void add_cluster() {
    const std::size_t cluster = clusters_++;
    const std::uint32_t first = next_region_++;
    const std::size_t home = region_home_entry(allocator_, first);
    keys_.push_back(Key{first, cluster, Placement::Home, 0});
    for (std::size_t n = kMinSameHome - 1 + rng_.below(kMaxSameHome - kMinSameHome + 1); n > 0; --n) {
      add_key(cluster, home, Placement::Home);
    }
    for (std::size_t n = rng_.below(kMaxNextHome + 1); n > 0; --n) add_key(cluster, home, Placement::NextEntry);
    add_key(cluster, home, Placement::HomeNeverNoted);
  }

  void note(std::size_t i, const std::string& what) {
    keys_[i].due = next_base_;
    next_base_ += kBaseStep;
    note_region_mapped(allocator_, keys_[i].region, keys_[i].due);
    placed(i);
    check(i, what);
  }
  // The model of the farthest placement: only the drill places keys while
  // it runs (one fiber, at the run's end), so the table's farthest placement
  // grows to exactly the farthest of the drill's keys, from what it was.
  void placed(std::size_t i) {
    const std::size_t entry = region_entry(allocator_, keys_[i].region);
    if (entry >= kRegionTableEntries) return;  // a full table notes nothing
    farthest_ = std::max(farthest_, (entry - region_home_entry(allocator_, keys_[i].region)) & (kRegionTableEntries - 1));
  }
  void forget(std::size_t i) {
    keys_[i].due = 0;
    forget_region(allocator_, keys_[i].region);
    check(i, "forgotten");
  }

  // Every key reads as the model says, after step `what` on key `changed`.
  // The text names keys and bases by the drill's own numbering: the region
  // ids and entries depend on the allocator id the process hands out.
  void check(std::size_t changed, const std::string& what) {
    ++steps_;
    // No distances in the text: they hang on the process's allocator ids.
    if (const std::size_t farthest = region_max_displacement(); farthest != farthest_) {
      stack_.oracles.fail("recorder-addresses",
                          fmt::format("region table drill, step {} (key {} {}): region_max_displacement() is {} than "
                                      "the farthest any key was placed from its home entry",
                                      steps_, changed, what, farthest > farthest_ ? "farther" : "nearer"));
    }
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      const Key& key = keys_[i];
      const std::uintptr_t read = region_base(allocator_, key.region);
      if (read == key.due) {
        if (read != 0) check_home(i, changed, what);
        continue;
      }
      stack_.oracles.fail("recorder-addresses",
                          fmt::format("region table drill, step {} (key {} {}): key {} ({}, cluster {}) reads {}; due {} — "
                                      "{} keys in {} cluster(s)",
                                      steps_, changed, what, i, placement_text(key.placement), key.cluster,
                                      base_text(read), key.due == 0 ? "0 (none noted)" : base_text(key.due),
                                      keys_.size(), clusters_));
    }
  }
  // The drill's collisions are only as good as region_home_entry: a noted
  // key must sit within the farthest placement past the home entry it names
  // (else the drill's keys of "one home" need not collide at all). Entries
  // and distances are not printed: they hang on the process's allocator ids.
  void check_home(std::size_t i, std::size_t changed, const std::string& what) {
    const Key& key = keys_[i];
    const std::size_t entry = region_entry(allocator_, key.region);
    const std::size_t past_home = (entry - region_home_entry(allocator_, key.region)) & (kRegionTableEntries - 1);
    if (entry < kRegionTableEntries && past_home <= region_max_displacement()) return;
    stack_.oracles.fail("recorder-addresses",
                        fmt::format("region table drill, step {} (key {} {}): key {} ({}, cluster {}) is found, but "
                                    "not within the farthest placement past the home entry region_home_entry names "
                                    "for it",
                                    steps_, changed, what, i, placement_text(key.placement), key.cluster));
  }
  // The drill's bases by their number; anything else as "not a base the drill noted".
  static std::string base_text(std::uintptr_t base) {
    if (base == 0) return "0";
    if (base < kFirstBase || (base - kFirstBase) % kBaseStep != 0) return "a value the drill never noted";
    return fmt::format("base #{}", (base - kFirstBase) / kBaseStep);
  }

  Stack& stack_;
  sim::Rng& rng_;
  const std::uint32_t allocator_;
  std::uint32_t next_region_;
  std::uintptr_t next_base_ = kFirstBase;
  std::vector<Key> keys_;
  std::size_t steps_ = 0;
  std::size_t clusters_ = 0;
  std::size_t farthest_ = region_max_displacement();  // the model: see placed()
};

}  // namespace
}  // namespace region_table_drill

void run_region_table_drill(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);
  // A private allocator: an id no other allocator of the process has. It maps
  // nothing, and its region ids are below its table's slots (one region per
  // class, its budget being one region); the drill's are above.
  auto os = make_episode_os(stack, rng, std::size_t{1} << 20, "region-table");
  SegmentAllocatorConfig config;
  config.region_bytes = std::size_t{256} << 10;
  config.budget_bytes = config.region_bytes;
  config.thread_cache_bytes = 0;
  config.proactive_cleanup = false;
  auto allocator = make_episode_allocator(stack, *os, config, "region-table");
  const auto first_region = static_cast<std::uint32_t>(kSizeClassCount + rng.below(1u << 20));
  region_table_drill::Drill(stack, rng, allocator->id(), first_region).run();
}

}  // namespace segsim::scenarios
