// pressure_drills.h: loop_drill — PressureLoop over sources the drill sets
// and actions that count their calls, each tick and reclaim checked against
// the loop's documented promises (pressure_loop.h): used bytes are exactly
// the sum of the sources; each tick takes exactly its level's action and
// gates arenas as documented; reclaim() escalates gentle → aggressive →
// emergency until enough was freed or nothing is left; a sample the
// forecaster refuses is counted, and the tick forecasts from the samples it
// has (the last tick's sample is dated behind one planted an hour ahead);
// stats() counts it all.
//
// The drill runs after the simulation, on the wall clock, so its forecaster
// can never be confident (full confidence at 10^6 samples, min_confidence 1):
// every action follows the current level alone, and the drill replays
// identically whatever the clock says.
#include <fmt/format.h>

#include "core/platform/clock.h"
#include "core/pressure_loop.h"
#include "core/units.h"
#include "scenarios/oracles/forecast_model.h"
#include "scenarios/workloads/pressure_drills.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

constexpr int kLoopDrillSteps = 24;
constexpr std::size_t kLoopDrillLimitBytes = 1 * MiB;

// A cache of `cache_bytes` the actions shrink (an eighth, a half, all of it).
class CountingActions final : public PressureActions {
 public:
  void gentle_eviction() override { ++calls.gentle; cache_bytes -= cache_bytes / 8; }
  void aggressive_eviction() override { ++calls.aggressive; cache_bytes -= cache_bytes / 2; }
  void emergency_cleanup() override { ++calls.emergency; cache_bytes = 0; }
  void refuse_new_arenas(bool refuse) override { calls.refusing_arenas = refuse; }
  std::size_t reclaimable_bytes() const override { return cache_bytes; }

  std::size_t cache_bytes = 0;
  PressureLoopStats calls;  // the calls as the actions saw them (ticks, monitors, reclaims unused)
};

struct LoopModel {
  PressureLoopStats stats;  // what stats() must say
  void took(PressureAction action) {
    stats.monitors += action == PressureAction::Monitor ? 1 : 0;
    stats.gentle += action == PressureAction::GentleEviction ? 1 : 0;
    stats.aggressive += action == PressureAction::AggressiveEviction ? 1 : 0;
    stats.emergency += action == PressureAction::EmergencyCleanup ? 1 : 0;
  }
};

std::string loop_counts(const PressureLoopStats& s) {
  return fmt::format("{} ticks, {} monitors, {} / {} / {} gentle / aggressive / emergency, {} reclaims ({} satisfied), "
                     "{} sample refusals, arenas {}",
                     s.ticks, s.monitors, s.gentle, s.aggressive, s.emergency, s.reclaims, s.reclaims_satisfied,
                     s.sample_refusals, s.refusing_arenas ? "refused" : "allowed");
}

}  // namespace

