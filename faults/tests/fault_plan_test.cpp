#include <gtest/gtest.h>

#include <cerrno>
#include <set>

#include "core/fault_point.h"
#include "faults/fault_injector.h"
#include "faults/fault_plan.h"

namespace segsim::faults {
namespace {

TEST(FaultPlan, ValidSpecsParseAndDescribeBackToThemselves) {
  for (const char* spec : {"none", "mmap:ENOMEM@nth=3", "madvise:EAGAIN@p=0.05",
                           "munmap:ENOMEM@after=100", "madvise:EINVAL@p=0.01,mmap:ENOMEM@p=0.001",
                           "async:delay@p=0.2", "async:reorder@p=1", "map_file:EIO@p=0.5",
                           "stat:ENOENT@nth=1", "point:alloc.pool.slow_path@p=0.25", "point:*@p=0.1"}) {
    std::string error;
    auto plan = parse_fault_plan(spec, &error);
    ASSERT_TRUE(plan.ok()) << spec << ": " << error;
    EXPECT_EQ(plan->describe(), spec);
  }
}

TEST(FaultPlan, FieldsAreParsed) {
  auto plan = parse_fault_plan("mmap:ENOMEM@nth=3,async:reorder,madvise:EAGAIN@after=7");
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->rules.size(), 3u);
  EXPECT_EQ(plan->rules[0].target, FaultTarget::OsCall);
  EXPECT_EQ(plan->rules[0].call, OsCall::Map);
  EXPECT_EQ(plan->rules[0].errno_value, ENOMEM);
  EXPECT_EQ(plan->rules[0].nth, 3u);
  EXPECT_EQ(plan->rules[1].target, FaultTarget::AsyncReorder);
  EXPECT_EQ(plan->rules[1].probability, 1.0);  // async default
  EXPECT_EQ(plan->rules[2].after, 7u);
}

TEST(FaultPlan, BadSpecsGiveOneClearLine) {
  struct Case {
    const char* spec;
    const char* says;
  };
  for (Case c : {Case{"", "empty"}, Case{"mmap", "TARGET:KIND"}, Case{"disk:ENOMEM@p=1", "unknown target 'disk'"},
                 Case{"mmap:ENOPE@p=1", "unknown errno 'ENOPE'"}, Case{"mmap:ENOMEM", "need a trigger"},
                 Case{"mmap:ENOMEM@nth=0", "nth must be"}, Case{"mmap:ENOMEM@nth=x", "nth must be"},
                 Case{"mmap:ENOMEM@p=1.5", "p must be"}, Case{"mmap:ENOMEM@p=nan", "p must be"},
                 Case{"mmap:ENOMEM@q=1", "unknown trigger 'q'"}, Case{"mmap:ENOMEM@", "empty trigger"},
                 Case{"async:sleep", "unknown async fault"}, Case{"async:delay@nth=2", "only p="},
                 Case{"point:no.such.site@p=1", "unknown fault point"}, Case{"point:*", "need a trigger"},
                 Case{"mmap:ENOMEM@p=1,", "stray ','"}, Case{"swarm", "expected TARGET:KIND"}}) {
    std::string error;
    auto plan = parse_fault_plan(c.spec, &error);
    ASSERT_FALSE(plan.ok()) << c.spec;
    EXPECT_EQ(plan.error().code, Errc::InvalidConfig);
    EXPECT_NE(error.find(c.says), std::string::npos) << c.spec << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

TEST(FaultPlan, OverlongSpecsAreRefused) {
  std::string spec;
  for (int i = 0; i < 65; ++i) spec += (i ? "," : "") + std::string("mmap:ENOMEM@p=0.5");
  std::string error;
  EXPECT_FALSE(parse_fault_plan(spec, &error).ok());
  EXPECT_NE(error.find("64 rules"), std::string::npos) << error;
  EXPECT_FALSE(parse_fault_plan(std::string(5000, 'x'), &error).ok());
}

TEST(FaultPlan, SwarmIsDeterministicPerSeedVariesAndDescribesConcretely) {
  std::set<std::string> distinct;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    const FaultPlan plan = swarm_plan(seed);
    EXPECT_EQ(plan.describe(), swarm_plan(seed).describe());
    auto reparsed = parse_fault_plan(plan.describe());
    ASSERT_TRUE(reparsed.ok()) << plan.describe();
    EXPECT_EQ(reparsed->describe(), plan.describe());
    distinct.insert(plan.describe());
    for (const FaultRule& rule : plan.rules) {
      if (rule.target == FaultTarget::OsCall) {
        EXPECT_GE(rule.probability, 0.001);
        EXPECT_LE(rule.probability, 0.1);
      }
    }
  }
  EXPECT_GT(distinct.size(), 150u);  // many fault mixes over a sweep
  auto via_spec = make_fault_plan("swarm", 7);
  ASSERT_TRUE(via_spec.ok());
  EXPECT_EQ(via_spec->describe(), swarm_plan(7).describe());
}

// asks(): every ask of a fault point is counted, fired or not, per site.
TEST(FaultInjectorAsks, EachAskOfAPointIsCountedFiredOrNot) {
  auto plan = parse_fault_plan("point:alloc.tcache.bypass@p=0.5");
  ASSERT_TRUE(plan.ok());
  FaultInjector injector(plan.value(), 7);
  ASSERT_TRUE(injector.may_fire());
  constexpr std::size_t kBypass = fault_points::id_of("alloc.tcache.bypass");
  constexpr std::size_t kOther = fault_points::id_of("release.tcache.bypass");
  int fired = 0;
  for (int i = 0; i < 64; ++i) fired += injector.should_fire(kBypass) ? 1 : 0;
  (void)injector.should_fire(kOther);
  EXPECT_EQ(injector.asks(kBypass), 64u);
  EXPECT_EQ(injector.asks(kOther), 1u);
  EXPECT_GT(fired, 0);
  EXPECT_LT(fired, 64);
  EXPECT_EQ(injector.counts().points_fired, static_cast<std::uint64_t>(fired));
  EXPECT_EQ(injector.fires(kBypass), static_cast<std::uint64_t>(fired));
  EXPECT_EQ(injector.fires(kOther), 0u);  // asked, but no rule targets it
}

}  // namespace
}  // namespace segsim::faults
