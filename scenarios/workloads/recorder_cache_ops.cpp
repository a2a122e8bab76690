// The page cache under the flight recorder, on purpose: see recorder_cache_ops.h.
#include "scenarios/workloads/recorder_cache_ops.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fault_point.h"
#include "core/flight_recorder.h"
#include "core/leaf_page_pool.h"
#include "core/page_cache.h"
#include "scenarios/crash_report.h"
#include "scenarios/oracles/error_text.h"
#include "sim/random.h"

namespace segsim::scenarios {

namespace {

using flight_recorder::Op;

// Holds every call of the episode and the calls nested in them.
constexpr std::size_t kEpisodeRingEvents = 1024;
constexpr const char* kReason = "page cache";
// Page ids and cache keys of the episode (distinct from recorder_page_ops').
constexpr std::uint64_t kFirstKey = 0xcac4e01;
constexpr std::size_t kPages = 6;
constexpr std::uint64_t kMissingKey = kFirstKey + 100;
// Caches whose noted bounds change one at a time: the second's differ from
// the first's in bytes only, the third's from the second's in entries only
// or, on half the seeds, in bytes only again (the report must keep the last,
// and only the last cache's bounds reach it: each kind of change must be
// last on some seeds). An entry bound of 2 makes the third page's put evict.
constexpr std::size_t kMaxEntries = 2;
constexpr std::size_t kThirdMaxEntries = 3;
constexpr std::size_t kFirstMaxBytes = std::size_t{64} << 20;
constexpr std::size_t kSecondMaxBytes = std::size_t{32} << 20;
constexpr std::size_t kThirdMaxBytes = std::size_t{16} << 20;
// The third cache's page: one of the given-back pages, borrowed again.
constexpr std::uint64_t kThirdCacheKey = kFirstKey + kPages;

// One call of the page layer as the report must keep it.
struct Due {
  Op op;
  std::uint64_t page = 0;  // the key or page id (flight_recorder::Op says which)
  std::uint32_t slot = 0;
  std::uint64_t bytes = 0;
  std::optional<Errc> error;
};

std::string describe(Op op, std::uint64_t page, std::uint32_t slot, std::uint64_t bytes,
                     const std::optional<Errc>& error) {
  return fmt::format("{} (page {:#x}, slot {}, bytes {:#x}, {})", flight_recorder::op_name(op), page, slot, bytes,
                     error ? errc_name(*error) : std::string_view("ok"));
}

struct Episode {
  Stack& stack;
  PageCacheConfig third_bounds;             // drawn per seed: entries or bytes changed alone
  std::vector<Due> due;                     // the program's calls, in order
  std::vector<std::uint64_t> given_back;    // page ids the evictions give back, in order
  std::vector<std::pair<std::uint64_t, Status>> heard;  // the listener's (key, give-back status)

