#include "core/fault_point.h"

namespace segsim::fault_points {

namespace detail {
bool fire(std::size_t site_id) {
  Controller* controller = g_controller.load(std::memory_order_acquire);
  return controller != nullptr && controller->should_fire(site_id);
}
}  // namespace detail

ControllerScope::ControllerScope(Controller* controller)
    : previous_(detail::g_controller.exchange(controller, std::memory_order_acq_rel)) {}

ControllerScope::~ControllerScope() {
  detail::g_controller.store(previous_, std::memory_order_release);
}

}  // namespace segsim::fault_points
