// PressureForecaster and PressureLoop: regression, trends, thresholds,
// zero time spans, graduated actions through a recording PressureActions.
#include "core/pressure_forecaster.h"

#include <cmath>

#include <gtest/gtest.h>

#include "core/pressure_loop.h"

namespace segsim::testing {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::unique_ptr<PressureForecaster> make(PressureForecasterConfig config = {}) {
  auto created = PressureForecaster::create(config);
  EXPECT_TRUE(created.ok());
  return std::move(created.value());
}

TEST(PressureForecaster, ConfigIsValidated) {
  PressureForecasterConfig config;
  config.thresholds.high = 0.6;  // below warning
  EXPECT_EQ(PressureForecaster::create(config).error().code, Errc::InvalidConfig);
  config = {};
  config.window_samples = 1;
  EXPECT_EQ(PressureForecaster::create(config).error().code, Errc::InvalidConfig);
}

TEST(PressureForecaster, NoSamplesOrOneSampleGiveNoConfidence) {
  auto f = make();
  EXPECT_EQ(f->forecast().samples, 0u);
  EXPECT_DOUBLE_EQ(f->forecast().confidence, 0);
  ASSERT_TRUE(f->record_at(0, 50, 100).ok());
  PressureForecast one = f->forecast();
  EXPECT_DOUBLE_EQ(one.current_ratio, 0.5);
  EXPECT_DOUBLE_EQ(one.predicted_60s, 0.5);
  EXPECT_DOUBLE_EQ(one.confidence, 0);
  EXPECT_EQ(one.trend, PressureTrend::Stable);
}

TEST(PressureForecaster, ZeroTimeSpanNeverDividesByZero) {
  auto f = make();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(f->record_at(7 * kSecond, 40 + 10 * i, 100).ok());
  PressureForecast same_instant = f->forecast();
  EXPECT_TRUE(std::isfinite(same_instant.slope_per_s));
  EXPECT_TRUE(std::isfinite(same_instant.predicted_120s));
  EXPECT_DOUBLE_EQ(same_instant.confidence, 0);
  EXPECT_DOUBLE_EQ(same_instant.allocation_rate_bytes_per_s, 0);
  EXPECT_DOUBLE_EQ(same_instant.predicted_60s, 0.8);  // the newest sample, not extrapolated
}

TEST(PressureForecaster, SampleBackInTimeIsRefusedAndChangesNothing) {
  auto f = make();
  ASSERT_TRUE(f->record_at(10 * kSecond, 10, 100).ok());
  Status back = f->record_at(9 * kSecond, 90, 100);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, Errc::InvalidConfig);
  EXPECT_EQ(f->sample_count(), 1u);
  EXPECT_DOUBLE_EQ(f->forecast().current_ratio, 0.1);
}

TEST(PressureForecaster, LinearRampIsForecastExactly) {
  auto f = make();
  // 1 point per second from 50 %: a perfect line.
  for (int i = 0; i <= 10; ++i) ASSERT_TRUE(f->record_at(i * kSecond, 500 + 10 * i, 1000).ok());
  PressureForecast p = f->forecast();
  EXPECT_NEAR(p.current_ratio, 0.60, 1e-12);
  EXPECT_NEAR(p.slope_per_s, 0.01, 1e-12);
  EXPECT_NEAR(p.predicted_30s, 0.90, 1e-9);
  EXPECT_NEAR(p.predicted_60s, 1.20, 1e-9);
  EXPECT_NEAR(p.predicted_120s, 1.80, 1e-9);
  EXPECT_NEAR(p.confidence, 1.0, 1e-9);
  EXPECT_EQ(p.trend, PressureTrend::Increasing);  // 1 point per sample
  EXPECT_EQ(p.time_to_critical_ns, 30 * kSecond);
  EXPECT_NEAR(p.allocation_rate_bytes_per_s, 10, 1e-9);
  EXPECT_DOUBLE_EQ(p.release_rate_bytes_per_s, 0);
  EXPECT_EQ(p.level, PressureLevel::Normal);
  EXPECT_EQ(p.predicted_level, PressureLevel::Emergency);  // +60 s: 120 %
  EXPECT_EQ(p.action, PressureAction::EmergencyCleanup);
}

