#include "core/pressure_loop.h"

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/probe.h"

namespace segsim {

PressureLoop::PressureLoop(PressureForecaster& forecaster, PressureActions& actions, std::size_t limit_bytes)
    : forecaster_(forecaster), actions_(actions), limit_bytes_(limit_bytes) {
  SEGSIM_ASSERT(limit_bytes > 0, "a pressure loop needs a limit");
}

void PressureLoop::add_source(std::string name, std::function<std::size_t()> used_bytes) {
  SEGSIM_ASSERT(used_bytes != nullptr, "a pressure source needs a reader");
  sources_.emplace_back(std::move(name), std::move(used_bytes));
}

std::size_t PressureLoop::used_bytes() const {
  std::size_t used = 0;
  for (const auto& [name, read] : sources_) used += read();
  return used;
}

void PressureLoop::take(PressureAction action) {
  switch (action) {
    case PressureAction::None:
      break;
    case PressureAction::Monitor: {
      platform::LockGuard guard(mu_);
      ++stats_.monitors;
      break;
    }
    case PressureAction::GentleEviction:
      SEGSIM_PROBE("pressure.action.gentle");
      actions_.gentle_eviction();
      {
        platform::LockGuard guard(mu_);
        ++stats_.gentle;
      }
      break;
    case PressureAction::AggressiveEviction:
      SEGSIM_PROBE("pressure.action.aggressive");
      actions_.aggressive_eviction();
      {
        platform::LockGuard guard(mu_);
        ++stats_.aggressive;
      }
      break;
    case PressureAction::EmergencyCleanup:
      SEGSIM_PROBE("pressure.action.emergency");
      actions_.emergency_cleanup();
      {
        platform::LockGuard guard(mu_);
        ++stats_.emergency;
      }
      break;
  }
}

PressureTick PressureLoop::tick() {
  PressureTick tick;
  tick.used_before_bytes = used_bytes();
  if (!forecaster_.record(tick.used_before_bytes, limit_bytes_).ok()) {
    platform::LockGuard guard(mu_);
    ++stats_.sample_refusals;  // a clock that went backwards: forecast from what we have
  }
  tick.forecast = forecaster_.forecast();
  tick.skipped = SEGSIM_FAULT_POINT("pressure.tick.skip");
  if (!tick.skipped) {
    tick.action = tick.forecast.action;
    take(tick.action);
    const bool refuse = tick.action == PressureAction::EmergencyCleanup;
    bool changed = false;
    {
      platform::LockGuard guard(mu_);
      const bool lift = std::max(tick.forecast.level, tick.forecast.predicted_level) < PressureLevel::High;
      if (refuse && !stats_.refusing_arenas) {
        stats_.refusing_arenas = changed = true;
      } else if (lift && stats_.refusing_arenas) {
        stats_.refusing_arenas = false;
        changed = true;
      }
    }
    if (changed) actions_.refuse_new_arenas(refuse);
  }
  tick.used_after_bytes = used_bytes();
  platform::LockGuard guard(mu_);
  ++stats_.ticks;
  return tick;
}

bool PressureLoop::reclaim(std::size_t needed_bytes) {
  SEGSIM_PROBE("pressure.reclaim.on_refusal");
  {
    platform::LockGuard guard(mu_);
    ++stats_.reclaims;
  }
  const std::size_t before = used_bytes();
  auto freed_enough = [&] {
    const std::size_t now = used_bytes();
    return now < before && before - now >= needed_bytes;
  };
  for (PressureAction action : {PressureAction::GentleEviction, PressureAction::AggressiveEviction,
                                PressureAction::EmergencyCleanup}) {
    if (actions_.reclaimable_bytes() == 0) break;
    take(action);
    if (freed_enough()) {
      platform::LockGuard guard(mu_);
      SEGSIM_ASSERT(stats_.reclaims_satisfied < stats_.reclaims, "more reclaims satisfied than asked");
      ++stats_.reclaims_satisfied;
      return true;
    }
  }
  // Not enough for the whole request, but anything freed lets the allocator try again.
  return used_bytes() < before;
}

PressureLoopStats PressureLoop::stats() const {
  platform::LockGuard guard(mu_);
  return stats_;
}

}  // namespace segsim
