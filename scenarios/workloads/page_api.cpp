// page-api — every public operation of LeafPage, LeafPagePool, PageCache and
// RecordPageCache, drawn per seed from a swarm of operation kinds. Each
// client owns a private pool and two private caches over the shared
// allocator, so every call can be checked exactly against the page and cache
// models (oracles/page_model.h): the outcome (success or which refusal) is
// the one the model says, a refused call left the page as it was, every slot
// reads what the model says, evictions reach the listener in the model's
// order — while the other clients make the allocator's state concurrent.
// Page and pool configurations are drawn per seed (boundary slot counts and
// value limits).
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "scenarios/oracles/error_text.h"
#include "scenarios/oracles/page_model.h"
#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

constexpr std::uint32_t kOpsPerSize = 160;
constexpr std::size_t kMaxHeldPages = 6;

enum Op : std::size_t {
  kBorrow, kGiveBack, kGiveBackTwice, kGiveBackForeign, kSetSlot, kSetDewey, kVerify, kClear, kReturn,
  kResetForReuse, kPoolStats, kClearAll, kPut, kGet, kUnpin, kMoveHandle, kErase, kCacheClear, kCacheStats,
  kCreate, kCacheShrink, kOpCount
};

struct Config {
  LeafPagePoolConfig pool;
  PageCacheConfig cache;
};

Config draw_config(std::uint64_t seed) {
  sim::Rng rng(sim::derive_seed(seed, "config.page-api"));
  Config config;
  config.pool.page.slot_count = draw_one<std::size_t>(rng, {1, 2, 16, 64});
  config.pool.page.initial_bytes = draw_one<std::size_t>(rng, {1, 4096, 4097, 64 * 1024});
  config.pool.page.max_value_bytes = draw_one<std::size_t>(rng, {1, 4096, 64 * 1024, 256 * 1024});
  config.pool.max_idle_pages = draw_one<std::size_t>(rng, {0, 1, 4});
  config.pool.max_pages = draw_one<std::size_t>(rng, {1, 2, 4, 16});
  config.cache.max_entries = draw_one<std::size_t>(rng, {1, 2, 3, 8});
  config.cache.max_bytes = draw_one<std::size_t>(rng, {8 * 1024, 64 * 1024, std::size_t{64} << 20});
  return config;
}

bool allocation_refusal(const Error& error) {
  return error.code == Errc::OutOfBudget || error.code == Errc::OutOfMemory;
}

class Client {
 public:
  Client(Stack& stack, std::uint32_t index, const OpMix& mix, const Config& config)
      : stack_(stack),
        mix_(mix),
        config_(config),
        rng_(stack.simulation.stream(fmt::format("workload.page-api.{}", index))),
        pool_(stack.allocator, config.pool),
        foreign_pool_(stack.allocator, config.pool),
        pages_(stack.oracles, config.pool),
        cache_(config.cache, [this](const std::uint64_t& key, LeafPage* page) { evicted(key, page); }),
        cache_model_(config.cache),
        record_cache_(config.cache,
                      [this](const RecordPageKey& key, LeafPage* page) { evicted(key.page, page); }),
        record_model_(config.cache),
        index_(index) {}

  void run();

 private:
  void step(Op op);
  void borrow();
  void give_back_twice();
  void give_back_foreign();
  void return_page();
  void reset_page_for_reuse();
  void move_pin(bool record, std::size_t i);
  void unpin_or_move(bool move);
  void erase_cached();
  void clear_cache();
  void shrink_cache();
  void give_back(LeafPage* page);
  void write(bool dewey);
  void put();
  void get();
  void evicted(std::uint64_t key, LeafPage* page);
  void check_pool_stats();
  [[noreturn]] void wrong_key(std::uint64_t key, std::uint64_t handle_key);
  void create_directly();
  // Refusals of the allocator are legitimate under faults or a tight budget.
  bool allocation_may_fail() const {
    return stack_.faults_active || stack_.allocator.config().budget_bytes < (std::size_t{16} << 20);
  }
  void check_cache_stats();
  bool record_side() { return rng_.chance(0.5); }
  LeafPage* pick_held() {
    const std::vector<LeafPage*> held = pages_.held();
    return held.empty() ? nullptr : held[rng_.below(held.size())];
  }
  void unexpected(const char* doing, const Error& error) {
    stack_.oracles.fail("exception", fmt::format("page-api {}: unexpected {}", doing, error.describe()));
  }

