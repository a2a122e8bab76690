// PressureLoop: the closed memory-pressure loop (seed 004 M002). Each tick
// samples the real stack's accounting (the sum of its sources: segment,
// large-object, slab, arena bytes — whatever is registered), records it in a
// PressureForecaster, and takes the forecast's graduated action through a
// PressureActions implementation. reclaim() is the last resort an allocator
// calls before refusing over budget: it escalates through the actions until
// enough is freed or none is left.
//
// What it promises:
//  * Sources are read, never counted separately: used bytes are exactly the
//    sum of the sources at the tick.
//  * Each tick takes exactly the forecast's action (monitor: none taken);
//    emergency cleanup also asks to refuse new arenas, and the refusal is
//    lifted at the first tick below the high level.
//  * A sample the forecaster refuses (dated before its last one: a clock
//    that went back, another user recording ahead) is counted in
//    sample_refusals, and the tick forecasts from the samples it has.
//  * Actions only run from tick() and reclaim(), never under a lock of the loop.
//
// PressureActions is an interface so the loop is testable without a stack;
// StackPressureActions (pressure_actions.h) wires it to the real one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/platform/mutex.h"
#include "core/pressure_forecaster.h"

namespace segsim {

class PressureActions {
 public:
  virtual ~PressureActions() = default;
  virtual void gentle_eviction() = 0;      // e.g. the page cache shrinks by a step
  virtual void aggressive_eviction() = 0;  // a larger step, idle large ranges decommitted
  virtual void emergency_cleanup() = 0;    // everything reclaimable: regions, spans, cache
  virtual void refuse_new_arenas(bool refuse) = 0;
  // Bytes the actions could still reclaim now (0: no action left). An estimate
  // an oracle may compare with a refusal; exactness is the implementation's promise.
  virtual std::size_t reclaimable_bytes() const = 0;
};

struct PressureTick {
  PressureForecast forecast;
  PressureAction action = PressureAction::None;  // taken
  std::size_t used_before_bytes = 0;
  std::size_t used_after_bytes = 0;
  bool skipped = false;  // the tick's actions were skipped (fault point)
};

struct PressureLoopStats {
  std::uint64_t ticks = 0;
  std::uint64_t monitors = 0;
  std::uint64_t gentle = 0;
  std::uint64_t aggressive = 0;
  std::uint64_t emergency = 0;
  std::uint64_t reclaims = 0;
  std::uint64_t reclaims_satisfied = 0;
  std::uint64_t sample_refusals = 0;
  bool refusing_arenas = false;
};

class PressureLoop {
 public:
  // `forecaster` and `actions` must outlive the loop. limit_bytes > 0.
  PressureLoop(PressureForecaster& forecaster, PressureActions& actions, std::size_t limit_bytes);

  // Before the first tick.
  void add_source(std::string name, std::function<std::size_t()> used_bytes);
  std::size_t used_bytes() const;
  std::size_t limit_bytes() const noexcept { return limit_bytes_; }

  PressureTick tick();
  // Escalates gentle → aggressive → emergency until `needed_bytes` were freed
  // (measured on the sources) or no action is left. True when enough was freed.
  bool reclaim(std::size_t needed_bytes);

  PressureLoopStats stats() const;

 private:
  void take(PressureAction action);

  PressureForecaster& forecaster_;
  PressureActions& actions_;
  const std::size_t limit_bytes_;
  std::vector<std::pair<std::string, std::function<std::size_t()>>> sources_;
  mutable platform::Mutex mu_;  // guards stats_ only
  PressureLoopStats stats_;
};

}  // namespace segsim
