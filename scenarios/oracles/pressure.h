// Oracles of the closed memory-pressure loop (issue 15). One file per promise:
//   pressure_forecast.cpp  every forecast is sane: finite predictions and
//                          rates, confidence in [0, 1], a trend that matches
//                          the slope, even for samples at one instant
//   pressure_refusal.cpp   no over-budget refusal while the forecaster had
//                          predicted it with lead time and the loop had an
//                          action left: every refusal asked the loop to
//                          reclaim, and a prediction made at least `lead`
//                          before was followed by an eviction action
//   pressure_stats.cpp     the loop's stats() count what it did: its ticks and
//                          monitors are the ticks the workload saw, each action
//                          count the calls an ActionLedger between the loop and
//                          the real actions saw, its reclaims the allocator's
//                          calls of the reclaim hook, its arena gate the last
//                          one the actions were told
//   pressure_sources.cpp   the loop reads what its sources say: each tick's
//                          used bytes before and after its action are the sum
//                          of one reading of every source (a SourceLedger
//                          between the loop and the source readers)
// Pinned pages and live objects the loop's actions must never lose are
// checked by the content / use-after-release oracles (readers verify pages
// they pinned across ticks; large objects are verified before release).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/pressure_forecaster.h"
#include "core/pressure_loop.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

// The actions as the loop took them: forwards every call to the real actions
// and counts it. No scheduling point of its own, so traces are unchanged.
class ActionLedger final : public PressureActions {
 public:
  explicit ActionLedger(PressureActions& actions) : actions_(actions) {}
  void gentle_eviction() override { ++gentle; actions_.gentle_eviction(); }
  void aggressive_eviction() override { ++aggressive; actions_.aggressive_eviction(); }
  void emergency_cleanup() override { ++emergency; actions_.emergency_cleanup(); }
  void refuse_new_arenas(bool refuse) override {
    refusing_arenas = refuse;
    ++arena_words;
    actions_.refuse_new_arenas(refuse);
  }
  std::size_t reclaimable_bytes() const override { return actions_.reclaimable_bytes(); }

  std::uint64_t gentle = 0, aggressive = 0, emergency = 0;
  bool refusing_arenas = false;  // the last word the loop gave
  std::uint64_t arena_words = 0;  // refuse_new_arenas calls

 private:
  PressureActions& actions_;
};

// What the loop's sources answered: wraps each source reader, and completes a
// reading once a fiber has read every source (in any order; per fiber, as a
// source reader may hold a scheduling point and readings interleave). Records
// only: no scheduling point, no random draw.
class SourceLedger {
 public:
  SourceLedger(Oracles& oracles, std::function<std::uint32_t()> fiber, std::size_t sources)
      : oracles_(oracles), fiber_(std::move(fiber)), sources_(sources) {}
  // `read`, as source number `index` (< sources) of the loop.
  std::function<std::size_t()> wrap(std::size_t index, std::function<std::size_t()> read);
  // pressure_sources.cpp: called by the tick's fiber around PressureLoop::tick().
  void tick_starts();
  void check_tick(const PressureTick& tick);

 private:
  struct Partial {
    std::vector<bool> read;
    std::size_t sum = 0;
    std::size_t count = 0;
  };
  Oracles& oracles_;
  std::function<std::uint32_t()> fiber_;
  const std::size_t sources_;
  std::map<std::uint32_t, Partial> partial_;  // by fiber
  std::vector<std::size_t> completed_;        // readings completed since the tick started
};

// The reclaim hook's calls as the allocator made them.
struct ReclaimLedger {
  std::uint64_t calls = 0;
  std::uint64_t answered_true = 0;  // freed something (enough or not)
};

struct TickRecord {
  std::int64_t time_ns = 0;
  PressureLevel worst_level = PressureLevel::Normal;  // max(now, predicted)
  PressureAction action = PressureAction::None;       // taken
  bool skipped = false;
};

class PressureChecks {
 public:
  PressureChecks(Oracles& oracles, const PressureForecasterConfig& config, std::int64_t lead_ns)
      : oracles_(oracles), config_(config), lead_ns_(lead_ns) {}

  // pressure_forecast.cpp
  void check_forecast(const PressureForecast& forecast, const char* when);
  // pressure_refusal.cpp
  void record_tick(const PressureTick& tick);
  void check_refusal(std::int64_t now_ns, std::uint64_t reclaims_before, std::uint64_t reclaims_after,
                     std::size_t requested_bytes);

  // pressure_stats.cpp: once no tick or reclaim is in flight.
  void check_loop_stats(const PressureLoopStats& stats, const ActionLedger& actions,
                        const ReclaimLedger& reclaims) const;

  std::uint64_t refusals() const noexcept { return refusals_; }

 private:
  Oracles& oracles_;
  const PressureForecasterConfig config_;
  const std::int64_t lead_ns_;
  std::deque<TickRecord> ticks_;  // the most recent ones
  std::uint64_t refusals_ = 0;
  // Every tick recorded (ticks_ keeps only the recent ones), and by action taken.
  std::uint64_t ticks_seen_ = 0;
  std::uint64_t monitors_ = 0, gentle_ = 0, aggressive_ = 0, emergency_ = 0;
};

}  // namespace segsim::scenarios