  Stack& stack_;
  const OpMix& mix_;
  const Config config_;
  sim::Rng rng_;
  LeafPagePool pool_;
  LeafPagePool foreign_pool_;
  PageModels pages_;
  PageCache cache_;
  CacheModel cache_model_;
  RecordPageCache record_cache_;
  CacheModel record_model_;
  std::vector<PageCache::Handle> pins_;  // with the model's pin ids, index for index
  std::vector<RecordPageCache::Handle> record_pins_;
  std::vector<std::uint64_t> record_pin_ids_;
  std::vector<std::uint64_t> pin_ids_;
  std::uint32_t index_;
  std::uint64_t next_key_ = 1;
};

void Client::run() {
  for (std::uint32_t n = 0; n < kOpsPerSize * stack_.size; ++n) {
    step(static_cast<Op>(mix_.pick(rng_)));
    stack_.oracles.check_cheap();
  }
  // Drop every pin, then empty both caches: each hand-over as the model says.
  while (!pins_.empty()) {
    pages_.expect_hand_overs(cache_model_.unpin(pin_ids_.back()));
    pins_.pop_back();
    pin_ids_.pop_back();
  }
  while (!record_pins_.empty()) {
    pages_.expect_hand_overs(record_model_.unpin(record_pin_ids_.back()));
    record_pins_.pop_back();
    record_pin_ids_.pop_back();
  }
  pages_.expect_hand_overs(cache_model_.clear());
  cache_.clear();
  pages_.expect_hand_overs(record_model_.clear());
  record_cache_.clear();
  pages_.check_hand_overs("clearing the caches at the end");
  for (LeafPage* page : pages_.held()) give_back(page);
  pool_.clear_all();
  foreign_pool_.clear_all();
}

void Client::borrow() {
  if (pages_.held().size() >= kMaxHeldPages) return;
  const std::uint64_t id = (std::uint64_t{index_} << 32) | next_key_++;
  const bool must_refuse = pool_.stats().borrowed >= config_.pool.max_pages;
  Result<LeafPage*> page = pool_.borrow(id);
  if (!page) {
    check_error_text(stack_.oracles, page.error());
    if (page.error().code == Errc::OutOfBudget && must_refuse) return;
    if (allocation_refusal(page.error()) && !must_refuse && allocation_may_fail()) return;
    stack_.oracles.fail("pool", fmt::format("borrow refused with '{}' ({}), the model says {}",
                                            errc_name(page.error().code), page.error().describe(),
                                            must_refuse ? "max_pages refusal" : "success"));
  }
  if (must_refuse) stack_.oracles.fail("pool", fmt::format("borrow succeeded past max_pages {}", config_.pool.max_pages));
  pages_.borrowed(page.value(), id);
}

void Client::give_back(LeafPage* page) {
  Status back = pool_.give_back(page);
  if (!back.ok()) unexpected("give_back", back.error());
  pages_.given_back(page);
}

void Client::write(bool dewey) {
  LeafPage* page = pick_held();
  if (page == nullptr) return;
  const LeafPageConfig& pc = config_.pool.page;
  const std::size_t slot = draw_size(rng_, 0, pc.slot_count, {pc.slot_count - 1});
  // A third of the values are as large as allowed: pages fill up and refuse.
  const std::size_t bytes = rng_.chance(0.3) ? pc.max_value_bytes
                                             : draw_size(rng_, 0, pc.max_value_bytes + 1, {pc.max_value_bytes, 4096, 64 * 1024});
  const auto fill = static_cast<std::uint8_t>(1 + rng_.below(255));
  const std::vector<std::byte> value(bytes, std::byte{fill});
  const Status written = dewey ? page->set_dewey_id(slot, value) : page->set_slot(slot, value);
  if (!written) check_error_text(stack_.oracles, written.error());
  pages_.check_write(page, dewey, slot, bytes, fill, written, allocation_may_fail());
}

