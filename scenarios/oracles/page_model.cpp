#include "scenarios/oracles/page_model.h"

#include <algorithm>

#include <fmt/format.h>

#include "scenarios/oracles/zero_scan.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

// ---- PageModels --------------------------------------------------------------

std::vector<LeafPage*> PageModels::held() const {
  std::vector<LeafPage*> out;
  held(out);
  return out;
}

void PageModels::held(std::vector<LeafPage*>& out) const {
  out.clear();
  for (const Page& p : pages_) {
    if (!p.cached) out.push_back(p.page);
  }
}

std::size_t PageModels::held_count() const noexcept {
  std::size_t n = 0;
  for (const Page& p : pages_) n += p.cached ? 0 : 1;
  return n;
}

PageModels::Page& PageModels::find(LeafPage* page) {
  auto it = std::find_if(pages_.begin(), pages_.end(), [page](const Page& p) { return p.page == page; });
  if (it == pages_.end()) oracles_.fail("page", "a page the model does not know");
  return *it;
}

void PageModels::borrowed(LeafPage* page, std::uint64_t id) {
  // A page reused from the idle list leaves it (the same object: its address
  // is its identity while it lives).
  given_back_.erase(std::remove(given_back_.begin(), given_back_.end(), page), given_back_.end());
  pages_.push_back(Page{page, id, {}, {}, true, false, false});
  if (pool_.idle > 0) {
    --pool_.idle;
    ++pool_.reused;
  } else {
    ++pool_.created;
  }
  verify(page);
}

void PageModels::given_back(LeafPage* page) {
  Page& model = find(page);
  // Not read after the call: the pool may have dropped the page object.
  pages_.erase(pages_.begin() + (&model - pages_.data()));
  ++pool_.given_back;
  kept_or_dropped(page);
}

// The pool keeps a page given back while it has idle room, else destroys it.
// Only a kept page joins given_back_: a destroyed page's address may come back
// for the next page the pool creates, or not, as the heap's history has it (a
// model holding it would then forget it at that borrow, or not, and draw its
// next operation from a list of another length: the run would depend on the
// process's past, not on its seed).
void PageModels::kept_or_dropped(LeafPage* page) {
  if (pool_.idle >= max_idle_pages_) return;
  ++pool_.idle;
  given_back_.push_back(page);
}

void PageModels::cached(LeafPage* page) { find(page).cached = true; }

Errc PageModels::expected_refusal(const Page& model, bool dewey, std::size_t slot, std::size_t bytes) const {
  if (slot >= config_.slot_count) return Errc::SlotOutOfRange;
  if (bytes > config_.max_value_bytes) return Errc::ValueTooLarge;
  if (model.returned) return Errc::PageReturned;
  const auto& table = dewey ? model.dewey : model.slots;
  std::size_t live = bytes;
  for (const auto& [s, value] : table) live += s == slot ? 0 : value.first;
  if (live > kLargestClassBytes) return Errc::PageFull;
  return Errc::OsFailure;  // none: the write must succeed (or the allocator refuse)
}

void PageModels::check_write(LeafPage* page, bool dewey, std::size_t slot, std::size_t bytes, std::uint8_t fill,
                             const Status& status, bool faults_active) {
  Page& model = find(page);
  const char* call = dewey ? "set_dewey_id" : "set_slot";
  const Errc due = expected_refusal(model, dewey, slot, bytes);
  if (due != Errc::OsFailure) {
    if (status.ok() || status.error().code != due) {
      oracles_.fail("page-write", fmt::format("{}(slot {}, {} bytes) on page {}: {}; the model says '{}'", call, slot,
                                              bytes, model.id, outcome_text(status, "succeeded"),
                                              errc_name(due)),
                    page->slot_segment().data());
    }
  } else if (!status.ok()) {
    const Errc code = status.error().code;
    if (!faults_active || (code != Errc::OutOfMemory && code != Errc::OutOfBudget)) {
      oracles_.fail("page-write", fmt::format("{}(slot {}, {} bytes) on page {} refused: {}; the model says it fits",
                                              call, slot, bytes, model.id, status.error().describe()),
                    page->slot_segment().data());
    }
  } else {
    (dewey ? model.dewey : model.slots)[slot] = {bytes, fill};
    if (dewey) model.shared = false;
  }
  verify(page);  // a refused write changed nothing; a successful one wrote just its slot
}

