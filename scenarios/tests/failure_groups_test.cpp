// Failure groups (scenarios/failure_groups.h): stable signatures, grouping,
// the one-screen summary and the JSON; and that sharding a sweep does not
// change its groups.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rapidcheck/gtest.h>

#include "scenarios/failure_groups.h"
#include "scenarios/sweep.h"

namespace segsim::scenarios {
namespace {

SeedResult seed_result(std::uint64_t seed, SeedOutcome outcome, std::string detail, std::string repro = "") {
  SeedResult s;
  s.seed = seed;
  s.outcome = outcome;
  s.detail = std::move(detail);
  s.repro_path = std::move(repro);
  s.trace_hash = seed * 7919;
  return s;
}

SweepResult sweep_of(std::vector<SeedResult> seeds) {
  SweepResult r;
  r.scenario = "chicago";
  r.strategy = "random";
  r.faults = "none";
  r.bug = "evict-no-return";
  r.build_id = "test build";
  r.seeds = std::move(seeds);
  return r;
}

std::size_t line_count(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST(MaskNumbers, ReplacesFreeStandingNumbers) {
  EXPECT_EQ(mask_numbers("refused 13 release(s) (0 made on purpose)"), "refused N release(s) (N made on purpose)");
  EXPECT_EQ(mask_numbers("byte offset 0 of 4096 bytes"), "byte offset N of N bytes");
  EXPECT_EQ(mask_numbers("reads 0x00, 0xbf was written"), "reads N, N was written");
  EXPECT_EQ(mask_numbers("timed out after 60.5 s"), "timed out after N s");
  EXPECT_EQ(mask_numbers("42"), "N");
  EXPECT_EQ(mask_numbers("page 10 slot 0"), "page N slot N");
  EXPECT_EQ(mask_numbers("class 64KiB"), "class NKiB");
}

TEST(MaskNumbers, KeepsDigitsInsideWords) {
  EXPECT_EQ(mask_numbers("killed by SIGSEGV"), "killed by SIGSEGV");
  EXPECT_EQ(mask_numbers("x86_64 sha1 fiber#3"), "x86_64 sha1 fiber#N");
  EXPECT_EQ(mask_numbers("seed001 v2"), "seed001 v2");
  EXPECT_EQ(mask_numbers("version 1."), "version N.");
  EXPECT_EQ(mask_numbers("0x"), "N" "x");
  EXPECT_EQ(mask_numbers(""), "");
}

TEST(FailureSignature, NamesTheOutcomeAndMasksNumbers) {
  const SeedResult a = seed_result(1, SeedOutcome::Failed, "double-free: refused 13 release(s)");
  const SeedResult b = seed_result(2, SeedOutcome::Failed, "double-free: refused 12 release(s)");
  const SeedResult c = seed_result(3, SeedOutcome::Crashed, "double-free: refused 12 release(s)");
  EXPECT_EQ(failure_signature(a), "failed: double-free: refused N release(s)");
  EXPECT_EQ(failure_signature(a), failure_signature(b));
  EXPECT_NE(failure_signature(b), failure_signature(c));
  EXPECT_EQ(failure_signature(seed_result(4, SeedOutcome::Crashed, "killed by SIGSEGV")),
            "crashed: killed by SIGSEGV");
}

TEST(GroupFailures, CountsFirstSeedAndRepresentative) {
  // Out of order on purpose: merged shards need not be sorted.
  const SweepResult result = sweep_of({
      seed_result(9, SeedOutcome::Failed, "leak: 800 page(s) still borrowed", "f/chicago-seed9.json"),
      seed_result(3, SeedOutcome::Passed, ""),
      seed_result(5, SeedOutcome::Failed, "leak: 16 page(s) still borrowed", "f/chicago-seed5.json"),
      seed_result(2, SeedOutcome::Failed, "leak: 4 page(s) still borrowed", ""),  // its repro could not be written
      seed_result(7, SeedOutcome::Crashed, "killed by SIGABRT", "f/chicago-seed7.json"),
      seed_result(4, SeedOutcome::TimedOut, "timed out after 60 s", "f/chicago-seed4.json"),
  });
  const std::vector<FailureGroup> groups = group_failures(result);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].signature, "failed: leak: N page(s) still borrowed");
  EXPECT_EQ(groups[0].count, 3u);
  EXPECT_EQ(groups[0].first_seed, 2u);
  EXPECT_EQ(groups[0].repro_seed, 5u);  // the lowest seed with a repro
  EXPECT_EQ(groups[0].repro_path, "f/chicago-seed5.json");
  EXPECT_EQ(groups[0].detail, "leak: 16 page(s) still borrowed");
  EXPECT_EQ(groups[0].example_seeds, (std::vector<std::uint64_t>{2, 5, 9}));
  // Ties on count: by first seed.
  EXPECT_EQ(groups[1].outcome, SeedOutcome::TimedOut);
  EXPECT_EQ(groups[1].first_seed, 4u);
  EXPECT_EQ(groups[2].outcome, SeedOutcome::Crashed);
  EXPECT_EQ(groups[2].repro_path, "f/chicago-seed7.json");
}

TEST(GroupFailures, NoFailuresNoGroupsAndNoSummary) {
  const SweepResult result = sweep_of({seed_result(1, SeedOutcome::Passed, ""), seed_result(2, SeedOutcome::Passed, "")});
  EXPECT_TRUE(group_failures(result).empty());
  EXPECT_EQ(failure_groups_summary(result, group_failures(result)), "");
}

TEST(GroupFailures, GroupWithoutAnyReproSaysSo) {
  const SweepResult result = sweep_of({seed_result(6, SeedOutcome::Failed, "content: page 1 slot 2")});
  const std::vector<FailureGroup> groups = group_failures(result);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].repro_seed, 6u);
  EXPECT_EQ(groups[0].repro_path, "");
  EXPECT_NE(failure_groups_summary(result, groups).find("seed 6: no repro was written"), std::string::npos);
}

