// The page layer against models (RapidCheck stateful, rc::state):
//  * LeafPage — model: slot → bytes, DeweyID → bytes, shared or not, returned
//    or not; the allocator's live slices must be what the model says the page
//    holds (1 while shared, 2 with its own DeweyID segment, 0 once returned).
//  * PageCache + LeafPagePool — model: which pages are held by a writer,
//    cached (LRU order), pinned, or evicted-while-pinned; invariant: the
//    allocator's live slices equal the pages the model says are alive.
#include <algorithm>
#include <map>
#include <memory>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "core/leaf_page.h"
#include "core/leaf_page_pool.h"
#include "core/page_cache.h"
#include "core/segment_allocator.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"

namespace segsim {
namespace {

constexpr std::size_t kSlots = 16;

std::unique_ptr<SegmentAllocator> make_allocator(Os& os) {
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.budget_bytes = 64 * 1024 * KiB;
  return std::move(SegmentAllocator::create(os, config).value());
}

std::vector<std::byte> value_of(std::size_t bytes, std::uint8_t fill) {
  return std::vector<std::byte>(bytes, std::byte{fill});
}

// ===========================================================================
// LeafPage

struct PageModel {
  std::map<std::size_t, std::pair<std::size_t, std::uint8_t>> slots;  // slot → (bytes, fill)
  std::map<std::size_t, std::pair<std::size_t, std::uint8_t>> dewey;
  bool shared = true;
  bool returned = false;

  std::size_t live_slot_bytes_without(std::size_t slot) const {
    std::size_t bytes = 0;
    for (const auto& [s, v] : slots) bytes += s == slot ? 0 : v.first;
    return bytes;
  }
};

struct PageSut {
  testing::ScriptedOs os;
  std::unique_ptr<SegmentAllocator> allocator = make_allocator(os);
  std::unique_ptr<LeafPage> page = std::move(LeafPage::create(*allocator, {kSlots, 4 * KiB, 64 * KiB}, 1).value());
};

void check_page(const PageModel& m, PageSut& sut) {
  const AllocatorStats stats = sut.allocator->stats();
  const std::size_t expected_live = m.returned ? 0 : (m.shared ? 1 : 2);
  RC_ASSERT(stats.live_slices() == expected_live);
  RC_ASSERT(stats.double_frees == 0u);
  RC_ASSERT(sut.page->segments_returned() == m.returned);
  RC_ASSERT(sut.allocator->audit().empty());
  if (m.returned) return;
  RC_ASSERT(sut.page->dewey_ids_shared() == m.shared);
  for (std::size_t s = 0; s < kSlots; ++s) {
    for (bool dewey : {false, true}) {
      const auto& table = dewey ? m.dewey : m.slots;
      auto got = dewey ? sut.page->get_dewey_id(s) : sut.page->get_slot(s);
      auto expected = table.find(s);
      if (expected == table.end()) {
        RC_ASSERT(got.empty());
        continue;
      }
      RC_ASSERT(got.size() == expected->second.first);
      for (std::byte b : got) RC_ASSERT(b == std::byte{expected->second.second});
    }
  }
}

class PageCommand : public rc::state::Command<PageModel, PageSut> {
 public:
  void run(const PageModel& m, PageSut& sut) const final {
    operate(m, sut);
    PageModel next = m;
    apply(next);
    check_page(next, sut);
  }

 protected:
  virtual void operate(const PageModel& m, PageSut& sut) const = 0;
};

class SetSlot final : public PageCommand {
 public:
  SetSlot()
      : slot_(*rc::gen::inRange<std::size_t>(0, kSlots)),
        bytes_(*rc::gen::inRange<std::size_t>(0, 40 * KiB)),
        fill_(*rc::gen::arbitrary<std::uint8_t>()) {}
  bool fits(const PageModel& m) const { return m.live_slot_bytes_without(slot_) + bytes_ <= 256 * KiB; }
  void apply(PageModel& m) const override {
    if (!m.returned && fits(m)) m.slots[slot_] = {bytes_, fill_};
  }
  void operate(const PageModel& m, PageSut& sut) const override {
    Status written = sut.page->set_slot(slot_, value_of(bytes_, fill_));
    if (m.returned) {
      RC_ASSERT(!written.ok() && written.error().code == Errc::PageReturned);
    } else {
      RC_ASSERT(written.ok() == fits(m));
      if (!written.ok()) RC_ASSERT(written.error().code == Errc::PageFull);
    }
  }
  void show(std::ostream& out) const override {
    out << "set_slot(" << slot_ << ", " << bytes_ << " bytes of " << int(fill_) << ")";
  }

 private:
  std::size_t slot_, bytes_;
  std::uint8_t fill_;
};

class SetDewey final : public PageCommand {
 public:
  SetDewey()
      : slot_(*rc::gen::inRange<std::size_t>(0, kSlots)),
        bytes_(*rc::gen::inRange<std::size_t>(1, 3000)),
        fill_(*rc::gen::arbitrary<std::uint8_t>()) {}
  void apply(PageModel& m) const override {
    if (m.returned) return;
    m.dewey[slot_] = {bytes_, fill_};
    m.shared = false;
  }
  void operate(const PageModel& m, PageSut& sut) const override {
    RC_ASSERT(sut.page->set_dewey_id(slot_, value_of(bytes_, fill_)).ok() == !m.returned);
  }
  void show(std::ostream& out) const override {
    out << "set_dewey_id(" << slot_ << ", " << bytes_ << " bytes of " << int(fill_) << ")";
  }

