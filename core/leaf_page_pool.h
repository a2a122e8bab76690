// LeafPagePool (seed KeyValueLeafPagePool): hands out leaf pages and takes
// them back.
//
// Pages are created on demand — never pre-allocated (seed 001's leak of 1,400
// segments). A page given back returns its segments to the allocator at once
// (through the page's idempotent return) and its object is kept idle, up to
// max_idle_pages, for the next borrow. clear_all() returns the segments of
// every page the pool made, borrowed or idle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/leaf_page.h"
#include "core/platform/mutex.h"
#include "core/result.h"

namespace segsim {

struct LeafPagePoolConfig {
  LeafPageConfig page;
  std::size_t max_idle_pages = 1024;
  std::size_t max_pages = 1 << 20;  // borrowed + idle page objects, at most
};

struct LeafPagePoolStats {
  std::size_t borrowed = 0;
  std::size_t idle = 0;
  std::uint64_t created = 0;
  std::uint64_t reused = 0;
  std::uint64_t given_back = 0;
};

class LeafPagePool {
 public:
  LeafPagePool(SegmentAllocator& allocator, LeafPagePoolConfig config = {});
  ~LeafPagePool();  // clear_all()
  LeafPagePool(const LeafPagePool&) = delete;
  LeafPagePool& operator=(const LeafPagePool&) = delete;

  // A page with no slots set, for `page_id`. Allocator errors pass through.
  Result<LeafPage*> borrow(std::uint64_t page_id);
  // Returns the page's segments and keeps the object idle (or drops it).
  // DoubleFree for a page not borrowed from this pool (or given back twice).
  Status give_back(LeafPage* page);
  // Returns the segments of every page still held (shutdown, tests).
  void clear_all();

  LeafPagePoolStats stats() const;
  SegmentAllocator& allocator() const noexcept { return allocator_; }

 private:
  // borrow / give_back without the flight recorder's event.
  Result<LeafPage*> borrow_page(std::uint64_t page_id);
  Status give_back_page(LeafPage* page, std::uint64_t* page_id);

  SegmentAllocator& allocator_;
  const LeafPagePoolConfig config_;
  mutable platform::Mutex mu_;
  std::vector<std::unique_ptr<LeafPage>> borrowed_;  // owned while borrowed
  std::vector<std::unique_ptr<LeafPage>> idle_;
  LeafPagePoolStats stats_;
};

}  // namespace segsim
