// Fault-point controllers for drills that steer one call down a rare path on
// purpose. Installed with a fault_points::ControllerScope around that call
// only; every site they do not name does not fire.
//   FireOnce  each listed site fires at its first ask, once (the decommit-policy
//             episode's slow advise, the forced growth drill's slow path)
//   ActOnce   at its site's first ask, runs an action — what another thread did
//             in that window — and fires nothing (the lookup-race drill, the
//             region table drill's racing placements)
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

#include "core/fault_point.h"

namespace segsim::scenarios {

class FireOnce final : public fault_points::Controller {
 public:
  FireOnce(std::initializer_list<std::size_t> site_ids) : armed_(site_ids) {}

  bool should_fire(std::size_t site_id) override {
    const auto it = std::find(armed_.begin(), armed_.end(), site_id);
    if (it == armed_.end()) return false;
    armed_.erase(it);
    return true;
  }
  // True once every listed site has fired: the steered call took the path.
  bool all_fired() const { return armed_.empty(); }

 private:
  std::vector<std::size_t> armed_;
};

class ActOnce final : public fault_points::Controller {
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

}  // namespace segsim::scenarios