void PageModels::check_reset(LeafPage* page, std::uint64_t id, const Status& status, bool faults_active) {
  Page& model = find(page);
  if (!status.ok()) {
    const Errc code = status.error().code;
    if (!model.returned || !faults_active || (code != Errc::OutOfMemory && code != Errc::OutOfBudget)) {
      oracles_.fail("page-reuse", fmt::format("reset_for_reuse of page {} refused: {}", model.id,
                                              status.error().describe()));
    }
    verify(page);  // refused: nothing changed
    return;
  }
  const bool was_returned = model.returned;
  model.id = id;
  model.slots.clear();
  model.dewey.clear();
  model.returned = false;
  if (was_returned) model.shared = true;
  verify(page);
  for (const Segment& memory : {page->slot_segment(), page->dewey_segment()}) {
    // Word by word (zero_scan.h): a byte-wise scan of up to 256 KiB per reset
    // dominated the page fuzzer's run time.
    if (!was_returned && first_nonzero_word(memory.data(), memory.size()).has_value()) {
      oracles_.fail("page-reuse", fmt::format("page {} reset for reuse: its held segment is not zeroed", id),
                    memory.data());
    }
  }
}

void PageModels::cleared(LeafPage* page) {
  Page& model = find(page);
  model.slots.clear();
  model.dewey.clear();
  verify(page);
}

void PageModels::returned(LeafPage* page) {
  find(page).returned = true;
  verify(page);
}

void PageModels::all_returned() {
  for (Page& p : pages_) p.returned = true;
  verify_all();
}

void PageModels::verify_all() {
  for (Page& p : pages_) verify(p.page);
}

void PageModels::verify(LeafPage* page) {
  const Page& model = find(page);
  if (page->page_id() != model.id || page->segments_returned() != model.returned ||
      page->slot_count() != config_.slot_count) {
    oracles_.fail("page", fmt::format("page {}: id {}, returned {}, {} slots; the model says {}, {}, {}", model.id,
                                      page->page_id(), page->segments_returned(), page->slot_count(), model.id,
                                      model.returned, config_.slot_count));
  }
  if (model.returned) {
    if (page->memory_bytes() != 0) oracles_.fail("page", fmt::format("returned page {} reports memory", model.id));
    return;
  }
  const Segment slots = page->slot_segment();
  const Segment dewey = page->dewey_segment();
  if (page->dewey_ids_shared() != model.shared || (slots == dewey) != model.shared) {
    oracles_.fail("page", fmt::format("page {}: DeweyIDs shared {}; the model says {}", model.id,
                                      page->dewey_ids_shared(), model.shared),
                  slots.data());
  }
  const std::size_t memory = slots.size() + (model.shared ? 0 : dewey.size());
  if (page->memory_bytes() != memory) {
    oracles_.fail("page", fmt::format("page {}: memory_bytes {} != its segments' {}", model.id,
                                      page->memory_bytes(), memory),
                  slots.data());
  }
  for (std::size_t s = 0; s < config_.slot_count; ++s) {
    for (bool is_dewey : {false, true}) {
      const auto& table = is_dewey ? model.dewey : model.slots;
      auto want = table.find(s);
      const SlotShadow expected = want == table.end() ? SlotShadow{} : SlotShadow{want->second.first, want->second.second};
      oracles_.check_content(model.id, s, is_dewey ? page->get_dewey_id(s) : page->get_slot(s), expected,
                             is_dewey ? dewey.data() : slots.data());
    }
  }
}

void PageModels::expect_hand_overs(const HandOvers& expected) {
  expected_.insert(expected_.end(), expected.begin(), expected.end());
}

void PageModels::handed_over(std::uint64_t key, LeafPage* page, LeafPagePool& pool) {
  // The listener may run in a handle's destructor: report, never throw.
  actual_.emplace_back(key, page);
  auto it = std::find_if(pages_.begin(), pages_.end(), [page](const Page& p) { return p.page == page; });
  if (it == pages_.end() || !it->cached) {
    oracles_.report("cache", fmt::format("the eviction listener got key {} with a page the model does not hold "
                                         "cached",
                                         key));
    return;
  }
  Status back = pool.give_back(page);
  if (!back.ok()) oracles_.report("double-free", "evicted page: " + back.error().describe());
  pages_.erase(it);
  ++pool_.given_back;
  kept_or_dropped(page);
}

void PageModels::check_pool_stats(const LeafPagePoolStats& stats, std::size_t max_idle_pages) const {
  (void)max_idle_pages;
  if (stats.borrowed != pages_.size() || stats.idle != pool_.idle || stats.created != pool_.created ||
      stats.reused != pool_.reused || stats.given_back != pool_.given_back) {
    oracles_.fail("pool", fmt::format("stats(): borrowed {} idle {} created {} reused {} given back {}; the model "
                                      "says {} {} {} {} {}",
                                      stats.borrowed, stats.idle, stats.created, stats.reused, stats.given_back,
                                      pages_.size(), pool_.idle, pool_.created, pool_.reused, pool_.given_back));
  }
}