 private:
  std::size_t slot_, bytes_;
  std::uint8_t fill_;
};

class ReturnSegments final : public PageCommand {
 public:
  void apply(PageModel& m) const override { m.returned = true; }
  void operate(const PageModel&, PageSut& sut) const override {
    RC_ASSERT(sut.page->return_segments().ok());  // idempotent: always fine
  }
  void show(std::ostream& out) const override { out << "return_segments()"; }
};

class ResetForReuse final : public PageCommand {
 public:
  void apply(PageModel& m) const override {
    m.slots.clear();
    m.dewey.clear();
    if (m.returned) m.shared = true;  // fresh segments: shared again
    m.returned = false;
  }
  void operate(const PageModel&, PageSut& sut) const override {
    RC_ASSERT(sut.page->reset_for_reuse(2).ok());
  }
  void show(std::ostream& out) const override { out << "reset_for_reuse()"; }
};

class Clear final : public PageCommand {
 public:
  void apply(PageModel& m) const override {
    m.slots.clear();
    m.dewey.clear();
  }
  void operate(const PageModel&, PageSut& sut) const override { sut.page->clear(); }
  void show(std::ostream& out) const override { out << "clear()"; }
};

RC_GTEST_PROP(PageLayerProperty, LeafPageMatchesModel, ()) {
  PageSut sut;
  const auto commands = *rc::state::gen::commands(
      PageModel{}, rc::state::gen::execOneOfWithArgs<SetSlot, SetSlot, SetSlot, SetDewey, ReturnSegments,
                                                     ResetForReuse, Clear>());
  rc::state::runAll(commands, PageModel{}, sut);
}

// ===========================================================================
// PageCache + LeafPagePool

constexpr std::size_t kCacheEntries = 3;

struct CacheModel {
  std::uint64_t next_id = 1;
  std::vector<std::uint64_t> held;           // borrowed by the writer, not cached
  std::vector<std::uint64_t> lru;            // cached, most recent first
  std::vector<std::uint64_t> handles;        // pinned keys, one per handle
  std::vector<std::uint64_t> evicted_pinned; // evicted while pinned: still alive

  bool pinned(std::uint64_t id) const { return std::count(handles.begin(), handles.end(), id) > 0; }
  // Evicts `id` from the LRU (it must be there).
  void evict(std::uint64_t id) {
    lru.erase(std::find(lru.begin(), lru.end(), id));
    if (pinned(id)) evicted_pinned.push_back(id);
  }
  std::size_t alive() const { return held.size() + lru.size() + evicted_pinned.size(); }
};

struct CacheSut {
  testing::ScriptedOs os;
  std::unique_ptr<SegmentAllocator> allocator = make_allocator(os);
  LeafPagePool pool{*allocator};
  std::map<std::uint64_t, LeafPage*> pages;  // every page by id (dead ones too)
  PageCache cache{{kCacheEntries, std::size_t{1} << 30}, pool,
                  [](const std::uint64_t&, const Status& back) { RC_ASSERT(back.ok()); }};
  std::vector<PageCache::Handle> handles;  // destroyed before the cache
};

std::uint8_t fill_of(std::uint64_t id) { return static_cast<std::uint8_t>(id * 37 + 1); }

void check_cache(const CacheModel& m, CacheSut& sut) {
  RC_ASSERT(sut.allocator->stats().live_slices() == m.alive());
  RC_ASSERT(sut.pool.stats().borrowed == m.alive());
  const PageCacheStats stats = sut.cache.stats();
  RC_ASSERT(stats.entries == m.lru.size());
  RC_ASSERT(stats.pinned_evicted == m.evicted_pinned.size());
  RC_ASSERT(sut.allocator->stats().double_frees == 0u);
  // Every pinned page is intact: its slot reads back.
  for (const auto& handle : sut.handles) {
    RC_ASSERT(!handle.page()->segments_returned());
    auto value = handle.page()->get_slot(0);
    RC_ASSERT(value.size() == 100u);
    RC_ASSERT(value[0] == std::byte{fill_of(handle.key())});
  }
}

class CacheCommand : public rc::state::Command<CacheModel, CacheSut> {
 public:
  void run(const CacheModel& m, CacheSut& sut) const final {
    operate(m, sut);
    CacheModel next = m;
    apply(next);
    check_cache(next, sut);
  }