TEST(FailureGroupsSummary, FitsOneScreen) {
  std::vector<SeedResult> seeds;
  // 30 signatures (distinct words, not numbers), 1000 failing seeds.
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    seeds.push_back(seed_result(seed, SeedOutcome::Failed, fmt::format("oracle-{}: value {}", char('a' + seed % 26), seed),
                                fmt::format("f/s{}.json", seed)));
  }
  seeds.push_back(seed_result(1001, SeedOutcome::Crashed, "killed by SIGSEGV", "f/s1001.json"));
  const SweepResult result = sweep_of(seeds);
  const std::vector<FailureGroup> groups = group_failures(result);
  ASSERT_EQ(groups.size(), 27u);
  const std::string summary = failure_groups_summary(result, groups, 8);
  EXPECT_LE(line_count(summary), 2u + 2 * 8 + 1);
  EXPECT_NE(summary.find("failures: 1001 of 1001 seeds, 27 signature(s)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("19 more signature(s)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("segsim replay f/s"), std::string::npos) << summary;
  // Every group shown when they fit: no "more" line.
  EXPECT_EQ(failure_groups_summary(result, groups, 100).find("more signature"), std::string::npos);
}

TEST(FailureGroupsJson, HoldsEveryGroup) {
  const SweepResult result = sweep_of({
      seed_result(1, SeedOutcome::Failed, "leak: 3 page(s)", "f/a.json"),
      seed_result(2, SeedOutcome::Failed, "leak: 4 page(s)", "f/b.json"),
      seed_result(3, SeedOutcome::Passed, ""),
  });
  const auto json = nlohmann::json::parse(failure_groups_to_json(result, group_failures(result)));
  EXPECT_EQ(json["format"], "segsim-failure-groups");
  EXPECT_EQ(json["version"], 1);
  EXPECT_EQ(json["bug"], "evict-no-return");
  EXPECT_EQ(json["seeds"], 3);
  EXPECT_EQ(json["failures"], 2);
  ASSERT_EQ(json["groups"].size(), 1u);
  const auto& group = json["groups"][0];
  EXPECT_EQ(group["signature"], "failed: leak: N page(s)");
  EXPECT_EQ(group["outcome"], "failed");
  EXPECT_EQ(group["count"], 2);
  EXPECT_EQ(group["first_seed"], 1);
  EXPECT_EQ(group["repro_seed"], 1);
  EXPECT_EQ(group["repro"], "f/a.json");
  EXPECT_EQ(group["detail"], "leak: 3 page(s)");
  EXPECT_EQ(group["example_seeds"], nlohmann::json::array({1, 2}));
}

// However a sweep is cut into shards and merged back, its groups are the same,
// and every failing seed is counted in exactly one group.
RC_GTEST_PROP(FailureGroupsProperty, ShardingDoesNotChangeTheGroups, ()) {
  const auto outcomes = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 8));
  const auto shard_count = *rc::gen::inRange<std::uint32_t>(1, 6);
  std::vector<SeedResult> seeds;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const std::uint64_t seed = 100 + i;
    const int kind = outcomes[i];
    if (kind < 3) {
      seeds.push_back(seed_result(seed, SeedOutcome::Passed, ""));
    } else {
      const SeedOutcome outcome = kind == 7 ? SeedOutcome::Crashed : SeedOutcome::Failed;
      // kind 6 has no repro: a representative must skip it when it can.
      seeds.push_back(seed_result(seed, outcome, fmt::format("oracle{}: count {}", kind % 2, seed),
                                  kind == 6 ? "" : fmt::format("f/{}.json", seed)));
    }
  }
  const SweepResult whole = sweep_of(seeds);
  std::vector<SweepResult> shards(shard_count, sweep_of({}));
  // Reverse order inside each shard: grouping must not rely on sorted input.
  for (std::size_t i = seeds.size(); i-- > 0;) shards[i % shard_count].seeds.push_back(seeds[i]);
  std::string error;
  auto merged = merge_sweeps(shards, &error);
  RC_ASSERT(merged.ok());

  const std::vector<FailureGroup> a = group_failures(whole);
  const std::vector<FailureGroup> b = group_failures(merged.value());
  RC_ASSERT(a.size() == b.size());
  std::uint64_t counted = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    RC_ASSERT(a[i].signature == b[i].signature);
    RC_ASSERT(a[i].count == b[i].count);
    RC_ASSERT(a[i].first_seed == b[i].first_seed);
    RC_ASSERT(a[i].repro_seed == b[i].repro_seed);
    RC_ASSERT(a[i].repro_path == b[i].repro_path);
    RC_ASSERT(a[i].example_seeds == b[i].example_seeds);
    counted += a[i].count;
  }
  RC_ASSERT(counted == whole.failures());
}

}  // namespace
}  // namespace segsim::scenarios