void PageModels::check_hand_overs(const char* call) {
  if (actual_ != expected_) {
    std::string want, got;
    for (const auto& [key, page] : expected_) want += fmt::format(" {}", key);
    for (const auto& [key, page] : actual_) got += fmt::format(" {}", key);
    oracles_.fail("cache", fmt::format("{}: the eviction listener got keys [{} ]; the model says [{} ]", call, got,
                                       want));
  }
  expected_.clear();
  actual_.clear();
}

// ---- CacheModel ------------------------------------------------------------

std::vector<std::uint64_t> CacheModel::keys() const {
  std::vector<std::uint64_t> out;
  keys(out);
  return out;
}

void CacheModel::keys(std::vector<std::uint64_t>& out) const {
  out.clear();
  for (const Entry& e : lru_) out.push_back(e.key);
}

LeafPage* CacheModel::page_at(std::uint64_t key) const {
  for (const Entry& e : lru_) {
    if (e.key == key) return e.page;
  }
  return nullptr;
}

void CacheModel::unlink(std::list<Entry>::iterator it, HandOvers& out) {
  bytes_ -= it->bytes;
  if (it->pins > 0) {
    deferred_.push_back(*it);
  } else {
    out.emplace_back(it->key, it->page);
    ++evictions_;
  }
  lru_.erase(it);
}

void CacheModel::evict_over_bounds(HandOvers& out) {
  while (!lru_.empty() && (lru_.size() > config_.max_entries || bytes_ > config_.max_bytes)) {
    unlink(std::prev(lru_.end()), out);
  }
}

HandOvers CacheModel::put(std::uint64_t key, LeafPage* page, std::size_t bytes) {
  HandOvers out;
  auto it = std::find_if(lru_.begin(), lru_.end(), [key](const Entry& e) { return e.key == key; });
  if (it != lru_.end()) {
    if (it->page == page) {
      lru_.splice(lru_.begin(), lru_, it);
      return out;
    }
    unlink(it, out);
  }
  lru_.push_front(Entry{next_id_++, key, page, bytes, 0});
  bytes_ += bytes;
  evict_over_bounds(out);
  return out;
}

LeafPage* CacheModel::get(std::uint64_t key, std::uint64_t& pin_id) {
  auto it = std::find_if(lru_.begin(), lru_.end(), [key](const Entry& e) { return e.key == key; });
  if (it == lru_.end()) {
    ++misses_;
    pin_id = 0;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it);
  ++it->pins;
  pin_id = it->id;
  return it->page;
}

HandOvers CacheModel::unpin(std::uint64_t pin_id) {
  HandOvers out;
  for (Entry& e : lru_) {
    if (e.id == pin_id && e.pins > 0) {
      --e.pins;
      return out;
    }
  }
  for (auto it = deferred_.begin(); it != deferred_.end(); ++it) {
    if (it->id != pin_id) continue;
    if (--it->pins == 0) {
      out.emplace_back(it->key, it->page);
      ++evictions_;
      ++deferred_evictions_;
      deferred_.erase(it);
    }
    return out;
  }
  return out;
}

HandOvers CacheModel::erase(std::uint64_t key, bool& found) {
  HandOvers out;
  auto it = std::find_if(lru_.begin(), lru_.end(), [key](const Entry& e) { return e.key == key; });
  found = it != lru_.end();
  if (found) unlink(it, out);
  return out;
}

HandOvers CacheModel::clear() {
  HandOvers out;
  while (!lru_.empty()) unlink(std::prev(lru_.end()), out);
  return out;
}

HandOvers CacheModel::shrink(std::size_t max_pages, std::size_t& evicted) {
  HandOvers out;
  evicted = 0;
  auto it = lru_.end();  // from the least recently used; unlink() leaves `it` valid
  while (it != lru_.begin() && evicted < max_pages) {
    const auto victim = std::prev(it);
    if (victim->pins > 0) {
      it = victim;
      continue;
    }
    unlink(victim, out);
    ++evicted;
  }
  return out;
}

void CacheModel::check_stats(const PageCacheStats& stats, Oracles& oracles) const {
  const PageCacheStats want{hits_, misses_, evictions_, deferred_evictions_, lru_.size(), bytes_, deferred_.size()};
  if (stats.hits != want.hits || stats.misses != want.misses || stats.evictions != want.evictions ||
      stats.deferred_evictions != want.deferred_evictions || stats.entries != want.entries ||
      stats.bytes != want.bytes || stats.pinned_evicted != want.pinned_evicted) {
    oracles.fail("cache", fmt::format("stats(): hits {} misses {} evictions {} deferred {} entries {} bytes {} "
                                      "pinned-evicted {}; the model says {} {} {} {} {} {} {}",
                                      stats.hits, stats.misses, stats.evictions, stats.deferred_evictions,
                                      stats.entries, stats.bytes, stats.pinned_evicted, want.hits, want.misses,
                                      want.evictions, want.deferred_evictions, want.entries, want.bytes,
                                      want.pinned_evicted));
  }
}

}  // namespace segsim::scenarios