 protected:
  virtual void operate(const CacheModel& m, CacheSut& sut) const = 0;
};

class Borrow final : public CacheCommand {
 public:
  void apply(CacheModel& m) const override { m.held.push_back(m.next_id++); }
  void operate(const CacheModel& m, CacheSut& sut) const override {
    auto page = sut.pool.borrow(m.next_id);
    RC_ASSERT(page.ok());
    RC_ASSERT(page.value()->set_slot(0, value_of(100, fill_of(m.next_id))).ok());
    sut.pages[m.next_id] = page.value();
  }
  void show(std::ostream& out) const override { out << "borrow()"; }
};

class Publish final : public CacheCommand {
 public:
  Publish() : index_(*rc::gen::inRange<std::size_t>(0, 8)) {}
  void checkPreconditions(const CacheModel& m) const override { RC_PRE(index_ < m.held.size()); }
  void apply(CacheModel& m) const override {
    const std::uint64_t id = m.held[index_];
    m.held.erase(m.held.begin() + static_cast<std::ptrdiff_t>(index_));
    m.lru.insert(m.lru.begin(), id);
    if (m.lru.size() > kCacheEntries) m.evict(m.lru.back());
  }
  void operate(const CacheModel& m, CacheSut& sut) const override {
    const std::uint64_t id = m.held[index_];
    sut.cache.put(id, sut.pages.at(id));
  }
  void show(std::ostream& out) const override { out << "put(held #" << index_ << ")"; }

 private:
  std::size_t index_;
};

class Get final : public CacheCommand {
 public:
  Get() : id_(*rc::gen::inRange<std::uint64_t>(1, 12)) {}
  void apply(CacheModel& m) const override {
    auto it = std::find(m.lru.begin(), m.lru.end(), id_);
    if (it == m.lru.end()) return;  // a miss
    m.lru.erase(it);
    m.lru.insert(m.lru.begin(), id_);
    m.handles.push_back(id_);
  }
  void operate(const CacheModel& m, CacheSut& sut) const override {
    auto handle = sut.cache.get(id_);
    const bool cached = std::find(m.lru.begin(), m.lru.end(), id_) != m.lru.end();
    RC_ASSERT(static_cast<bool>(handle) == cached);
    if (handle) sut.handles.push_back(std::move(handle));
  }
  void show(std::ostream& out) const override { out << "get(" << id_ << ")"; }

 private:
  std::uint64_t id_;
};

class Unpin final : public CacheCommand {
 public:
  Unpin() : index_(*rc::gen::inRange<std::size_t>(0, 8)) {}
  void checkPreconditions(const CacheModel& m) const override { RC_PRE(index_ < m.handles.size()); }
  void apply(CacheModel& m) const override {
    const std::uint64_t id = m.handles[index_];
    m.handles.erase(m.handles.begin() + static_cast<std::ptrdiff_t>(index_));
    auto evicted = std::find(m.evicted_pinned.begin(), m.evicted_pinned.end(), id);
    if (evicted != m.evicted_pinned.end() && !m.pinned(id)) m.evicted_pinned.erase(evicted);
  }
  void operate(const CacheModel&, CacheSut& sut) const override {
    sut.handles.erase(sut.handles.begin() + static_cast<std::ptrdiff_t>(index_));
  }
  void show(std::ostream& out) const override { out << "unpin(handle #" << index_ << ")"; }

 private:
  std::size_t index_;
};

class Erase final : public CacheCommand {
 public:
  Erase() : index_(*rc::gen::inRange<std::size_t>(0, kCacheEntries)) {}
  void checkPreconditions(const CacheModel& m) const override { RC_PRE(index_ < m.lru.size()); }
  void apply(CacheModel& m) const override { m.evict(m.lru[index_]); }
  void operate(const CacheModel& m, CacheSut& sut) const override {
    RC_ASSERT(sut.cache.erase(m.lru[index_]));
  }
  void show(std::ostream& out) const override { out << "erase(lru #" << index_ << ")"; }

 private:
  std::size_t index_;
};

class GiveBackHeld final : public CacheCommand {
 public:
  GiveBackHeld() : index_(*rc::gen::inRange<std::size_t>(0, 8)) {}
  void checkPreconditions(const CacheModel& m) const override { RC_PRE(index_ < m.held.size()); }
  void apply(CacheModel& m) const override {
    m.held.erase(m.held.begin() + static_cast<std::ptrdiff_t>(index_));
  }
  void operate(const CacheModel& m, CacheSut& sut) const override {
    RC_ASSERT(sut.pool.give_back(sut.pages.at(m.held[index_])).ok());
  }
  void show(std::ostream& out) const override { out << "give_back(held #" << index_ << ")"; }

 private:
  std::size_t index_;
};

RC_GTEST_PROP(PageLayerProperty, CacheAndPoolMatchModel, ()) {
  CacheSut sut;
  const auto commands = *rc::state::gen::commands(
      CacheModel{}, rc::state::gen::execOneOfWithArgs<Borrow, Borrow, Publish, Publish, Get, Get, Unpin,
                                                      Erase, GiveBackHeld>());
  rc::state::runAll(commands, CacheModel{}, sut);
  sut.handles.clear();
  sut.cache.clear();
  RC_ASSERT(sut.allocator->stats().live_slices() == sut.pool.stats().borrowed);
}

}  // namespace
}  // namespace segsim