void Client::put() {
  // Mostly a held page under a fresh key; sometimes under a cached key (a
  // replacement), or a cached page again under its own key (a touch).
  const bool record = record_side();
  CacheModel& model = record ? record_model_ : cache_model_;
  const std::vector<std::uint64_t> keys = model.keys();
  std::uint64_t key = next_key_++;
  LeafPage* page = nullptr;
  if (!keys.empty() && rng_.chance(0.1)) {
    key = keys[rng_.below(keys.size())];
    page = model.page_at(key);
  } else {
    page = pick_held();
    if (page == nullptr) return;
    if (!keys.empty() && rng_.chance(0.2)) key = keys[rng_.below(keys.size())];
    pages_.cached(page);
  }
  const std::size_t bytes = page->memory_bytes();
  std::vector<std::pair<std::uint64_t, LeafPage*>> expected = model.put(key, page, bytes);
  pages_.expect_hand_overs(expected);
  if (record) {
    record_cache_.put(RecordPageKey{index_, key}, page);
  } else {
    cache_.put(key, page);
  }
  pages_.check_hand_overs(record ? "RecordPageCache::put" : "PageCache::put");
}

void Client::get() {
  const bool record = record_side();
  CacheModel& model = record ? record_model_ : cache_model_;
  std::uint64_t key = next_key_;  // a miss, unless a cached key is drawn
  if (!model.keys().empty() && rng_.chance(0.8)) key = model.keys()[rng_.below(model.keys().size())];
  std::uint64_t pin_id = 0;
  LeafPage* expected = model.get(key, pin_id);
  LeafPage* got = nullptr;
  if (record) {
    RecordPageCache::Handle handle = record_cache_.get(RecordPageKey{index_, key});
    got = handle.page();
    if (handle && !(handle.key() == RecordPageKey{index_, key})) wrong_key(key, handle.key().page);
    if (handle) {
      record_pins_.push_back(std::move(handle));
      record_pin_ids_.push_back(pin_id);
    }
  } else {
    PageCache::Handle handle = cache_.get(key);
    got = handle.page();
    if (handle && handle.key() != key) wrong_key(key, handle.key());
    if (handle) {
      pins_.push_back(std::move(handle));
      pin_ids_.push_back(pin_id);
    }
  }
  if (got != expected) {
    stack_.oracles.fail("cache", fmt::format("get({}) returned {} page; the model says {}", key,
                                             got == nullptr ? "no" : "a", expected == nullptr ? "a miss" : "a hit"));
  }
  if (got != nullptr && got != expected) return;
  if (got != nullptr) pages_.verify(got);
}

void Client::evicted(std::uint64_t key, LeafPage* page) { pages_.handed_over(key, page, pool_); }

void Client::check_pool_stats() {
  pages_.check_pool_stats(pool_.stats(), config_.pool.max_idle_pages);
  if (&pool_.allocator() != &stack_.allocator) stack_.oracles.fail("pool", "allocator() is not the pool's allocator");
}

void Client::wrong_key(std::uint64_t key, std::uint64_t handle_key) {
  stack_.oracles.fail("cache", fmt::format("the handle of get({}) says its key is {}", key, handle_key));
}

void Client::check_cache_stats() {
  const bool record = record_side();
  const PageCacheStats stats = record ? record_cache_.stats() : cache_.stats();
  (record ? record_model_ : cache_model_).check_stats(stats, stack_.oracles);
}

// LeafPage::create outside any pool: invalid configurations are refused with
// InvalidConfig before anything is allocated; a valid one holds one segment.
void Client::create_directly() {
  LeafPageConfig config = config_.pool.page;
  const bool invalid = rng_.chance(0.5);
  if (invalid) {
    switch (rng_.below(4)) {
      case 0: config.slot_count = 0; break;
      case 1: config.slot_count = 65537; break;
      case 2: config.initial_bytes = 0; break;
      default: config.max_value_bytes = kLargestClassBytes + 1; break;
    }
  } else if (rng_.chance(0.5)) {
    config.slot_count = rng_.chance(0.5) ? 1 : 65536;  // the bounds, both valid
  }
  auto page = LeafPage::create(stack_.allocator, config, 0);
  if (invalid) {
    if (page.ok() || page.error().code != Errc::InvalidConfig) {
      stack_.oracles.fail("page", "LeafPage::create with an invalid config was not refused with InvalidConfig");
    }
    return;
  }
  if (!page.ok()) {
    if (allocation_may_fail() && allocation_refusal(page.error())) return;
    stack_.oracles.fail("page", "LeafPage::create refused: " + page.error().describe());
  }
  if (page.value()->memory_bytes() != class_bytes(class_of(config.initial_bytes)) || !page.value()->dewey_ids_shared()) {
    stack_.oracles.fail("page", "a new page does not hold one shared segment of its initial class");
  }
}

