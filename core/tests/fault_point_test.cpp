#include <gtest/gtest.h>

#include <set>
#include <string_view>
#include <vector>

#include "core/fault_point.h"

namespace segsim::fault_points {
namespace {

// Fires on the listed sites and records every consultation.
class RecordingController final : public Controller {
 public:
  explicit RecordingController(std::set<std::size_t> firing) : firing_(std::move(firing)) {}
  bool should_fire(std::size_t site_id) override {
    asked.push_back(site_id);
    return firing_.count(site_id) > 0;
  }
  std::vector<std::size_t> asked;

 private:
  std::set<std::size_t> firing_;
};

bool slow_path_site() { return SEGSIM_FAULT_POINT("alloc.pool.slow_path"); }

TEST(FaultPoint, InactiveWithoutController) { EXPECT_FALSE(slow_path_site()); }

TEST(FaultPoint, ControllerDecidesAndSeesTheSiteId) {
  constexpr std::size_t id = id_of("alloc.pool.slow_path");
  RecordingController controller({id});
  {
    ControllerScope scope(&controller);
    EXPECT_TRUE(slow_path_site());
  }
  EXPECT_FALSE(slow_path_site());  // uninstalled with the scope
  ASSERT_EQ(controller.asked.size(), 1u);
  EXPECT_EQ(controller.asked[0], id);
}

TEST(FaultPoint, NonFiringSiteIsConsultedButInactive) {
  RecordingController controller({});
  ControllerScope scope(&controller);
  EXPECT_FALSE(slow_path_site());
  EXPECT_EQ(controller.asked.size(), 1u);
}

TEST(FaultPoint, ScopesNest) {
  RecordingController outer({id_of("alloc.pool.slow_path")});
  RecordingController inner({});
  ControllerScope outer_scope(&outer);
  {
    ControllerScope inner_scope(&inner);
    EXPECT_FALSE(slow_path_site());
  }
  EXPECT_TRUE(slow_path_site());
}

TEST(FaultPoint, CatalogueNamesAreUniqueAndDescribed) {
  std::set<std::string_view> names;
  for (const Site& site : kFaultPoints) {
    EXPECT_TRUE(names.insert(site.name).second) << site.name;
    EXPECT_FALSE(site.effect.empty()) << site.name;
  }
}

}  // namespace
}  // namespace segsim::fault_points
