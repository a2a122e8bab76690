// pressure_drills.h: forecast_drill — the forecaster against its model on
// samples the loop's page-sized accounting never produces (steps of one byte,
// where an off-by-one between growth and shrinkage shows; repeated instants;
// zero limits; windows of 2; a ratio on a threshold exactly; an emergency
// threshold of exactly 1), and record() on a manual clock (its stamp).
#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "core/platform/runtime.h"
#include "core/pressure_forecaster.h"
#include "core/units.h"
#include "scenarios/oracles/forecast_model.h"
#include "scenarios/workloads/manual_clock.h"
#include "scenarios/workloads/pressure_drills.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

constexpr int kForecastDrillSteps = 64;
constexpr int kClockDrillSteps = 16;

PressureForecasterConfig draw_forecaster_config(sim::Rng& rng) {
  PressureForecasterConfig config;
  config.window_samples = 2 + rng.below(14);
  config.full_confidence_samples = 1 + rng.below(16);
  config.stable_band = draw_one<double>(rng, {0.0, 0.001, 0.005});
  config.increasing_max = config.stable_band + draw_one<double>(rng, {0.001, 0.02});
  config.min_confidence = draw_one<double>(rng, {0.0, 0.5, 1.0});
  config.action_horizon_ns = draw_one<std::int64_t>(rng, {1, 1'000'000'000, 60'000'000'000});
  // The top of the thresholds' range is inclusive: an emergency level of exactly
  // 1 (only a full pool is an emergency) is valid and must be accepted.
  config.thresholds.emergency = draw_one<double>(rng, {config.thresholds.emergency, 1.0});
  return config;
}

// record() stamps each sample with the platform clock's time. Under a manual
// clock that time is known exactly, so the model is fed the clock's time, not
// the stamp the forecaster chose (which the loop's own model must trust).
void record_on_the_clock(Stack& stack, const PressureForecasterConfig& config, std::size_t limit_bytes) {
  sim::Rng rng(sim::derive_seed(stack.seed, "workload.pressure.forecast-drill.clock"));
  ManualClock clock(static_cast<std::int64_t>(rng.below(1'000'000'000)), [&stack](const std::string& what) {
    stack.oracles.fail("forecast-model", "the forecast drill's clock: " + what);
  });
  platform::RuntimeScope on_the_clock(&clock);  // the forecaster lives and dies inside it
  auto created = PressureForecaster::create(config);
  if (!created.ok()) stack.oracles.fail("forecast-model", "a valid config was refused: " + created.error().describe());
  PressureForecaster& forecaster = *created.value();
  ForecastModel model(config);
  std::size_t used_bytes = limit_bytes / 2;
  for (int step = 0; step < kClockDrillSteps; ++step) {
    clock.sleep_for_ns(draw_one<std::int64_t>(rng, {0, 1, 1'000, 1'000'000'000}));
    used_bytes = static_cast<std::size_t>(rng.below(limit_bytes + 1));
    if (Status recorded = forecaster.record(used_bytes, limit_bytes); !recorded.ok()) {
      stack.oracles.fail("forecast-model", "record() on a clock that never goes back was refused: " +
                                               recorded.error().describe());
    }
    model.record_at(clock.now_ns(), used_bytes, limit_bytes);
    check_forecast_against_model(stack.oracles, config, forecaster.forecast(), model.forecast(),
                                 "after record() on the platform clock");
  }
}

}  // namespace

void forecast_drill(Stack& stack) {
  sim::Rng rng(sim::derive_seed(stack.seed, "workload.pressure.forecast-drill"));
  const PressureForecasterConfig config = draw_forecaster_config(rng);
  auto created = PressureForecaster::create(config);
  if (!created.ok()) stack.oracles.fail("forecast-model", "a valid config was refused: " + created.error().describe());
  PressureForecaster& forecaster = *created.value();
  ForecastModel model(config);
  const std::size_t limit_bytes = draw_one<std::size_t>(rng, {1000, 1 * MiB, 24 * MiB});
  std::int64_t now_ns = 0;
  std::size_t used_bytes = limit_bytes / 2;
  for (int step = 0; step < kForecastDrillSteps; ++step) {
    const std::uint64_t op = rng.below(20);
    if (op == 0) {
      forecaster.reset();
      model.reset();
    } else if (op == 1 && model.sample_count() > 0) {  // older than the newest sample: refused, nothing kept
      const std::int64_t late_ns = now_ns - 1 - static_cast<std::int64_t>(rng.below(1000));
      const bool kept = forecaster.record_at(late_ns, used_bytes, limit_bytes).ok();
      if (kept != model.record_at(late_ns, used_bytes, limit_bytes)) {
        stack.oracles.fail("forecast-model", fmt::format("a sample 1..1000 ns before the newest was {}", kept ? "kept" : "refused, and the model kept it"));
      }
    } else {
      now_ns += draw_one<std::int64_t>(rng, {0, 1, 1'000'000, 1'000'000'000, 1'000'000'000});
      if (op == 2) {
        // On a threshold (exactly, for a limit of 1000 B): the level's and
        // the time to critical's ">=" boundaries; the zero steps that follow
        // some draws hold it there with a flat slope.
        const PressureThresholds& t = config.thresholds;
        const double ratio = draw_one<double>(rng, {t.warning, t.high, t.critical, t.emergency});
        used_bytes = static_cast<std::size_t>(std::llround(ratio * static_cast<double>(limit_bytes)));
      } else {
        const auto step_bytes = draw_one<std::int64_t>(rng, {0, 1, -1, 2, -2, 4096, -4096, 1 + static_cast<std::int64_t>(limit_bytes / 10)});
        used_bytes = static_cast<std::size_t>(std::clamp<std::int64_t>(static_cast<std::int64_t>(used_bytes) + step_bytes, 0,
                                                                      static_cast<std::int64_t>(limit_bytes * 13 / 10)));
      }
      const std::size_t sample_limit_bytes = rng.below(16) == 0 ? 0 : limit_bytes;
      const Status recorded = forecaster.record_at(now_ns, used_bytes, sample_limit_bytes);
      model.record_at(now_ns, used_bytes, sample_limit_bytes);
      if (!recorded.ok()) stack.oracles.fail("forecast-model", "a sample in time order was refused: " + recorded.error().describe());
    }
    if (forecaster.sample_count() != model.sample_count()) {
      stack.oracles.fail("forecast-model", fmt::format("the forecaster keeps {} samples; the model {}",
                                                       forecaster.sample_count(), model.sample_count()));
    }
    check_forecast_against_model(stack.oracles, config, forecaster.forecast(), model.forecast(), "in the forecast drill");
  }
  record_on_the_clock(stack, config, limit_bytes);
}

}  // namespace segsim::scenarios