void Client::give_back_twice() {
  if (pages_.given_back().empty()) return;
  LeafPage* page = pages_.given_back()[rng_.below(pages_.given_back().size())];
  Status again = pool_.give_back(page);
  if (again.ok() || again.error().code != Errc::DoubleFree) {
    stack_.oracles.fail("pool", "a second give_back of a page was not refused as a double free");
  }
}

void Client::give_back_foreign() {
  Result<LeafPage*> foreign = foreign_pool_.borrow(1);
  if (!foreign.ok()) return;
  Status refused = pool_.give_back(foreign.value());
  if (refused.ok() || refused.error().code != Errc::DoubleFree) {
    stack_.oracles.fail("pool", "give_back of another pool's page was not refused");
  }
  if (!foreign_pool_.give_back(foreign.value()).ok()) stack_.oracles.fail("pool", "foreign give_back refused");
}

void Client::return_page() {
  LeafPage* page = pick_held();
  if (page == nullptr) return;
  Status returned = page->return_segments();
  if (!returned.ok()) unexpected("return_segments", returned.error());
  pages_.returned(page);
}

void Client::reset_page_for_reuse() {
  LeafPage* page = pick_held();
  if (page == nullptr) return;
  const std::uint64_t id = (std::uint64_t{index_} << 32) | next_key_++;
  pages_.check_reset(page, id, page->reset_for_reuse(id), allocation_may_fail());
}

// Moves the pin to another handle object: still one pin, same key and page.
void Client::move_pin(bool record, std::size_t i) {
  if (record) {
    const RecordPageKey key = record_pins_[i].key();
    LeafPage* page = record_pins_[i].page();
    RecordPageCache::Handle moved(std::move(record_pins_[i]));
    record_pins_[i] = std::move(moved);
    if (!(record_pins_[i].key() == key) || record_pins_[i].page() != page || moved) {
      stack_.oracles.fail("cache", "a moved RecordPageCache handle changed its key or page, or its source still pins");
    }
    return;
  }
  const std::uint64_t key = pins_[i].key();
  LeafPage* page = pins_[i].page();
  PageCache::Handle moved(std::move(pins_[i]));
  pins_[i] = std::move(moved);
  if (pins_[i].key() != key || pins_[i].page() != page || moved) {
    stack_.oracles.fail("cache", "a moved PageCache handle changed its key or page, or its source still pins");
  }
}

