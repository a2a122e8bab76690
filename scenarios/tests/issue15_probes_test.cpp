// The large-objects and pressure scenarios reach every required probe of the
// LargeObjectAllocator and the pressure loop (issue 15) within a few seeds:
// their swarm over operations and sizes covers the error paths and boundaries.
#include <gtest/gtest.h>

#include <string>

#include "core/probe.h"
#include "scenarios/run.h"

namespace segsim::scenarios {
namespace {

bool ours(std::string_view name) {
  return name.starts_with("large.") || name.starts_with("pressure.") || name.starts_with("cache.shrink.");
}

TEST(Issue15Probes, ScenariosReachEveryRequiredProbe) {
  std::vector<std::uint64_t> hits(probes::kProbes.size(), 0);  // summed over the runs
  for (const char* scenario : {"large-objects", "pressure"}) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      RunSpec spec;
      spec.scenario = scenario;
      spec.seed = seed;
      spec.faults = seed % 2 == 0 ? "swarm" : "none";
      std::string error;
      auto report = run_scenario(spec, {}, &error);
      ASSERT_TRUE(report.ok()) << error;
      ASSERT_TRUE(report->passed) << scenario << " seed " << seed << ": " << report->failure->signature();
      ASSERT_EQ(report->probe_hits.size(), hits.size());
      for (std::size_t i = 0; i < hits.size(); ++i) hits[i] += report->probe_hits[i];
    }
  }
  for (std::size_t i = 0; i < probes::kProbes.size(); ++i) {
    const probes::Probe& probe = probes::kProbes[i];
    if (!ours(probe.name)) continue;
    if (probe.required) {
      EXPECT_GT(hits[i], 0u) << probe.name << ": " << probe.what;
    }
    std::printf("%-40s %8llu%s\n", std::string(probe.name).c_str(), static_cast<unsigned long long>(hits[i]),
                probe.required ? "" : " (optional)");
  }
}

}  // namespace
}  // namespace segsim::scenarios