  void expect(Op op, std::uint64_t page, std::uint32_t slot = 0, std::uint64_t bytes = 0,
              std::optional<Errc> error = std::nullopt) {
    due.push_back(Due{op, page, slot, bytes, error});
  }
  // The give-backs of the evictions so far: these keys, each given back.
  void check_heard(const char* after, std::initializer_list<std::uint64_t> keys) {
    bool same = heard.size() == keys.size();
    for (std::size_t i = 0; same && i < heard.size(); ++i) {
      same = heard[i].first == keys.begin()[i] && heard[i].second.ok();
    }
    if (same) return;
    std::string got;
    for (const auto& [key, status] : heard) {
      got += fmt::format(" {:#x}:{}", key, outcome_text(status, "ok"));
    }
    std::string want;
    for (std::uint64_t key : keys) want += fmt::format(" {:#x}:ok", key);
    stack.oracles.fail("cache", fmt::format("after {}, the give-back listener heard [{} ]; due [{} ]", after, got, want));
  }
};

// The report's page-layer events of the program (depth 0), and the
// give-backs nested one level in them, in sequence order.
void check_report(Stack& stack, const Episode& ep, const CrashReport& report) {
  std::vector<CrashEvent> events;
  for (const CrashThread& thread : report.threads) {
    for (const CrashEvent& e : thread.events) {
      if (flight_recorder::is_page_op(e.op)) events.push_back(e);
    }
  }
  std::sort(events.begin(), events.end(),
            [](const CrashEvent& a, const CrashEvent& b) { return a.sequence < b.sequence; });
  std::size_t next = 0;
  std::size_t next_given_back = 0;
  for (const CrashEvent& e : events) {
    if (e.depth == 0) {
      if (next == ep.due.size()) {
        recorder_fail(stack, fmt::format("the report has a page-layer call {} after the episode's {}",
                                         describe(e.op, e.page, e.slot, e.bytes, e.error), ep.due.size()));
      }
      const Due& d = ep.due[next];
      if (e.op != d.op || e.page != d.page || e.slot != d.slot || e.bytes != d.bytes || e.error != d.error) {
        recorder_fail(stack, fmt::format("page-layer call {} of the episode is recorded as {}; it was {}", next,
                                         describe(e.op, e.page, e.slot, e.bytes, e.error),
                                         describe(d.op, d.page, d.slot, d.bytes, d.error)));
      }
      ++next;
    } else if (e.op == Op::PoolGiveBack) {
      if (e.depth != 1 || next_given_back == ep.given_back.size() ||
          e.page != ep.given_back[next_given_back] || e.error) {
        recorder_fail(stack, fmt::format("a nested give-back {} at depth {}; due next: {} of {} evictions' give-backs",
                                         describe(e.op, e.page, e.slot, e.bytes, e.error), e.depth,
                                         next_given_back, ep.given_back.size()));
      }
      ++next_given_back;
    }
  }
  if (next != ep.due.size() || next_given_back != ep.given_back.size()) {
    recorder_fail(stack, fmt::format("the report keeps {} of the episode's {} page-layer calls and {} of its {} "
                                     "evictions' give-backs",
                                     next, ep.due.size(), next_given_back, ep.given_back.size()));
  }
  if (report.cache_max_entries != ep.third_bounds.max_entries || report.cache_max_bytes != ep.third_bounds.max_bytes) {
    recorder_fail(stack, fmt::format("the report's cache bounds are {} entries, {} B; the last cache made has {}, {} B "
                                     "(the one before it {}, {} B)",
                                     report.cache_max_entries, report.cache_max_bytes, ep.third_bounds.max_entries,
                                     ep.third_bounds.max_bytes, kMaxEntries, kSecondMaxBytes));
  }
}

void check_stats(Stack& stack, const PageCacheStats& got, const PageCacheStats& due, const char* cache) {
  if (got.hits != due.hits || got.misses != due.misses || got.evictions != due.evictions ||
      got.deferred_evictions != due.deferred_evictions || got.entries != due.entries || got.bytes != due.bytes ||
      got.pinned_evicted != due.pinned_evicted) {
    stack.oracles.fail("cache", fmt::format("{} cache's stats(): hits {} misses {} evictions {} deferred {} entries {} "
                                            "bytes {} pinned {}; due {} {} {} {} {} {} {}",
                                            cache, got.hits, got.misses, got.evictions, got.deferred_evictions,
                                            got.entries, got.bytes, got.pinned_evicted, due.hits, due.misses,
                                            due.evictions, due.deferred_evictions, due.entries, due.bytes,
                                            due.pinned_evicted));
  }
}

// One LeafPage call of the episode, recorded as made: `due` the refusal it
// must give, or nullopt when it must succeed unless the stack's budget
// refuses its memory ("page" otherwise). False when it was so refused.
bool page_call(Episode& ep, const char* call, const Status& status, std::optional<Errc> due, Op op,
               std::uint64_t page, std::uint32_t slot, std::uint64_t bytes) {
  const std::optional<Errc> got = recorded_error(status);
  ep.expect(op, page, slot, bytes, got);
  if (got == due) return true;
  if (!due && (*got == Errc::OutOfBudget || *got == Errc::OutOfMemory)) return false;
  ep.stack.oracles.fail("page", fmt::format("{} of page {:#x} answered {}; due {}", call, page,
                                            got ? errc_name(*got) : std::string_view("ok"),
                                            due ? errc_name(*due) : std::string_view("ok")));
}

// Every LeafPage call the recorder records, on the first page, succeeding
// and refused with each refusal a write has but PageFull (four slots of at
// most max_value_bytes cannot pass the largest class): a value, a slot out
// of range, a value too large, a DeweyID, clear, a return and a second one
// (which does nothing), a write after it, and the reset that makes the page
// usable again for the caches. False when the stack's budget refused the reset.
bool page_calls(Episode& ep, LeafPage& page, std::size_t slot_count, std::size_t max_value_bytes) {
  const std::uint64_t id = page.page_id();
  const std::vector<std::byte> value(24, std::byte{0x5a});
  const std::vector<std::byte> too_large(max_value_bytes + 1, std::byte{0x5b});
  const std::vector<std::byte> dewey_id(5, std::byte{0x5c});
  const std::vector<std::byte> one(1, std::byte{0x5d});
  (void)page_call(ep, "set_slot(0, 24 B)", page.set_slot(0, value), std::nullopt, Op::PageSetSlot, id, 0,
                  value.size());
  (void)page_call(ep, "set_slot past the last slot", page.set_slot(slot_count, one), Errc::SlotOutOfRange,
                  Op::PageSetSlot, id, static_cast<std::uint32_t>(slot_count), one.size());
  (void)page_call(ep, "set_slot of max_value_bytes + 1", page.set_slot(1, too_large), Errc::ValueTooLarge,
                  Op::PageSetSlot, id, 1, too_large.size());
  (void)page_call(ep, "set_dewey_id(1, 5 B)", page.set_dewey_id(1, dewey_id), std::nullopt, Op::PageSetDeweyId, id, 1,
                  dewey_id.size());
  page.clear();
  ep.expect(Op::PageClear, id);
  (void)page_call(ep, "return_segments()", page.return_segments(), std::nullopt, Op::PageReturn, id, 0, 0);
  (void)page_call(ep, "a second return_segments()", page.return_segments(), std::nullopt, Op::PageReturn, id, 0, 0);
  (void)page_call(ep, "set_slot after return_segments()", page.set_slot(0, one), Errc::PageReturned,
                  Op::PageSetSlot, id, 0, one.size());
  return page_call(ep, "reset_for_reuse", page.reset_for_reuse(id), std::nullopt, Op::PageReset, id, 0, id);
}

// The first cache: puts, a hit and a miss, an eviction by the entry bound, a
// refused give-back, erases, a deferred eviction, a shrink.
void first_cache(Episode& ep, LeafPagePool& pool, const std::array<LeafPage*, kPages>& pages) {
  Stack& stack = ep.stack;
  const auto key = [](std::size_t i) { return kFirstKey + i; };
  {
    PageCache cache(PageCacheConfig{kMaxEntries, kFirstMaxBytes}, pool,
                    [&ep](const std::uint64_t& k, const Status& back) { ep.heard.emplace_back(k, back); });
    cache.put(key(0), pages[0]);
    ep.expect(Op::CachePut, key(0), 0, key(0));
    cache.put(key(1), pages[1]);
    ep.expect(Op::CachePut, key(1), 0, key(1));
    cache.put(key(0), pages[0]);  // the same page again: touched, now the most recent
    ep.expect(Op::CachePut, key(0), 0, key(0));

    PageCache::Handle pin = cache.get(key(0));
    ep.expect(Op::CacheGet, key(0), 1);
    if (!pin || pin.page() != pages[0] || pin.key() != key(0)) {
      stack.oracles.fail("cache", fmt::format("get({:#x}) of a cached page pinned {}", key(0),
                                              pin ? fmt::format("page {:#x}", pin.page()->page_id()) : "nothing"));
    }
    if (PageCache::Handle miss = cache.get(kMissingKey); miss) {
      stack.oracles.fail("cache", fmt::format("get({:#x}) of a key never put pinned a page", kMissingKey));
    }
    ep.expect(Op::CacheGet, kMissingKey, 0);

    cache.put(key(2), pages[2]);  // over the entry bound: the least recent, key 1, is evicted
    ep.expect(Op::CachePut, key(2), 0, key(2));
    ep.given_back.push_back(key(1));
    ep.check_heard("the third put", {key(1)});

    // Given back by its eviction: the pool must refuse it (and record the
    // refusal with no page id: the page is not one it lent).
    const Status again = pool.give_back(pages[1]);
    ep.expect(Op::PoolGiveBack, 0, 0, 0, Errc::DoubleFree);
    if (again.ok() || again.error().code != Errc::DoubleFree) {
      stack.oracles.fail("pool", fmt::format("give_back of a page its cache's eviction gave back: {}; due DoubleFree",
                                             outcome_text(again, "accepted")));
    }

    if (cache.erase(kMissingKey)) stack.oracles.fail("cache", "erase of a key never put answered true");
    ep.expect(Op::CacheErase, kMissingKey);

    cache.put(key(0), pages[3]);  // another page under the pinned key: the pinned one waits for its unpin
    ep.expect(Op::CachePut, key(0), 0, key(3));
    ep.check_heard("a put over a pinned page", {key(1)});
    pin.reset();
    ep.expect(Op::CacheUnpin, key(0));
    ep.given_back.push_back(key(0));
    ep.check_heard("the last unpin of a replaced page", {key(1), key(0)});

    // LRU: key 2, then key 0 (pages[3]); one page is shrunk away.
    if (const std::size_t shrunk = cache.shrink(1); shrunk != 1) {
      stack.oracles.fail("cache", fmt::format("shrink(1) of a cache with two unpinned pages evicted {}", shrunk));
    }
    ep.expect(Op::CacheShrink, 0, 0, 1);
    ep.given_back.push_back(key(2));
    ep.check_heard("shrink(1)", {key(1), key(0), key(2)});

    if (!cache.erase(key(0))) stack.oracles.fail("cache", fmt::format("erase({:#x}) of a cached key answered false", key(0)));
    ep.expect(Op::CacheErase, key(0));
    ep.given_back.push_back(key(3));
    ep.check_heard("erase of a cached key", {key(1), key(0), key(2), key(0)});

    PageCacheStats due;
    due.hits = 1;
    due.misses = 1;
    due.evictions = 4;
    due.deferred_evictions = 1;
    check_stats(stack, cache.stats(), due, "the first");
  }
  ep.expect(Op::CacheClear, 0);  // the destructor's
}

// A record-page cache over the pool (not recorded itself; the give-back of
// its eviction is, nested in its erase): a put and an erase.
void record_cache(Episode& ep, LeafPagePool& pool, LeafPage* page) {
  const RecordPageKey key{kFirstKey, page->page_id()};
  std::vector<std::pair<RecordPageKey, Status>> heard;
  RecordPageCache cache(PageCacheConfig{kMaxEntries, kFirstMaxBytes}, pool,
                        [&heard](const RecordPageKey& k, const Status& back) { heard.emplace_back(k, back); });
  cache.put(key, page);
  if (!cache.erase(key)) ep.stack.oracles.fail("cache", "erase of a cached record page answered false");
  ep.given_back.push_back(page->page_id());
  if (heard.size() != 1 || !(heard[0].first == key) || !heard[0].second.ok()) {
    ep.stack.oracles.fail("cache", fmt::format("erase of a record page: the give-back listener heard {} give-backs; "
                                               "due one of its key, accepted",
                                               heard.size()));
  }
}

// The second cache (bounds noted again): a put and a clear.
void second_cache(Episode& ep, LeafPagePool& pool, LeafPage* page) {
  const std::uint64_t key = kFirstKey + kPages - 1;
  ep.heard.clear();
  {
    PageCache cache(PageCacheConfig{kMaxEntries, kSecondMaxBytes}, pool,
                    [&ep](const std::uint64_t& k, const Status& back) { ep.heard.emplace_back(k, back); });
    cache.put(key, page);
    ep.expect(Op::CachePut, key, 0, key);
    cache.clear();
    ep.expect(Op::CacheClear, 0);
    ep.given_back.push_back(key);
    ep.check_heard("clear()", {key});
    PageCacheStats due;
    due.evictions = 1;
    check_stats(ep.stack, cache.stats(), due, "the second");
  }
  ep.expect(Op::CacheClear, 0);  // the destructor's
}

// The third cache (bounds noted again, one of them changed alone): a
// given-back page borrowed again, put and cleared.
void third_cache(Episode& ep, LeafPagePool& pool) {
  Result<LeafPage*> page = pool.borrow(kThirdCacheKey);
  if (!page.ok()) ep.stack.oracles.fail("pool", "borrow of an idle page refused: " + page.error().describe());
  ep.expect(Op::PoolBorrow, kThirdCacheKey);
  ep.heard.clear();
  {
    PageCache cache(ep.third_bounds, pool,
                    [&ep](const std::uint64_t& k, const Status& back) { ep.heard.emplace_back(k, back); });
    cache.put(kThirdCacheKey, page.value());
    ep.expect(Op::CachePut, kThirdCacheKey, 0, kThirdCacheKey);
    cache.clear();
    ep.expect(Op::CacheClear, 0);
    ep.given_back.push_back(kThirdCacheKey);
    ep.check_heard("clear() of the third cache", {kThirdCacheKey});
  }
  ep.expect(Op::CacheClear, 0);  // the destructor's
}

// The episode's calls and their checks (none past a borrow the stack's
// budget refused). The pool dies with the call: its idle pages' returns are
// recorded after the report.
void record_calls(Stack& stack) {
  sim::Rng bounds_rng(sim::derive_seed(stack.seed, "recorder-cache.third-bounds"));
  const PageCacheConfig third_bounds = bounds_rng.below(2) == 0 ? PageCacheConfig{kThirdMaxEntries, kSecondMaxBytes}
                                                                : PageCacheConfig{kMaxEntries, kThirdMaxBytes};
  Episode ep{stack, third_bounds, {}, {}, {}};
  LeafPagePoolConfig pool_config;
  pool_config.page.slot_count = 4;
  pool_config.max_idle_pages = kPages;  // a given-back page stays the pool's: its address is not reused
  pool_config.max_pages = kPages;
  LeafPagePool pool(stack.allocator, pool_config);

  std::array<LeafPage*, kPages> pages{};
  for (std::size_t i = 0; i < kPages; ++i) {
    Result<LeafPage*> page = pool.borrow(kFirstKey + i);
    if (!page.ok()) {  // the stack's budget: nothing to check but that it is a refusal
      if (page.error().code != Errc::OutOfBudget && page.error().code != Errc::OutOfMemory) {
        stack.oracles.fail("pool", "borrow of a page refused: " + page.error().describe());
      }
      for (std::size_t j = 0; j < i; ++j) (void)pool.give_back(pages[j]);
      return;
    }
    pages[i] = page.value();
    ep.expect(Op::PoolBorrow, kFirstKey + i);
  }
  if (!page_calls(ep, *pages[0], pool_config.page.slot_count, pool_config.page.max_value_bytes)) {
    for (LeafPage* page : pages) (void)pool.give_back(page);  // the stack's budget: nothing more to check
    return;
  }
  first_cache(ep, pool, pages);
  record_cache(ep, pool, pages[kPages - 2]);
  second_cache(ep, pool, pages[kPages - 1]);
  third_cache(ep, pool);
  if (const LeafPagePoolStats stats = pool.stats(); stats.borrowed != 0 || stats.given_back != kPages + 1) {
    stack.oracles.fail("pool", fmt::format("after every cached page was evicted: {} borrowed, {} given back; due 0, {}",
                                           stats.borrowed, stats.given_back, kPages + 1));
  }

  const std::string path = flight_recorder::write_report(kReason);
  if (path.empty()) recorder_fail(stack, "write_report() wrote no report from a fresh report count");
  check_report(stack, ep, read_recorder_report(stack, path));
}

}  // namespace

void recorder_cache_ops(Stack& stack, RecorderCheck& check) {
  fault_points::ControllerScope quiet(nullptr);  // the episode's calls must not fail but where due
  enable_episode_recorder(stack, check, kEpisodeRingEvents);
  record_calls(stack);
  restore_seed_recorder(stack, check);
}

}  // namespace segsim::scenarios