void Client::unpin_or_move(bool move) {
  const bool record = record_side();
  auto& keys = record ? record_pin_ids_ : pin_ids_;
  if (keys.empty()) return;
  const std::size_t i = rng_.below(keys.size());
  if (move) return move_pin(record, i);
  CacheModel& model = record ? record_model_ : cache_model_;
  pages_.expect_hand_overs(model.unpin(keys[i]));
  if (record) {
    record_pins_.erase(record_pins_.begin() + static_cast<std::ptrdiff_t>(i));
  } else {
    pins_.erase(pins_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(i));
  pages_.check_hand_overs("unpinning a cached page");
}

void Client::erase_cached() {
  const bool record = record_side();
  CacheModel& model = record ? record_model_ : cache_model_;
  std::uint64_t key = next_key_;
  if (!model.keys().empty() && rng_.chance(0.8)) key = model.keys()[rng_.below(model.keys().size())];
  bool model_found = false;
  pages_.expect_hand_overs(model.erase(key, model_found));
  const bool found = record ? record_cache_.erase(RecordPageKey{index_, key}) : cache_.erase(key);
  if (found != model_found) {
    stack_.oracles.fail("cache", fmt::format("erase({}) returned {}; the model says {}", key, found, model_found));
  }
  pages_.check_hand_overs("erase");
}

void Client::clear_cache() {
  if (!rng_.chance(0.2)) return;
  const bool record = record_side();
  pages_.expect_hand_overs((record ? record_model_ : cache_model_).clear());
  if (record) {
    record_cache_.clear();
  } else {
    cache_.clear();
  }
  pages_.check_hand_overs("clear");
}

// Memory pressure on a cache: up to n least-recently-used unpinned entries
// evicted, the pinned ones kept — n at the edges (0, 1, every entry) or past.
void Client::shrink_cache() {
  const bool record = record_side();
  CacheModel& model = record ? record_model_ : cache_model_;
  const std::size_t entries = model.keys().size();
  const std::size_t max_pages = draw_one<std::size_t>(rng_, {0, 1, entries, entries + 1});
  std::size_t model_evicted = 0;
  pages_.expect_hand_overs(model.shrink(max_pages, model_evicted));
  const std::size_t evicted = record ? record_cache_.shrink(max_pages) : cache_.shrink(max_pages);
  if (evicted != model_evicted) {
    stack_.oracles.fail("cache", fmt::format("shrink({}) of {} entries evicted {}; the model says {}", max_pages,
                                             entries, evicted, model_evicted));
  }
  pages_.check_hand_overs("shrink");
}

void Client::step(Op op) {
  switch (op) {
    case kBorrow: return borrow();
    case kGiveBack:
      if (LeafPage* page = pick_held()) give_back(page);
      return;
    case kGiveBackTwice: return give_back_twice();
    case kGiveBackForeign: return give_back_foreign();
    case kSetSlot: return write(false);
    case kSetDewey: return write(true);
    case kVerify:
      if (LeafPage* page = pick_held()) pages_.verify(page);
      return;
    case kClear:
      if (LeafPage* page = pick_held()) {
        page->clear();
        pages_.cleared(page);
      }
      return;
    case kReturn: return return_page();
    case kResetForReuse: return reset_page_for_reuse();
    case kPoolStats: return check_pool_stats();
    case kClearAll:
      if (rng_.chance(0.1)) {  // rare: every page of the pool returns its segments
        pool_.clear_all();
        pages_.all_returned();
      }
      return;
    case kPut: return put();
    case kGet: return get();
    case kUnpin: return unpin_or_move(false);
    case kMoveHandle: return unpin_or_move(true);
    case kErase: return erase_cached();
    case kCacheClear: return clear_cache();
    case kCacheShrink: return shrink_cache();
    case kCacheStats: return check_cache_stats();
    case kCreate: return create_directly();
    case kOpCount: break;
  }
}

}  // namespace

ScenarioDef page_api_scenario() {
  ScenarioDef def;
  def.info = {"page-api",
              "every LeafPage, LeafPagePool, PageCache and RecordPageCache operation from a per-seed swarm "
              "(boundary slots and values, refusals, returns, reuse, pins, replacements), each call checked "
              "against the page and cache models",
              3, 1};
  def.configure = [](SegmentAllocatorConfig& allocator, PageCacheConfig&, std::uint32_t, std::uint32_t) {
    allocator.cleanup_start_free_slices = 32;
    allocator.cleanup_every_free_slices = 8;
    allocator.reset_madvise_min_bytes = 64 * 1024;
  };
  def.configure_seeded = [](SegmentAllocatorConfig& allocator, PageCacheConfig&, std::uint64_t seed) {
    sim::Rng rng(sim::derive_seed(seed, "config.page-api.allocator"));
    // A third of the seeds run on a tight budget: page operations meet OutOfBudget.
    if (rng.chance(1.0 / 3.0)) allocator.budget_bytes = allocator.region_bytes * (3 + rng.below(4));
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    const Config config = draw_config(stack.seed);
    sim::Rng mix_rng(sim::derive_seed(stack.seed, "workload.page-api.mix"));
    OpMix mix(mix_rng, kOpCount, {kBorrow, kSetSlot, kGiveBack});
    Client client(stack, index, mix, config);
    client.run();
  };
  return def;
}

}  // namespace segsim::scenarios
