// Shared fixture for SegmentAllocator tests: an allocator over a ScriptedOs
// plus helpers to fill and check contents.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <memory>

#include "core/leaf_page_pool.h"
#include "core/segment_allocator.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"

namespace segsim::testing {

class AllocatorTest : public ::testing::Test {
 protected:
  // Small regions make region-level behaviour reachable with few segments.
  static SegmentAllocatorConfig small_config() {
    SegmentAllocatorConfig config;
    config.region_bytes = 256 * KiB;
    config.budget_bytes = 4 * MiB;
    return config;
  }

  void make(SegmentAllocatorConfig config = small_config()) {
    allocator.reset();
    auto created = SegmentAllocator::create(os, config);
    ASSERT_TRUE(created.ok()) << created.error().describe();
    allocator = std::move(created.value());
  }

  void TearDown() override {
    if (allocator) {
      allocator->wait_for_cleanups();
      auto violations = allocator->audit();
      EXPECT_TRUE(violations.empty()) << violations.front();
    }
  }

  Segment must_allocate(std::size_t bytes) {
    auto segment = allocator->allocate(bytes);
    EXPECT_TRUE(segment.ok()) << segment.error().describe();
    return segment.ok() ? segment.value() : Segment{};
  }

  static void fill(const Segment& s, unsigned char byte) {
    std::fill(s.bytes().begin(), s.bytes().end(), std::byte{byte});
  }
  static bool all_equal(const Segment& s, unsigned char byte) {
    return std::all_of(s.bytes().begin(), s.bytes().end(),
                       [byte](std::byte b) { return b == std::byte{byte}; });
  }

  ScriptedOs os;
  std::unique_ptr<SegmentAllocator> allocator;
};

// An allocator with a leaf-page pool on it (the page-cache tests).
class PagePoolTest : public AllocatorTest {
 protected:
  void SetUp() override {
    make();
    pool = std::make_unique<LeafPagePool>(*allocator);
  }
  void TearDown() override {
    pool.reset();
    AllocatorTest::TearDown();
  }
  std::unique_ptr<LeafPagePool> pool;
};

}  // namespace segsim::testing
