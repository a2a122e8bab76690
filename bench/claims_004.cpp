// segsim_claims_004: measures seed 004's M002 and M004 claims (docs/claims.md).
//
// M002: N seeded demand traces (ramps, plateaus, spikes, noise; a pinned part
// and a reclaimable cache part that grows) are run for 600 s of virtual time
// under the simulator, sampled every second by the real PressureLoop and
// PressureForecaster — once with the loop's actions off (the forecast is
// judged against the unperturbed future) and once with them on (the actions
// shrink the cache part). Reported: +60 s forecast accuracy (within 5
// points), early-warning lead time before crossing 90 %, OOM prevention
// (runs that exceed the limit with actions off and do not with them on), and
// the false-positive rate of critical predictions.
// M004: a long mixed run of the real LargeObjectAllocator per fit policy:
// fragmentation ratio, coalesces, free-list hit rate.
//
//   segsim_claims_004 [RUNS]      (default 1000)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/large_object_allocator.h"
#include "core/linux_os.h"
#include "core/platform/clock.h"
#include "core/pressure_loop.h"
#include "sim/random.h"
#include "sim/simulation.h"

namespace segsim {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr int kRunSeconds = 600;
constexpr std::size_t kLimit = std::size_t{1} << 30;
constexpr double kCritical = 0.90;

struct Demand {
  std::vector<double> pinned;   // per second, fraction of the limit
  double cache_rate;            // cache growth per second, fraction of the limit
};

Demand draw_demand(std::uint64_t seed) {
  sim::Rng rng(sim::derive_seed(seed, "claims.m002"));
  Demand d;
  d.cache_rate = 0.001 + 0.006 * rng.unit();
  double level = 0.1 + 0.2 * rng.unit();
  while (static_cast<int>(d.pinned.size()) < kRunSeconds + 121) {
    const int length = 10 + static_cast<int>(rng.below(80));
    double target = level;
    switch (rng.below(4)) {
      case 0: target = 0.1 + 0.6 * rng.unit(); break;                    // ramp
      case 1: break;                                                     // plateau
      case 2: target = std::min(0.9, level + 0.15 + 0.3 * rng.unit());   // spike: short
              for (int i = 0; i < length / 4; ++i) d.pinned.push_back(target);
              target = level;
              break;
      default: target = 0.05 + 0.15 * rng.unit(); break;                // drop
    }
    for (int i = 0; i < length; ++i) {
      const double noise = (rng.unit() - 0.5) * 0.01;
      d.pinned.push_back(std::max(0.0, level + (target - level) * (i + 1) / length + noise));
    }
    level = target;
  }
  return d;
}

// The stack as the loop sees it: a pinned part and a reclaimable cache.
class ModelActions final : public PressureActions {
 public:
  explicit ModelActions(bool on) : on_(on) {}
  void gentle_eviction() override { if (on_) cache_ *= 0.9; }
  void aggressive_eviction() override { if (on_) cache_ *= 0.5; }
  void emergency_cleanup() override { if (on_) cache_ = 0; }
  void refuse_new_arenas(bool) override {}
  std::size_t reclaimable_bytes() const override { return static_cast<std::size_t>(cache_ * kLimit); }
  double cache_ = 0;

