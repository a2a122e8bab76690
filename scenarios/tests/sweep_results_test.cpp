// Sweep results: JSON round trips and strict reading, JUnit XML, merging shards.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "faults/fault_injector.h"
#include "scenarios/plot_svg.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"
#include "scenarios/sweep.h"
#include "scenarios/safe_file.h"
#include "scenarios/tests/test_files.h"
#include "scenarios/tests/text_checks.h"
#include "scenarios/trace_json.h"

namespace segsim::scenarios {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::count;
using testing::expect_escaped;


// ---------------------------------------------------------------------------
// sweep results: JSON, JUnit, merge

SeedResult seed_result(std::uint64_t seed, SeedOutcome outcome, std::string detail = "",
                       std::uint64_t hash = 0) {
  SeedResult s;
  s.seed = seed;
  s.outcome = outcome;
  s.detail = std::move(detail);
  if (outcome != SeedOutcome::Passed) s.repro_path = fmt::format("segsim-failures/chicago-seed{}.json", seed);
  s.trace_hash = hash;
  s.steps = seed * 10;
  s.seconds = 0.25 * static_cast<double>(seed % 7);
  return s;
}

SweepResult sample_sweep() {
  RunSpec spec;
  spec.scenario = "chicago";
  spec.strategy = sim::StrategyKind::Pct;
  spec.faults = "mmap:ENOMEM@p=0.01";
  SweepResult r = sweep_settings(spec);
  r.probes = {{"alloc.invalid_size.zero", 3}, {"alloc.invalid_size.too_large", 0}};
  r.fault_point_asks = {{"alloc.cleanup.delay", 40}, {"cache.evict.yield", 0}};
  r.fault_point_fires = {{"alloc.cleanup.delay", 3}, {"cache.evict.yield", 0}};
  r.wall_seconds = 12.5;
  r.seeds = {seed_result(1, SeedOutcome::Passed, "", 0x0123456789abcdefULL),
             seed_result(2, SeedOutcome::Failed, "content: slot 3 reads \"x\" <not> 'y' & z\tü", 7),
             seed_result(3, SeedOutcome::Crashed, "killed by SIGSEGV (Segmentation fault)"),
             seed_result(4, SeedOutcome::TimedOut, "timed out after 60 s"),
             seed_result(UINT64_MAX, SeedOutcome::Passed, "", UINT64_MAX)};
  r.seeds[2].worker_stderr = "free(): double free detected in tcache 2";
  return r;
}

TEST(SweepJson, RoundTripsEveryField) {
  const SweepResult original = sample_sweep();
  std::string error;
  const auto parsed = sweep_from_json(sweep_to_json(original), &error);
  ASSERT_TRUE(parsed.ok()) << error;
  EXPECT_EQ(count(sweep_to_json(original), "\"stderr\""), 1u) << "written only for a seed that has one";
  EXPECT_EQ(parsed->scenario, original.scenario);
  EXPECT_EQ(parsed->strategy, original.strategy);
  EXPECT_EQ(parsed->faults, original.faults);
  EXPECT_EQ(settings_difference(*parsed, original), "");
  EXPECT_EQ(parsed->threads, 4u);  // resolved: the scenario's default
  EXPECT_EQ(parsed->probes, original.probes);
  EXPECT_EQ(parsed->fault_point_asks, original.fault_point_asks);
  EXPECT_EQ(parsed->fault_point_fires, original.fault_point_fires);
  EXPECT_EQ(parsed->wall_seconds, original.wall_seconds);
  ASSERT_EQ(parsed->seeds.size(), original.seeds.size());
  for (std::size_t i = 0; i < original.seeds.size(); ++i) {
    const SeedResult& a = original.seeds[i];
    const SeedResult& b = parsed->seeds[i];
    EXPECT_EQ(b.seed, a.seed);
    EXPECT_EQ(b.outcome, a.outcome);
    EXPECT_EQ(b.detail, a.detail);
    EXPECT_EQ(b.worker_stderr, a.worker_stderr);
    EXPECT_EQ(b.repro_path, a.repro_path);
    EXPECT_EQ(b.trace_hash, a.trace_hash);
    EXPECT_EQ(b.steps, a.steps);
    EXPECT_EQ(b.seconds, a.seconds);
  }
  EXPECT_EQ(parsed->failures(), 3u);
}

TEST(SweepJson, RefusesAnythingButItsOwnFormat) {
  const std::string good = sweep_to_json(sample_sweep());
  const auto edited = [&](auto edit) {
    nlohmann::ordered_json doc = nlohmann::ordered_json::parse(good);
    edit(doc);
    return doc.dump();
  };
  struct Case {
    std::string text;
    const char* says;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {good.substr(0, good.size() / 2), "not valid JSON"},
      {"[]", "expected a JSON object"},
      {edited([](auto& d) { d["format"] = "segsim-repro"; }), "not 'segsim-sweep'"},
      {edited([](auto& d) { d["version"] = 99; }), "version 99"},
      {edited([](auto& d) { d.erase("scenario"); }), "missing field 'scenario'"},
      {edited([](auto& d) { d["extra"] = 1; }), "unknown field 'extra'"},
      {edited([](auto& d) { d["wall_seconds"] = -1; }), "'wall_seconds'"},
      {edited([](auto& d) { d["seeds"] = "1..5"; }), "'seeds' must be an array"},
      {edited([](auto& d) { d["seeds"][0]["seed"] = "1"; }), "seeds[0]: field 'seed'"},
      {edited([](auto& d) { d["seeds"][1]["seed"] = -2; }), "seeds[1]: field 'seed'"},
      {edited([](auto& d) { d["seeds"][1]["outcome"] = "flaky"; }), "unknown outcome 'flaky'"},
      {edited([](auto& d) { d["seeds"][0]["trace_hash"] = "0x12"; }), "trace_hash '0x12'"},
      {edited([](auto& d) { d["seeds"][0].erase("steps"); }), "seeds[0]: missing field 'steps'"},
      {edited([](auto& d) { d["seeds"][2]["oops"] = true; }), "seeds[2]: unknown field 'oops'"},
      {edited([](auto& d) { d["seeds"][1]["seed"] = 1; }), "listed twice"},
      {edited([](auto& d) { d["failures"] = 0; }), "'failures' says 0"},
      {edited([](auto& d) { d.erase("settings"); }), "missing field 'settings'"},
      {edited([](auto& d) { d["settings"]["threads"] = 4294967297ULL; }), "settings: field 'threads'"},
      {edited([](auto& d) { d["probes"]["x"] = -1; }), "probe 'x'"},
      {edited([](auto& d) { d["fault_points"]["x"] = 1; }), "fault point 'x' must be an object"},
      {edited([](auto& d) { d["fault_points"]["alloc.cleanup.delay"]["fires"] = 41; }), "fired 41 times but was asked 40"},
      {edited([](auto& d) { d["fault_points"]["alloc.cleanup.delay"].erase("asks"); }), "missing field 'asks'"},
      {edited([](auto& d) { d["fault_points"]["alloc.cleanup.delay"]["when"] = 1; }), "unknown field 'when'"},
      // Numbers beyond a double: nlohmann's out_of_range, once an abort (exit 134).
      {std::string(good).replace(good.find("\"wall_seconds\": ") + 16, 4, "1e999"), "not valid JSON"},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto parsed = sweep_from_json(c.text, &error);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << c.text.substr(0, 200);
    if (parsed.ok()) continue;
    EXPECT_NE(error.find(c.says), std::string::npos) << "wanted '" << c.says << "', got: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

// Results written before fault points were counted read back with none.
TEST(SweepJson, ReadsResultsWithoutFaultPoints) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(sweep_to_json(sample_sweep()));
  doc.erase("fault_points");
  std::string error;
  const auto parsed = sweep_from_json(doc.dump(), &error);
  ASSERT_TRUE(parsed.ok()) << error;
  EXPECT_TRUE(parsed->fault_point_asks.empty());
  EXPECT_TRUE(parsed->fault_point_fires.empty());
  EXPECT_EQ(sweep_to_json(*parsed).find("fault_points"), std::string::npos);
}

TEST(SweepJunit, OneTestcasePerSeedWithEscapedFailures) {
  SweepResult sweep = sample_sweep();
  sweep.scenario = "chi<ca>go&\"co\"";
  sweep.seeds[1].detail = "content: <slot> & \"quote\" 'apos'\nsecond line \x01 bell";
  const std::string xml = sweep_to_junit(sweep);
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  EXPECT_EQ(count(xml, "<testcase "), sweep.seeds.size());
  EXPECT_EQ(count(xml, "<failure "), 3u);
  EXPECT_EQ(count(xml, "</failure>"), 3u);
  EXPECT_NE(xml.find("classname=\"chi&lt;ca&gt;go&amp;&quot;co&quot;\" name=\"seed 2\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("name=\"seed 18446744073709551615\""), std::string::npos);
  EXPECT_NE(xml.find("message=\"content: &lt;slot&gt; &amp; &quot;quote&quot; &apos;apos&apos;&#10;second line"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("type=\"timed-out\""), std::string::npos);
  EXPECT_NE(xml.find("segsim-failures/chicago-seed3.json"), std::string::npos);
  EXPECT_NE(xml.find("its stderr: free(): double free detected in tcache 2"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<slot>"), std::string::npos);
  EXPECT_EQ(xml.find("chi<ca>"), std::string::npos);
  expect_escaped(xml);
  EXPECT_EQ(xml.substr(xml.size() - std::string("</testsuites>\n").size()), "</testsuites>\n");
}

TEST(SweepMerge, CombinesShardsInSeedOrder) {
  SweepResult a = sample_sweep();
  SweepResult b = sample_sweep();
  a.seeds = {seed_result(1, SeedOutcome::Passed, "", 11), seed_result(3, SeedOutcome::Failed, "content: x", 33)};
  b.seeds = {seed_result(2, SeedOutcome::Passed, "", 22), seed_result(4, SeedOutcome::Crashed, "killed"),
             seed_result(3, SeedOutcome::Failed, "content: x", 33)};  // a re-run seed, same outcome
  a.wall_seconds = 3;
  b.wall_seconds = 5;
  std::string error;
  const auto merged = merge_sweeps({b, a}, &error);
  ASSERT_TRUE(merged.ok()) << error;
  std::vector<std::uint64_t> seeds;
  for (const SeedResult& s : merged->seeds) seeds.push_back(s.seed);
  EXPECT_EQ(seeds, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(merged->failures(), 2u);
  EXPECT_EQ(merged->scenario, "chicago");
  EXPECT_EQ(merged->wall_seconds, 5);
  // Probe and fault point counts are summed by name.
  EXPECT_EQ(merged->probes.front(), (ProbeCount{"alloc.invalid_size.zero", 6}));
  EXPECT_EQ(merged->fault_point_asks.front(), (ProbeCount{"alloc.cleanup.delay", 80}));
  EXPECT_EQ(merged->fault_point_fires.front(), (ProbeCount{"alloc.cleanup.delay", 6}));
  // Merging is idempotent and survives a JSON round trip of its output.
  const auto again = merge_sweeps({*merged, *merged}, &error);
  ASSERT_TRUE(again.ok()) << error;
  const auto parsed = sweep_from_json(sweep_to_json(*again), &error);
  ASSERT_TRUE(parsed.ok()) << error;
  EXPECT_EQ(parsed->seeds.size(), 4u);
}

TEST(SweepMerge, RefusesResultsOfDifferentSweepsOrContradictions) {
  const SweepResult base = sample_sweep();
  struct Case {
    std::vector<SweepResult> shards;
    const char* says;
  };
  SweepResult other_scenario = base;
  other_scenario.scenario = "budget";
  SweepResult other_strategy = base;
  other_strategy.strategy = "rr";
  SweepResult other_faults = base;
  other_faults.faults = "none";
  SweepResult contradicting = base;
  contradicting.seeds = {seed_result(2, SeedOutcome::Passed, "", 7)};
  SweepResult other_hash = base;
  other_hash.seeds = {seed_result(1, SeedOutcome::Passed, "", 0x42)};
  // Settings beyond scenario, strategy and faults: a --size 2 sweep is not a
  // shard of a default one (it used to merge, or to report "nondeterminism").
  SweepResult other_size = base;
  other_size.size = 2;
  SweepResult other_steps = base;
  other_steps.max_steps = 7;
  SweepResult other_build = base;
  other_build.build_id = "another build";
  const Case cases[] = {
      {{}, "no sweep results"},
      {{base, other_scenario}, "scenario 'chicago' vs 'budget'"},
      {{base, other_strategy}, "strategy 'pct' vs 'rr'"},
      {{base, other_faults}, "faults 'mmap:ENOMEM@p=0.01' vs 'none'"},
      {{base, other_size}, "size '1' vs '2'"},
      {{base, other_steps}, "max_steps '4000000' vs '7'"},
      {{base, other_build}, "build_id"},
      {{base, contradicting}, "seed 2 is failed in one result and passed in another"},
      {{base, other_hash}, "nondeterminism"},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto merged = merge_sweeps(c.shards, &error);
    EXPECT_FALSE(merged.ok()) << c.says;
    if (merged.ok()) continue;
    EXPECT_EQ(merged.error().code, Errc::InvalidConfig);
    EXPECT_NE(error.find(c.says), std::string::npos) << "wanted '" << c.says << "', got: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

TEST(SeedOutcomeName, NamesEveryOutcome) {
  EXPECT_EQ(seed_outcome_name(SeedOutcome::Passed), "passed");
  EXPECT_EQ(seed_outcome_name(SeedOutcome::Failed), "failed");
  EXPECT_EQ(seed_outcome_name(SeedOutcome::Crashed), "crashed");
  EXPECT_EQ(seed_outcome_name(SeedOutcome::TimedOut), "timed-out");
}

}  // namespace
}  // namespace segsim::scenarios
