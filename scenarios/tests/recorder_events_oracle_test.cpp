// The recorder-events oracle (scenarios/oracles/recorder_events.h): it
// accepts a report that keeps each call as made and fires on a lost, an
// extra, an altered or a misclassified call, a lost nesting, a report
// without the layers' configs or with other ones.
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "core/flight_recorder.h"
#include "scenarios/oracles/recorder_events.h"

namespace segsim::scenarios {
namespace {

using flight_recorder::Op;

CrashEvent call(Op op, std::uint32_t instance, std::uint32_t id0, std::uint64_t bytes, std::optional<Errc> error) {
  CrashEvent e;
  e.op = op;
  e.allocator = instance;
  e.region = id0;
  e.bytes = bytes;
  e.error = error;
  return e;
}

struct Fixture {
  std::vector<ExpectedLayerEvent> expected;
  CrashReport report;
  CrashSlabConfig slab;
  CrashLargeConfig large;

  Fixture() {
    const CrashEvent slab_call = call(Op::SlabAllocate, 3, 1, 64, std::nullopt);
    const CrashEvent arena_call = call(Op::ArenaBegin, 9, 1, 0, std::nullopt);
    const CrashEvent arena_refused = call(Op::ArenaBeginChild, 9, 0, 0, Errc::InvalidPointer);
    const CrashEvent large_call = call(Op::LargeRelease, 4, 2, 0, Errc::DoubleFree);
    expected.push_back({RecordedLayerKind::Slab, slab_call, true});
    ExpectedLayerEvent arena{RecordedLayerKind::Arena, arena_call, false};
    arena.event.allocator = 0;  // not visible through the API
    expected.push_back(arena);
    arena.event = arena_refused;
    arena.event.allocator = 0;
    expected.push_back(arena);
    expected.push_back({RecordedLayerKind::Large, large_call, true});
    CrashThread thread;
    CrashEvent nested = call(Op::Allocate, 1, 5, 65536, std::nullopt);
    nested.depth = 1;
    thread.events = {nested, slab_call, arena_call, arena_refused, large_call};
    report.threads.push_back(thread);
    slab.allocator = 3;
    slab.slab_bytes = 65536;
    slab.magazine_capacity = {1, 2, 3};
    large.allocator = 4;
    large.fit = 2;
    report.slab = slab;
    report.large = large;
  }
  std::optional<std::string> problem() const { return recorded_layers_problem(expected, report, true, slab, large); }
  std::vector<CrashEvent>& events() { return report.threads.front().events; }
};

TEST(RecorderEventsOracle, AcceptsAReportThatKeepsEveryCall) {
  const Fixture f;
  EXPECT_EQ(f.problem(), std::nullopt);
}

TEST(RecorderEventsOracle, FiresOnALostOrAnExtraCall) {
  Fixture lost;
  lost.events().pop_back();
  EXPECT_TRUE(lost.problem());
  Fixture extra;
  extra.events().push_back(call(Op::SlabFlush, 3, 0, 0, std::nullopt));
  EXPECT_TRUE(extra.problem());
}

TEST(RecorderEventsOracle, FiresOnAnAlteredCall) {
  Fixture result;
  result.events()[4].error = Errc::InvalidPointer;  // another refusal
  EXPECT_TRUE(result.problem());
  Fixture ok;
  ok.events()[3].error.reset();  // a refusal recorded as a success
  EXPECT_TRUE(ok.problem());
  Fixture ids;
  ids.events()[1].region = 2;
  EXPECT_TRUE(ids.problem());
  Fixture instance;
  instance.events()[1].allocator = 7;
  EXPECT_TRUE(instance.problem());
  Fixture arena_instance;  // the manager's id changes between its calls
  arena_instance.events()[3].allocator = 10;
  EXPECT_TRUE(arena_instance.problem());
  Fixture depth;  // the program's call recorded as nested
  depth.events()[1].depth = 1;
  EXPECT_TRUE(depth.problem());
}

TEST(RecorderEventsOracle, FiresOnACallOfAnotherLayer) {
  Fixture f;
  f.expected[0].event.op = Op::ArenaCommit;  // the slab's call, yet an arena operation
  f.events()[1].op = Op::ArenaCommit;
  EXPECT_TRUE(f.problem());
}

TEST(RecorderEventsOracle, FiresWhenTheLayersOwnCallsAreNotNested) {
  Fixture f;
  f.events().erase(f.events().begin());
  EXPECT_TRUE(f.problem());
  EXPECT_EQ(recorded_layers_problem(f.expected, f.report, false, f.slab, f.large), std::nullopt);
}

TEST(RecorderEventsOracle, FiresOnMissingOrOtherConfigs) {
  Fixture no_slab;
  no_slab.report.slab.reset();
  EXPECT_TRUE(no_slab.problem());
  Fixture other_slab;
  other_slab.report.slab->magazine_capacity[1] = 4;
  EXPECT_TRUE(other_slab.problem());
  Fixture no_large;
  no_large.report.large.reset();
  EXPECT_TRUE(no_large.problem());
  Fixture other_large;
  other_large.report.large->fit = 0;
  EXPECT_TRUE(other_large.problem());
}

}  // namespace
}  // namespace segsim::scenarios