 private:
  bool on_;
};

struct Trace {
  std::vector<double> used;          // per second
  std::vector<PressureForecast> forecasts;
};

Trace run_trace(const Demand& demand, bool actions_on) {
  Trace trace;
  sim::SimulationConfig config;
  config.max_steps = 100'000'000;
  sim::Simulation simulation(config);
  simulation.spawn("loop", [&] {
    auto forecaster = PressureForecaster::create({});
    ModelActions actions(actions_on);
    double pinned = 0;
    PressureLoop loop(*forecaster.value(), actions, kLimit);
    loop.add_source("model", [&] { return static_cast<std::size_t>((pinned + actions.cache_) * kLimit); });
    for (int s = 0; s < kRunSeconds + 120; ++s) {
      pinned = demand.pinned[static_cast<std::size_t>(s)];
      actions.cache_ = std::min(0.5, actions.cache_ + demand.cache_rate);
      platform::sleep_for_ns(kSecond);
      PressureTick tick = loop.tick();
      trace.used.push_back(static_cast<double>(tick.used_before_bytes) / kLimit);
      trace.forecasts.push_back(tick.forecast);
    }
  });
  sim::RunResult result = simulation.run();
  if (!result.passed()) {
    std::fprintf(stderr, "claims: simulation failed: %s\n", result.message.c_str());
    std::exit(1);
  }
  return trace;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

void m002(int runs) {
  std::uint64_t forecasts = 0, accurate = 0, predictions = 0, false_positives = 0;
  int would_oom = 0, prevented = 0, crossings = 0, warned = 0;
  std::vector<double> leads;
  for (int seed = 1; seed <= runs; ++seed) {
    const Demand demand = draw_demand(static_cast<std::uint64_t>(seed));
    const Trace off = run_trace(demand, false);
    for (int t = 0; t < kRunSeconds; ++t) {
      const PressureForecast& f = off.forecasts[static_cast<std::size_t>(t)];
      if (f.samples < 2) continue;
      ++forecasts;
      if (std::abs(f.predicted_60s - off.used[static_cast<std::size_t>(t + 60)]) <= 0.05) ++accurate;
      if (f.predicted_level >= PressureLevel::Critical && f.level < PressureLevel::Critical) {
        ++predictions;
        const auto begin = off.used.begin() + t + 1;
        if (*std::max_element(begin, begin + 60) < kCritical) ++false_positives;
      }
    }
    // Lead time: the first crossing of 90 %, and the earliest warning in the 120 s before it
    // from which the warning held (critical predicted at every tick since).
    for (int t = 1; t < kRunSeconds; ++t) {
      if (off.used[static_cast<std::size_t>(t)] < kCritical || off.used[static_cast<std::size_t>(t - 1)] >= kCritical) continue;
      ++crossings;
      int first = t;
      for (int w = t - 1; w >= std::max(0, t - 120); --w) {
        if (off.forecasts[static_cast<std::size_t>(w)].predicted_level < PressureLevel::Critical) break;
        first = w;
      }
      if (first < t) {
        ++warned;
        leads.push_back(t - first);
      }
      break;
    }
    const bool oom_off = *std::max_element(off.used.begin(), off.used.begin() + kRunSeconds) > 1.0;
    if (oom_off) {
      ++would_oom;
      const Trace on = run_trace(demand, true);
      if (*std::max_element(on.used.begin(), on.used.begin() + kRunSeconds) <= 1.0) ++prevented;
    }
  }
  std::printf("M002 over %d seeded runs of %d s (virtual), sampled every 1 s:\n", runs, kRunSeconds);
  std::printf("  +60 s forecasts within 5 points: %.1f %% (%llu of %llu)\n", 100.0 * accurate / forecasts,
              static_cast<unsigned long long>(accurate), static_cast<unsigned long long>(forecasts));
  std::printf("  first crossings of 90 %%: %d, warned before: %d (%.1f %%); lead time s: median %.0f, p10 %.0f, p90 %.0f\n",
              crossings, warned, crossings ? 100.0 * warned / crossings : 0.0, percentile(leads, 0.5),
              percentile(leads, 0.1), percentile(leads, 0.9));
  std::printf("  OOM prevention: %d of %d runs that exceed the limit with actions off stay under it with them on (%.1f %%)\n",
              prevented, would_oom, would_oom ? 100.0 * prevented / would_oom : 0.0);
  std::printf("  false positives: %llu of %llu critical predictions not followed by 90 %% within 60 s (%.1f %%)\n",
              static_cast<unsigned long long>(false_positives), static_cast<unsigned long long>(predictions),
              predictions ? 100.0 * false_positives / predictions : 0.0);
}

void m004() {
  std::printf("M004: 200,000 mixed operations, live set 10-80 objects of 257 KiB-8 MiB (log-uniform):\n");
  for (FitPolicy policy : {FitPolicy::BestFit, FitPolicy::FirstFit, FitPolicy::WorstFit}) {
    LargeObjectAllocatorConfig config;
    config.max_object_bytes = 8 << 20;
    config.span_bytes = 32 << 20;
    config.budget_bytes = std::size_t{16} << 30;
    config.fit = policy;
    config.decommit_check_interval_ns = 0;
    auto large = LargeObjectAllocator::create(LinuxOs::instance(), config).value();
    sim::Rng rng(42);
    std::vector<LargeObject> live;
    double frag_sum = 0;
    int frag_samples = 0;
    for (int op = 0; op < 200'000; ++op) {
      const std::size_t target = 10 + static_cast<std::size_t>(35 * (1 + std::sin(op / 5000.0)));
      if (live.size() < target || (live.size() < 80 && rng.chance(0.5))) {
        const double log_bytes = std::log(257.0 * 1024) + rng.unit() * (std::log(8.0 * 1024 * 1024) - std::log(257.0 * 1024));
        auto object = large->allocate_uninitialized(static_cast<std::size_t>(std::exp(log_bytes)));
        if (object.ok()) live.push_back(object.value());
      } else if (!live.empty()) {
        const std::size_t i = rng.below(live.size());
        if (!large->release(live[i]).ok()) std::abort();
        live[i] = live.back();
        live.pop_back();
      }
      if (op >= 100'000 && op % 100 == 0) {
        frag_sum += large->stats().fragmentation_ratio;
        ++frag_samples;
      }
    }
    const LargeObjectStats s = large->stats();
    std::printf("  %-9s fragmentation ratio: mean %.3f over the second half, %.3f at the end; coalesces per release %.2f; "
                "free-list hit rate %.1f %%; mapped %.0f MiB for %.0f MiB live\n",
                std::string(fit_policy_name(policy)).c_str(), frag_sum / frag_samples, s.fragmentation_ratio,
                static_cast<double>(s.coalesces) / static_cast<double>(s.releases), 100 * s.free_list_hit_rate(),
                s.mapped_bytes / 1048576.0, s.live_bytes / 1048576.0);
    for (const LargeObject& o : live) (void)large->release(o);
  }
}

}  // namespace
}  // namespace segsim

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (runs <= 0) {
    std::fprintf(stderr, "usage: segsim_claims_004 [RUNS > 0]\n");
    return 2;
  }
  segsim::m002(runs);
  segsim::m004();
  return 0;
}
