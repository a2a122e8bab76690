// Fault-point controllers that steer one call down a rare path on purpose, for
// unit tests and the simulator's drills. Install one with a
// fault_points::ControllerScope around that call only; a site they do not name
// never fires. Not thread-safe: for one thread, or the simulator's one-at-a-time
// tasks (a campaign's random faults come from faults/FaultInjector instead).
//
//   FireSites  fires the sites it names: at every ask (a test that forces a
//              path throughout) or at each site's first ask only (a drill's
//              one slow advise, one forced growth); all_fired() says whether
//              the steered call took the path
//   ActOnce    at its site's first ask, runs an action — what another thread
//              did in that window — and fires nothing (the lookup-race drill,
//              racing placements in the recorder's region table)
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

#include "core/fault_point.h"

namespace segsim::fault_points {

class FireSites final : public Controller {
 public:
  enum class Times { EveryAsk, FirstAskOnly };

  FireSites(Times times, std::initializer_list<std::size_t> site_ids)
      : times_(times), site_ids_(site_ids), fired_(site_ids.size(), false) {}

  bool should_fire(std::size_t site_id) override {
    const auto it = std::find(site_ids_.begin(), site_ids_.end(), site_id);
    if (it == site_ids_.end()) return false;
    auto fired = fired_.begin() + (it - site_ids_.begin());
    if (times_ == Times::FirstAskOnly && *fired) return false;
    *fired = true;
    return true;
  }
  // True once every named site has fired.
  bool all_fired() const { return std::all_of(fired_.begin(), fired_.end(), [](bool fired) { return fired; }); }

 private:
  Times times_;
  std::vector<std::size_t> site_ids_;
  std::vector<bool> fired_;
};

class ActOnce final : public Controller {
 public:
  ActOnce(std::size_t site_id, std::function<void()> action) : site_id_(site_id), action_(std::move(action)) {}

  bool should_fire(std::size_t site_id) override {
    if (site_id == site_id_ && action_) std::exchange(action_, nullptr)();
    return false;
  }
  // True once the call reached the site and the action ran.
  bool acted() const { return !action_; }

 private:
  std::size_t site_id_;
  std::function<void()> action_;
};

}  // namespace segsim::fault_points
