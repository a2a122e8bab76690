// fuzz_scenario's structure-aware mutation (scenarios/fuzz_input_mutation.h):
// splitting an input along its layout and joining it back keeps its run, and
// a mutation changes one field and keeps the others.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "scenarios/fuzz_input.h"
#include "scenarios/fuzz_input_mutation.h"
#include "sim/random.h"

namespace segsim::scenarios {
namespace {

std::string random_bytes(sim::Rng& rng, std::size_t size) {
  std::string bytes;
  for (std::size_t i = 0; i < size; ++i) bytes += static_cast<char>(rng.next() & 0xff);
  return bytes;
}

// A stand-in for LLVMFuzzerMutate: flips the first byte (or writes one).
std::size_t flip_first(std::uint8_t* data, std::size_t size, std::size_t) {
  if (size == 0) {
    data[0] = 0x5a;
    return 1;
  }
  data[0] ^= 0xff;
  return size;
}

bool same_run(const RunSpec& a, const RunSpec& b) {
  return a.scenario == b.scenario && a.seed == b.seed && a.threads == b.threads && a.faults == b.faults &&
         a.fuzz_bytes == b.fuzz_bytes;
}

// Any bytes, short or long, rules or not: the joined parts decode to the same run.
TEST(FuzzInputMutation, SplitThenJoinKeepsTheRun) {
  sim::Rng rng(1616);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = random_bytes(rng, rng.below(48));
    if (bytes.size() > 10 && rng.chance(0.5)) bytes[10] = static_cast<char>(2 + rng.below(2));  // rules
    if (bytes.size() > 11 && rng.chance(0.5)) bytes[11] = static_cast<char>(bytes[11] | 0x80);  // points
    const std::string joined = join_fuzz_input(split_fuzz_input(bytes));
    EXPECT_TRUE(same_run(fuzz_run_spec(bytes), fuzz_run_spec(joined))) << i;
    EXPECT_EQ(join_fuzz_input(split_fuzz_input(joined)), joined) << i;  // a joined input is its own layout
  }
}

// One field at a time: a mutated input differs from its parent in the seed,
// the schedule, the faults, the client byte or the scenario byte — or is
// libFuzzer's flat mutation — and every field reaches new values.
TEST(FuzzInputMutation, AMutationChangesOneFieldAndKeepsTheOthers) {
  // Scenario 8, 3 clients, a rule and two points on, a 32-byte schedule.
  sim::Rng rng(16);
  const std::string parent = std::string("\x08", 1) + random_bytes(rng, 8) + std::string("\x02", 1) +
                             std::string("\x02\x82\x05", 3) + fuzz_point_mask_bytes(0x0300) + "\x07\x08" +
                             random_bytes(rng, 32);
  const RunSpec before = fuzz_run_spec(parent);
  ASSERT_EQ(split_fuzz_input(parent).faults.point_rates.size(), 2u);
  std::set<std::string> changed;
  for (std::uint64_t seed = 0; seed < 500; ++seed) {
    const std::string child = mutate_fuzz_input(parent, 4096, seed, flip_first);
    EXPECT_EQ(mutate_fuzz_input(parent, 4096, seed, flip_first), child) << "deterministic";
    const RunSpec after = fuzz_run_spec(child);
    const FuzzInputParts a = split_fuzz_input(parent);
    const FuzzInputParts b = split_fuzz_input(child);
    std::set<std::string> fields;
    if (a.head[0] != b.head[0]) fields.insert("scenario");
    if (a.head.substr(kFuzzSeedOffset, 8) != b.head.substr(kFuzzSeedOffset, 8)) fields.insert("seed");
    if (a.head[kFuzzClientsOffset] != b.head[kFuzzClientsOffset]) fields.insert("clients");
    if (before.faults != after.faults) fields.insert("faults");
    if (a.schedule != b.schedule) fields.insert("schedule");
    if (child.size() == parent.size() && child[0] == static_cast<char>(parent[0] ^ 0xff)) continue;  // flat
    EXPECT_LE(fields.size(), 1u) << seed;
    changed.insert(fields.begin(), fields.end());
  }
  EXPECT_EQ(changed, (std::set<std::string>{"scenario", "seed", "clients", "faults", "schedule"}));
}

std::set<std::string> rules_of(const std::string& spec) {
  std::set<std::string> rules;
  for (std::size_t start = 0; start <= spec.size();) {
    const std::size_t end = std::min(spec.find(',', start), spec.size());
    rules.insert(spec.substr(start, end - start));
    start = end + 1;
  }
  return rules;
}

// Switching a rule or a point on or off inserts or removes its rate byte: the
// other rules keep their rates (no rate shifts onto the next rule).
TEST(FuzzInputMutation, AFaultSwitchedKeepsTheOtherRates) {
  // Rule madvise:EAGAIN at 0.05, points 8 and 9 at 0.25 and 1.
  const std::string parent =
      std::string(10, '\0') + std::string("\x02\x82\x05", 3) + fuzz_point_mask_bytes(0x0300) + "\x07\x08" + "sched";
  const std::set<std::string> base = rules_of(fuzz_run_spec(parent).faults);
  ASSERT_EQ(base.size(), 3u);
  int added = 0;
  int removed = 0;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    const RunSpec after = fuzz_run_spec(mutate_fuzz_input(parent, 4096, seed, flip_first));
    if (after.faults == "none" || after.faults == "swarm" || after.fuzz_bytes != "sched") continue;
    const std::set<std::string> rules = rules_of(after.faults);
    if (rules.size() == base.size() + 1) {
      ++added;
      EXPECT_TRUE(std::includes(rules.begin(), rules.end(), base.begin(), base.end())) << after.faults;
    } else if (rules.size() + 1 == base.size()) {
      ++removed;
      EXPECT_TRUE(std::includes(base.begin(), base.end(), rules.begin(), rules.end())) << after.faults;
    }
  }
  EXPECT_GT(added, 0);
  EXPECT_GT(removed, 0);
}

TEST(FuzzInputMutation, StaysWithinTheMaximumSize) {
  sim::Rng rng(7);
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    const std::string parent = random_bytes(rng, 20 + rng.below(20));
    EXPECT_LE(mutate_fuzz_input(parent, parent.size(), seed, flip_first).size(), parent.size());
  }
}

}  // namespace
}  // namespace segsim::scenarios
