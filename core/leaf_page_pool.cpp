#include "core/leaf_page_pool.h"

#include <algorithm>

#include "core/assert.h"
#include "core/flight_recorder.h"
#include "core/mutants.h"
#include "core/mutants/sites.h"
#include "core/probe.h"

namespace segsim {

LeafPagePool::LeafPagePool(SegmentAllocator& allocator, LeafPagePoolConfig config)
    : allocator_(allocator), config_(config) {
  // The historical pool made pages up front, never handed out nor returned.
  if (SEGSIM_MUTANT(PreallocLeak)) mutants::preallocate_pages(allocator_, config_.page);
}

LeafPagePool::~LeafPagePool() { clear_all(); }

Result<LeafPage*> LeafPagePool::borrow(std::uint64_t page_id) {
  flight_recorder::Scope recorded;
  Result<LeafPage*> borrowed = borrow_page(page_id);
  if (flight_recorder::on()) {
    flight_recorder::record_page_operation(flight_recorder::Op::PoolBorrow, page_id, 0, 0,
                                           borrowed.ok() ? nullptr : &borrowed.error());
  }
  return borrowed;
}

Result<LeafPage*> LeafPagePool::borrow_page(std::uint64_t page_id) {
  std::unique_ptr<LeafPage> page;
  {
    platform::LockGuard guard(mu_);
    if (!idle_.empty()) {
      page = std::move(idle_.back());
      idle_.pop_back();
      SEGSIM_ASSERT(page != nullptr, "the idle list holds a null page");
    } else if (borrowed_.size() >= config_.max_pages) {
      SEGSIM_PROBE("pool.borrow.max_pages");
      return make_error(Errc::OutOfBudget, "leaf page pool: max_pages borrowed");
    }
  }
  const bool reused = page != nullptr;
  if (reused) SEGSIM_PROBE("pool.borrow.reused_idle");
  if (reused) {
    // Outside the pool lock: this allocates (the page's segments were returned).
    Status reset = page->reset_for_reuse(page_id);
    if (!reset.ok()) {
      SEGSIM_PROBE("pool.borrow.reuse_failed");
      platform::LockGuard guard(mu_);
      idle_.push_back(std::move(page));  // nothing lost: it stays idle
      return reset.error();
    }
  } else {
    auto created = LeafPage::create(allocator_, config_.page, page_id);
    if (!created.ok()) {
      SEGSIM_PROBE("pool.borrow.create_failed");
      return created.error();
    }
    page = std::move(created.value());
  }
  platform::LockGuard guard(mu_);
  SEGSIM_ASSERT(page != nullptr, "lending no page");
  // Reused or new, the page must answer to the id it is lent for: the cache
  // and the records index it by that id.
  SEGSIM_ASSERT(page->page_id() == page_id, "a lent page does not carry the id it was borrowed for");
  LeafPage* raw = page.get();
  // Borrowed pages are kept in a vector, not a hash of addresses: give_back
  // swap-removes, so the order is not borrow order, but it follows from the
  // sequence of borrows and give-backs alone — clear_all() returns them in
  // a deterministic order.
  borrowed_.push_back(std::move(page));
  ++(reused ? stats_.reused : stats_.created);
  return raw;
}

Status LeafPagePool::give_back(LeafPage* page) {
  flight_recorder::Scope recorded;
  std::uint64_t page_id = 0;  // 0: not borrowed from this pool (its object may be gone)
  Status back = give_back_page(page, &page_id);
  if (flight_recorder::on()) {
    flight_recorder::record_page_operation(flight_recorder::Op::PoolGiveBack, page_id, 0, 0,
                                           back.ok() ? nullptr : &back.error());
  }
  return back;
}

Status LeafPagePool::give_back_page(LeafPage* page, std::uint64_t* page_id) {
  std::unique_ptr<LeafPage> owned;
  {
    platform::LockGuard guard(mu_);
    auto it = std::find_if(borrowed_.begin(), borrowed_.end(),
                           [page](const auto& p) { return p.get() == page; });
    if (it == borrowed_.end()) {
      SEGSIM_PROBE("pool.give_back.not_borrowed");
      return make_error(Errc::DoubleFree, "leaf page not borrowed from this pool (given back twice?)");
    }
    owned = std::move(*it);
    SEGSIM_ASSERT(owned != nullptr, "the borrowed list holds a null page");
    *page_id = owned->page_id();  // before the give-back: the page may be borrowed again after
    *it = std::move(borrowed_.back());
    borrowed_.pop_back();
    ++stats_.given_back;
  }
  // The idempotent path: a page whose segments were already returned (say by
  // an eviction racing this give-back) is not returned twice.
  Status returned = owned->return_segments();
  // An idle page keeps no slots; clear() must not touch the returned memory.
  owned->clear();
  platform::LockGuard guard(mu_);
  if (idle_.size() < config_.max_idle_pages) {
    idle_.push_back(std::move(owned));
  } else {
    SEGSIM_PROBE("pool.give_back.idle_full");
  }
  SEGSIM_ASSERT(idle_.size() <= config_.max_idle_pages, "more idle pages than max_idle_pages");
  return returned;
}

void LeafPagePool::clear_all() {
  std::vector<LeafPage*> pages;
  {
    platform::LockGuard guard(mu_);
    for (const auto& p : borrowed_) pages.push_back(p.get());
    for (const auto& p : idle_) pages.push_back(p.get());
  }
  for (LeafPage* page : pages) (void)page->return_segments();
}

LeafPagePoolStats LeafPagePool::stats() const {
  platform::LockGuard guard(mu_);
  LeafPagePoolStats stats = stats_;
  stats.borrowed = borrowed_.size();
  stats.idle = idle_.size();
  return stats;
}

}  // namespace segsim
