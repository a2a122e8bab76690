// A fault-point controller for unit tests: fires exactly the sites it names,
// every time they are asked.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <vector>

#include "core/fault_point.h"

namespace segsim::testing {

class FirePoints final : public fault_points::Controller {
 public:
  FirePoints(std::initializer_list<std::size_t> sites) : sites_(sites) {}
  bool should_fire(std::size_t site_id) override {
    return std::find(sites_.begin(), sites_.end(), site_id) != sites_.end();
  }

 private:
  std::vector<std::size_t> sites_;
};

}  // namespace segsim::testing