void loop_drill(Stack& stack) {
  sim::Rng rng(sim::derive_seed(stack.seed, "workload.pressure.loop-drill"));
  PressureForecasterConfig config;
  config.full_confidence_samples = 1'000'000;
  config.min_confidence = 1.0;
  auto created = PressureForecaster::create(config);
  if (!created.ok()) stack.oracles.fail("pressure-loop-model", "a valid config was refused: " + created.error().describe());
  const ForecastModel levels(config);
  CountingActions actions;
  std::size_t fixed_bytes = 0, other_bytes = 0;
  PressureLoop loop(*created.value(), actions, kLoopDrillLimitBytes);
  loop.add_source("fixed", [&] { return fixed_bytes; });
  loop.add_source("cache", [&] { return actions.cache_bytes; });
  loop.add_source("other", [&] { return other_bytes; });
  auto sum = [&] { return fixed_bytes + actions.cache_bytes + other_bytes; };
  LoopModel model;
  auto fail = [&](const std::string& what) { stack.oracles.fail("pressure-loop-model", what); };
  // One tick over sources the rng sets. `sample_refused`: a sample dated an
  // hour ahead (another user of the forecaster, a clock that went back) is
  // recorded first, so the tick's own sample is older and refused; it holds
  // the same bytes, so the forecast from what the window has is the same.
  const auto tick_once = [&](bool sample_refused) {
    fixed_bytes = rng.below(kLoopDrillLimitBytes / 2);
    other_bytes = rng.below(kLoopDrillLimitBytes / 2);
    actions.cache_bytes = rng.below(kLoopDrillLimitBytes / 2);
    const std::size_t used = sum();
    const double ratio = static_cast<double>(used) / static_cast<double>(kLoopDrillLimitBytes);
    if (sample_refused) {
      const std::int64_t hour_ahead_ns = platform::now_ns() + std::int64_t{3600} * 1'000'000'000;
      if (!created.value()->record_at(hour_ahead_ns, used, kLoopDrillLimitBytes).ok()) {
        fail("the forecaster refused a sample dated after all of its own");
      }
      ++model.stats.sample_refusals;
    }
    const PressureTick tick = loop.tick();
    ++model.stats.ticks;
    const PressureLevel level = levels.level_of(ratio);
    const PressureAction want = tick.skipped ? PressureAction::None : action_for_level(level);
    if (tick.used_before_bytes != used || tick.forecast.current_ratio != ratio || tick.forecast.level != level ||
        tick.action != want) {
      fail(fmt::format("a tick over sources of {} B read {} B (ratio {}), level {}, took {}; the model says ratio {}, "
                       "level {}, {}",
                       used, tick.used_before_bytes, tick.forecast.current_ratio, pressure_level_name(tick.forecast.level),
                       pressure_action_name(tick.action), ratio, pressure_level_name(level), pressure_action_name(want)));
    }
    if (!tick.skipped) {
      model.took(want);
      if (want == PressureAction::EmergencyCleanup) model.stats.refusing_arenas = true;
      if (level < PressureLevel::High) model.stats.refusing_arenas = false;
    }
    if (tick.used_after_bytes != sum()) {
      fail(fmt::format("a tick read {} B after its action; the sources hold {} B", tick.used_after_bytes, sum()));
    }
  };
  for (int step = 0; step < kLoopDrillSteps; ++step) {
    if (rng.below(4) == 0) {  // reclaim: the escalation, step by step
      const std::size_t needed = draw_one<std::size_t>(rng, {1, actions.cache_bytes / 8, actions.cache_bytes, 2 * actions.cache_bytes + 1});
      const std::size_t before = sum();
      std::size_t cache = actions.cache_bytes;
      bool satisfied = false;
      const PressureLoopStats calls_before = actions.calls;
      PressureLoopStats want_calls = calls_before;
      for (const PressureAction action : {PressureAction::GentleEviction, PressureAction::AggressiveEviction,
                                          PressureAction::EmergencyCleanup}) {
        if (cache == 0) break;
        if (action == PressureAction::GentleEviction) ++want_calls.gentle, cache -= cache / 8;
        if (action == PressureAction::AggressiveEviction) ++want_calls.aggressive, cache -= cache / 2;
        if (action == PressureAction::EmergencyCleanup) ++want_calls.emergency, cache = 0;
        model.took(action);
        const std::size_t now = before - actions.cache_bytes + cache;
        if (now < before && before - now >= needed) {
          satisfied = true;
          break;
        }
      }
      const bool freed_any = cache < actions.cache_bytes;
      ++model.stats.reclaims;
      model.stats.reclaims_satisfied += satisfied ? 1 : 0;
      const bool answered = loop.reclaim(needed);
      if (answered != (satisfied || freed_any) || actions.calls.gentle != want_calls.gentle ||
          actions.calls.aggressive != want_calls.aggressive || actions.calls.emergency != want_calls.emergency) {
        fail(fmt::format("reclaim({}) of a {} B cache answered {} after {} / {} / {} actions; the model says {} after "
                         "{} / {} / {}",
                         needed, before - fixed_bytes - other_bytes, answered,
                         actions.calls.gentle - calls_before.gentle, actions.calls.aggressive - calls_before.aggressive,
                         actions.calls.emergency - calls_before.emergency, satisfied || freed_any,
                         want_calls.gentle - calls_before.gentle, want_calls.aggressive - calls_before.aggressive,
                         want_calls.emergency - calls_before.emergency));
      }
      continue;
    }
    tick_once(/*sample_refused=*/false);
  }
  tick_once(/*sample_refused=*/true);
  const PressureLoopStats got = loop.stats();
  if (got.ticks != model.stats.ticks || got.monitors != model.stats.monitors || got.gentle != model.stats.gentle ||
      got.aggressive != model.stats.aggressive || got.emergency != model.stats.emergency ||
      got.reclaims != model.stats.reclaims || got.reclaims_satisfied != model.stats.reclaims_satisfied ||
      got.sample_refusals != model.stats.sample_refusals || got.refusing_arenas != model.stats.refusing_arenas ||
      actions.calls.refusing_arenas != model.stats.refusing_arenas) {
    fail(fmt::format("stats() says {}; the model {} (the actions were last told arenas {})", loop_counts(got),
                     loop_counts(model.stats), actions.calls.refusing_arenas ? "refused" : "allowed"));
  }
}

}  // namespace segsim::scenarios
