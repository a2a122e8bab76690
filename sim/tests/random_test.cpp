// Known answers for sim/random.h, the root of determinism: every repro and
// trace hash follows from these streams, so a change to a generator must fail
// here first, not silently shift every recorded run. The expected values come
// from the published reference outputs (splitmix64 from seed 0, FNV-1a of "a"
// and "foobar") and, for the rest, from an independent implementation of the
// same algorithms (Python, integer arithmetic).
#include "sim/random.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace segsim::sim {
namespace {

TEST(RandomKnownAnswers, Splitmix64FromSeedZeroIsTheReferenceSequence) {
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64(state), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64(state), 0x06c45d188009454fULL);
  std::uint64_t other = 1234567;
  EXPECT_EQ(splitmix64(other), 0x599ed017fb08fc85ULL);
  EXPECT_EQ(splitmix64(other), 0x2c73f08458540fa5ULL);
  EXPECT_EQ(splitmix64(other), 0x883ebce5a3f27c77ULL);
}

TEST(RandomKnownAnswers, HashNameIsFnv1a64) {
  EXPECT_EQ(hash_name(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(hash_name("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(hash_name("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(hash_name("scheduler"), 0xa3e66bbb9ba9c7faULL);
  static_assert(hash_name("a") == 0xaf63dc4c8601ec8cULL, "usable at compile time");
}

TEST(RandomKnownAnswers, DerivedSeedsDependOnRootAndName) {
  EXPECT_EQ(derive_seed(42, "scheduler"), 0x5ee45ea0d54665ccULL);
  EXPECT_EQ(derive_seed(42, "workload"), 0x417d882b2031893dULL);
  EXPECT_EQ(derive_seed(0, "faults"), 0x1278f84c7095ca01ULL);
}

TEST(RandomKnownAnswers, Xoshiro256StarStarStreams) {
  Rng zero(0);
  const std::array<std::uint64_t, 4> from_zero = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL,
                                                  0x1a5f849d4933e6e0ULL, 0x6aa594f1262d2d2cULL};
  for (std::uint64_t expected : from_zero) EXPECT_EQ(zero.next(), expected);
  Rng forty_two(42);
  const std::array<std::uint64_t, 4> from_42 = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
                                                0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL};
  for (std::uint64_t expected : from_42) EXPECT_EQ(forty_two.next(), expected);
}

TEST(RandomKnownAnswers, BelowSmallBounds) {
  Rng rng(42);
  const std::array<std::uint64_t, 8> tens = {0, 3, 6, 9, 9, 7, 7, 8};
  for (std::uint64_t expected : tens) EXPECT_EQ(rng.below(10), expected);
  Rng again(42);
  const std::array<std::uint64_t, 4> thousands = {83, 378, 680, 924};
  for (std::uint64_t expected : thousands) EXPECT_EQ(again.below(1000), expected);
}

// A bound just over 2^63 rejects about half the draws: the rejection loop's
// consumption of the stream is part of the answer.
TEST(RandomKnownAnswers, BelowAHugeBoundRejects) {
  Rng rng(9);
  const std::uint64_t bound = (std::uint64_t{1} << 63) + 1;
  const std::array<std::uint64_t, 4> expected = {0x2030cdc2e8a97dfcULL, 0x10f485e418402d8bULL,
                                                 0x5dc8ee5176f72626ULL, 0x5f48c8ddf17fe950ULL};
  for (std::uint64_t value : expected) EXPECT_EQ(rng.below(bound), value);
}

TEST(RandomKnownAnswers, UnitAndChance) {
  Rng rng(7);
  EXPECT_DOUBLE_EQ(rng.unit(), 0.7005764821796896);
  EXPECT_DOUBLE_EQ(rng.unit(), 0.2787512294737843);
  EXPECT_DOUBLE_EQ(rng.unit(), 0.8396274618764198);
  Rng coin(7);
  const std::array<bool, 8> heads = {false, true, false, false, false, false, true, true};
  for (bool expected : heads) EXPECT_EQ(coin.chance(0.5), expected);
}

}  // namespace
}  // namespace segsim::sim
