// TxnArenaManager unit tests: profiles, bump allocation and growth, limits,
// savepoints (commit into the parent, rollback), refused ends, bulk release,
// profile suggestion, stats and audit.
#include <gtest/gtest.h>

#include <cstring>

#include "core/tests/allocator_fixture.h"
#include "core/txn_arena.h"

namespace segsim::testing {
namespace {

class ArenaTest : public AllocatorTest {
 protected:
  void SetUp() override {
    SegmentAllocatorConfig config = small_config();
    config.budget_bytes = 64 * MiB;
    make(config);
    auto created = TxnArenaManager::create(*allocator);
    ASSERT_TRUE(created.ok());
    arenas = std::move(created.value());
  }
  void TearDown() override {
    if (arenas) {
      const auto violations = arenas->audit();
      EXPECT_TRUE(violations.empty()) << violations.front();
      arenas.reset();
      EXPECT_EQ(allocator->stats().live_slices(), 0u) << "every chunk went back";
    }
    AllocatorTest::TearDown();
  }
  TxnArena* begin(ArenaProfile profile, std::uint64_t txn = 1) {
    auto arena = arenas->begin(txn, profile);
    EXPECT_TRUE(arena.ok()) << arena.error().describe();
    return arena.ok() ? arena.value() : nullptr;
  }
  std::unique_ptr<TxnArenaManager> arenas;
};

TEST(ArenaProfiles, FollowTheSeed) {
  EXPECT_EQ(profile_spec(ArenaProfile::Tiny).initial_bytes, 4 * KiB);
  EXPECT_EQ(profile_spec(ArenaProfile::Tiny).limit_bytes, 64 * KiB);
  EXPECT_EQ(profile_spec(ArenaProfile::Medium).limit_bytes, 4 * MiB);
  EXPECT_EQ(profile_spec(ArenaProfile::Huge).initial_bytes, 16 * MiB);
  EXPECT_EQ(profile_for(9'999), ArenaProfile::Tiny);
  EXPECT_EQ(profile_for(10'000), ArenaProfile::Small);
  EXPECT_EQ(profile_for(500'000), ArenaProfile::Medium);
  EXPECT_EQ(profile_for(5'000'000), ArenaProfile::Large);
  EXPECT_EQ(profile_for(50'000'000), ArenaProfile::Huge);
}

TEST_F(ArenaTest, BeginTakesTheInitialChunks) {
  TxnArena* tiny = begin(ArenaProfile::Tiny);
  EXPECT_EQ(tiny->reserved_bytes(), 4 * KiB);
  TxnArena* large = begin(ArenaProfile::Large, 2);
  EXPECT_EQ(large->reserved_bytes(), 2 * MiB);
  EXPECT_EQ(large->chunk_count(), 8u) << "above 256 KiB: whole largest-class segments";
  EXPECT_TRUE(arenas->commit(tiny->id()).ok());
  EXPECT_TRUE(arenas->rollback(large->id()).ok());
}

TEST_F(ArenaTest, ALargeRootFillsItsInitialChunksBeforeGrowing) {
  TxnArena* large = begin(ArenaProfile::Large);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(large->allocate(200 * KiB).ok());
  EXPECT_EQ(large->reserved_bytes(), 2 * MiB) << "eight 200 KiB objects fit the eight initial chunks";
  ASSERT_TRUE(large->allocate(200 * KiB).ok());
  EXPECT_GT(large->reserved_bytes(), 2 * MiB);
  EXPECT_TRUE(arenas->rollback(large->id()).ok());
}

TEST_F(ArenaTest, BumpsAlignsAndGrows) {
  TxnArena* arena = begin(ArenaProfile::Tiny);
  std::byte* a = arena->allocate(10).value();
  std::byte* b = arena->allocate(8, 64).value();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % 64, 0u);
  EXPECT_GE(b, a + 10);
  std::memset(a, 1, 10);
  std::memset(b, 2, 8);
  std::byte* big = arena->allocate(6000).value();  // does not fit: a new chunk
  std::memset(big, 3, 6000);
  EXPECT_EQ(arena->chunk_count(), 2u);
  EXPECT_TRUE(arena->contains(big, 6000));
  EXPECT_EQ(arenas->owner_of(big), arena->id());
  EXPECT_EQ(a[9], std::byte{1});
  EXPECT_TRUE(arenas->commit(arena->id()).ok());
  EXPECT_EQ(arenas->owner_of(big), 0u);
}

TEST_F(ArenaTest, RefusesBadRequests) {
  TxnArena* arena = begin(ArenaProfile::Small);
  EXPECT_EQ(arena->allocate(0).error().code, Errc::InvalidSize);
  EXPECT_EQ(arena->allocate(kArenaMaxObjectBytes + 1).error().code, Errc::InvalidSize);
  EXPECT_EQ(arena->allocate(8, 3).error().code, Errc::InvalidSize);
  EXPECT_EQ(arena->allocate(8, 8192).error().code, Errc::InvalidSize);
  EXPECT_EQ(arena->used_bytes(), 0u);
  EXPECT_TRUE(arenas->rollback(arena->id()).ok());
}

TEST_F(ArenaTest, OverTheLimitIsOutOfBudgetAndChangesNothing) {
  TxnArena* arena = begin(ArenaProfile::Tiny);
  Result<std::byte*> last = nullptr;
  while ((last = arena->allocate(3000)).ok()) {
  }
  EXPECT_EQ(last.error().code, Errc::OutOfBudget);
  const std::size_t reserved = arena->reserved_bytes();
  const std::size_t used = arena->used_bytes();
  EXPECT_LE(reserved, 64 * KiB);
  EXPECT_EQ(arena->allocate(3000).error().code, Errc::OutOfBudget);
  EXPECT_EQ(arena->reserved_bytes(), reserved);
  EXPECT_EQ(arena->used_bytes(), used);
  EXPECT_GE(arenas->stats().over_limit, 2u);
  EXPECT_TRUE(arenas->rollback(arena->id()).ok());
}

TEST_F(ArenaTest, ChildCommitHandsChunksToTheParent) {
  TxnArena* root = begin(ArenaProfile::Tiny);
  TxnArena* child = arenas->begin_child(root->id()).value();
  EXPECT_EQ(child->depth(), 1u);
  std::byte* kept = child->allocate(100).value();
  std::memset(kept, 7, 100);
  const std::size_t slices = allocator->stats().live_slices();
  ASSERT_TRUE(arenas->commit(child->id()).ok());
  EXPECT_EQ(allocator->stats().live_slices(), slices) << "the child's chunk is now the parent's";
  EXPECT_EQ(arenas->owner_of(kept), root->id());
  EXPECT_EQ(kept[99], std::byte{7});
  EXPECT_TRUE(root->allocate(10).ok()) << "the parent keeps bumping";
  ASSERT_TRUE(arenas->commit(root->id()).ok());
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
}

TEST_F(ArenaTest, ChildRollbackReturnsItsChunksAtOnce) {
  TxnArena* root = begin(ArenaProfile::Small);
  TxnArena* child = arenas->begin_child(root->id()).value();
  std::byte* gone = child->allocate(20 * KiB).value();
  const std::size_t tree = root->tree_reserved_bytes();
  ASSERT_TRUE(arenas->rollback(child->id()).ok());
  EXPECT_LT(root->tree_reserved_bytes(), tree);
  EXPECT_EQ(arenas->owner_of(gone), 0u);
  EXPECT_EQ(root->live_children(), 0u);
  ASSERT_TRUE(arenas->rollback(root->id()).ok());
}

TEST_F(ArenaTest, AParentCannotEndWhileAChildLives) {
  TxnArena* root = begin(ArenaProfile::Tiny);
  TxnArena* child = arenas->begin_child(root->id()).value();
  TxnArena* grandchild = arenas->begin_child(child->id()).value();
  EXPECT_EQ(arenas->commit(root->id()).error().code, Errc::InUse);
  EXPECT_EQ(arenas->rollback(child->id()).error().code, Errc::InUse);
  EXPECT_TRUE(arenas->find(root->id()).ok()) << "nothing changed";
  EXPECT_EQ(arenas->stats().live_arenas, 3u);
  ASSERT_TRUE(arenas->rollback(grandchild->id()).ok());
  ASSERT_TRUE(arenas->commit(child->id()).ok());
  ASSERT_TRUE(arenas->commit(root->id()).ok());
}

TEST_F(ArenaTest, EndingTwiceOrAnUnknownIdIsRefused) {
  TxnArena* root = begin(ArenaProfile::Tiny);
  const std::uint64_t id = root->id();
  ASSERT_TRUE(arenas->commit(id).ok());
  EXPECT_EQ(arenas->commit(id).error().code, Errc::DoubleFree);
  EXPECT_EQ(arenas->rollback(id).error().code, Errc::DoubleFree);
  EXPECT_EQ(arenas->begin_child(id).error().code, Errc::DoubleFree);
  EXPECT_EQ(arenas->rollback(999).error().code, Errc::InvalidPointer);
  EXPECT_EQ(arenas->find(0).error().code, Errc::InvalidPointer);
  EXPECT_EQ(arenas->stats().refused_ends, 3u);
}

TEST_F(ArenaTest, LimitCountsTheWholeTransactionTree) {
  TxnArena* root = begin(ArenaProfile::Tiny);
  TxnArena* child = arenas->begin_child(root->id()).value();
  while (child->allocate(4000).ok()) {
  }
  EXPECT_EQ(root->allocate(8 * KiB).error().code, Errc::OutOfBudget);
  EXPECT_LE(root->tree_reserved_bytes(), 64 * KiB);
  ASSERT_TRUE(arenas->rollback(child->id()).ok());
  EXPECT_TRUE(root->allocate(8 * KiB).ok()) << "the rollback gave the budget back";
  ASSERT_TRUE(arenas->rollback(root->id()).ok());
}

TEST_F(ArenaTest, SegmentRefusalChangesNothing) {
  SegmentAllocatorConfig tight = small_config();
  tight.budget_bytes = 256 * KiB;  // one region
  arenas.reset();
  make(tight);
  arenas = TxnArenaManager::create(*allocator).value();
  EXPECT_EQ(arenas->begin(1, ArenaProfile::Large).error().code, Errc::OutOfBudget);
  EXPECT_EQ(allocator->stats().live_slices(), 0u) << "the chunks taken were given back";
  TxnArena* root = begin(ArenaProfile::Medium);
  ASSERT_TRUE(root->allocate(1).ok());  // the next 256 KiB needs a second chunk
  const std::size_t reserved = root->reserved_bytes();
  auto refused = root->allocate(256 * KiB);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::OutOfBudget);
  EXPECT_EQ(root->reserved_bytes(), reserved);
  ASSERT_TRUE(arenas->rollback(root->id()).ok());
}

TEST_F(ArenaTest, SuggestsTheProfileCoveringMostTransactions) {
  EXPECT_EQ(arenas->suggest_profile(), ArenaProfile::Tiny);
  for (int i = 0; i < 20; ++i) {
    TxnArena* arena = begin(ArenaProfile::Small, static_cast<std::uint64_t>(i));
    for (int k = 0; k < (i < 18 ? 10 : 1); ++k) ASSERT_TRUE(arena->allocate(4 * KiB).ok());
    ASSERT_TRUE(arenas->commit(arena->id()).ok());
  }
  EXPECT_EQ(arenas->suggest_profile(), ArenaProfile::Small) << "90 % used 40 KiB";
  auto estimated = arenas->begin_estimated(99, std::nullopt);
  ASSERT_TRUE(estimated.ok());
  EXPECT_EQ(estimated.value()->profile(), ArenaProfile::Small);
  ASSERT_TRUE(arenas->rollback(estimated.value()->id()).ok());
}

TEST_F(ArenaTest, StatsCountEveryEnd) {
  TxnArena* a = begin(ArenaProfile::Tiny);
  TxnArena* b = begin(ArenaProfile::Small, 2);
  ASSERT_TRUE(arenas->commit(a->id()).ok());
  ASSERT_TRUE(arenas->rollback(b->id()).ok());
  const TxnArenaStats stats = arenas->stats();
  EXPECT_EQ(stats.commits, 1u);
  EXPECT_EQ(stats.rollbacks, 1u);
  EXPECT_EQ(stats.live_arenas, 0u);
  EXPECT_EQ(stats.reserved_bytes, 0u);
  EXPECT_EQ(stats.chunks_taken, stats.chunks_returned);
  EXPECT_EQ(stats.begun_by_profile[1], 1u);
}

}  // namespace
}  // namespace segsim::testing