TEST(PressureForecaster, TrendBands) {
  struct Case {
    int step_per_mille;
    PressureTrend trend;
  };
  for (Case c : {Case{-10, PressureTrend::Decreasing}, Case{0, PressureTrend::Stable}, Case{4, PressureTrend::Stable},
                 Case{10, PressureTrend::Increasing}, Case{30, PressureTrend::Critical}}) {
    auto f = make();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(f->record_at(i * kSecond, 300 + c.step_per_mille * i, 1000).ok());
    EXPECT_EQ(f->forecast().trend, c.trend) << c.step_per_mille;
  }
}

TEST(PressureForecaster, LevelsFollowTheConfiguredThresholds) {
  auto f = make();
  EXPECT_EQ(f->level_of(0.69), PressureLevel::Normal);
  EXPECT_EQ(f->level_of(0.70), PressureLevel::Warning);
  EXPECT_EQ(f->level_of(0.80), PressureLevel::High);
  EXPECT_EQ(f->level_of(0.90), PressureLevel::Critical);
  EXPECT_EQ(f->level_of(0.95), PressureLevel::Emergency);
  PressureForecasterConfig config;
  config.thresholds = {0.5, 0.6, 0.7, 0.8};
  EXPECT_EQ(make(config)->level_of(0.65), PressureLevel::High);
}

TEST(PressureForecaster, NoisyUsageLowersConfidenceAndDoesNotRaiseTheAction) {
  auto f = make();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(f->record_at(i * kSecond, (i % 2) ? 750 : 650, 1000).ok());
  PressureForecast p = f->forecast();
  EXPECT_LT(p.confidence, 0.5);
  EXPECT_EQ(p.predicted_level, p.level);
  EXPECT_EQ(p.action, PressureAction::Monitor);  // 75 %: warning, from the current level only
}

class RecordingActions final : public PressureActions {
 public:
  void gentle_eviction() override { log += "g"; freed(1); }
  void aggressive_eviction() override { log += "a"; freed(4); }
  void emergency_cleanup() override { log += "e"; freed(100); }
  void refuse_new_arenas(bool refuse) override { log += refuse ? "R" : "r"; }
  std::size_t reclaimable_bytes() const override { return *used; }
  void freed(std::size_t bytes) { *used -= std::min(*used, bytes); }
  std::string log;
  std::size_t* used = nullptr;
};

TEST(PressureLoop, TicksTakeTheForecastsActionAndReadTheSources) {
  auto f = make();
  RecordingActions actions;
  std::size_t used = 0;
  std::size_t other = 10;
  actions.used = &used;
  PressureLoop loop(*f, actions, 1000);
  loop.add_source("large", [&] { return used; });
  loop.add_source("segments", [&] { return other; });
  used = 500;
  EXPECT_EQ(loop.used_bytes(), 510u);
  EXPECT_EQ(loop.tick().action, PressureAction::None);
  used = 950;  // a jump: no confident forecast yet, the level decides
  PressureTick t = loop.tick();
  EXPECT_EQ(t.forecast.level, PressureLevel::Emergency);
  EXPECT_EQ(t.action, PressureAction::EmergencyCleanup);
  EXPECT_EQ(t.used_before_bytes, 960u);
  EXPECT_EQ(t.used_after_bytes, 860u);
  EXPECT_EQ(actions.log, "eR");
  EXPECT_TRUE(loop.stats().refusing_arenas);
  used = 100;
  f->reset();
  EXPECT_EQ(loop.tick().action, PressureAction::None);
  EXPECT_EQ(actions.log, "eRr");  // lifted below high
  EXPECT_EQ(loop.stats().ticks, 3u);
  EXPECT_EQ(loop.stats().emergency, 1u);
}

TEST(PressureLoop, ReclaimEscalatesUntilEnoughIsFree) {
  auto f = make();
  RecordingActions actions;
  std::size_t used = 900;
  actions.used = &used;
  PressureLoop loop(*f, actions, 1000);
  loop.add_source("all", [&] { return used; });
  EXPECT_TRUE(loop.reclaim(3));  // gentle 1, aggressive 4: 5 >= 3
  EXPECT_EQ(actions.log, "ga");
  EXPECT_TRUE(loop.reclaim(50));
  EXPECT_EQ(actions.log, "gagae");
  used = 0;
  EXPECT_FALSE(loop.reclaim(1));  // nothing left: no action at all
  EXPECT_EQ(actions.log, "gagae");
  EXPECT_EQ(loop.stats().reclaims, 3u);
  EXPECT_EQ(loop.stats().reclaims_satisfied, 2u);
}

}  // namespace
}  // namespace segsim::testing
