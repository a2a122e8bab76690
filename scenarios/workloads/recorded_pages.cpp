#include "scenarios/workloads/recorded_pages.h"

#include <fmt/format.h>

#include "scenarios/workloads/page_work.h"

namespace segsim::scenarios {

namespace {

using flight_recorder::Op;

LeafPage* page_of(RecordedPages& pages, std::uint64_t id) {
  auto it = pages.pages.find(id);
  return it == pages.pages.end() ? nullptr : it->second;
}

// A fill byte for the n-th write: never 0 (a zeroed page must not pass).
std::uint8_t fill_for(std::uint64_t page, std::size_t slot, std::uint64_t n) {
  return static_cast<std::uint8_t>(1 + (page * 31 + slot * 7 + n) % 255);
}

// A read of the pinned page cached under `key`: every slot against the shadow
// of the page id cached there (the real run's readers read while pinned).
void verify_pinned(Stack& stack, RecordedPages& pages, std::uint64_t key, const LeafPage& page) {
  auto cached = pages.page_of_key.find(key);
  const std::uint64_t id = cached == pages.page_of_key.end() ? key : cached->second;
  // The shadow of a page the window did not build, or one retired long after
  // its eviction, is not known: nothing to compare.
  if (stack.shadow.count(id) == 0 || stack.dewey_shadow.count(id) == 0) return;
  verify_page(stack, id, page);
}

void write(Stack& stack, RecordedPages& pages, const CrashEvent& e, bool dewey) {
  LeafPage* page = page_of(pages, e.page);
  if (page == nullptr) return;  // borrowed before the window
  const SlotShadow value{e.bytes, fill_for(e.page, e.slot, ++pages.writes)};
  const std::vector<std::byte> bytes(value.bytes, std::byte{value.fill});
  const Status written = dewey ? page->set_dewey_id(e.slot, bytes) : page->set_slot(e.slot, bytes);
  if (written.ok()) (dewey ? stack.dewey_shadow : stack.shadow)[e.page][e.slot] = value;
}

void borrow(Stack& stack, RecordedPages& pages, const CrashEvent& e) {
  auto borrowed = stack.pool.borrow(e.page);
  if (!borrowed.ok()) return;  // as the allocator allows here (the budget)
  pages.pages[e.page] = borrowed.value();
  pages.borrowed.insert(e.page);
  stack.shadow[e.page] = {};
  stack.dewey_shadow[e.page] = {};
}

void give_back(Stack& stack, RecordedPages& pages, const CrashEvent& e) {
  LeafPage* page = page_of(pages, e.page);
  if (page == nullptr) return;
  pages.pages.erase(e.page);
  pages.borrowed.erase(e.page);
  const Status back = stack.pool.give_back(page);
  // The recorded call succeeded: a refusal here is the stack's doing.
  if (!back.ok() && !e.error) {
    stack.oracles.fail("double-free", fmt::format("give-back of recorded page {} refused: {}", e.page,
                                                  errc_name(back.error().code)));
  }
}

void reset(Stack& stack, RecordedPages& pages, const CrashEvent& e) {
  LeafPage* page = page_of(pages, e.page);
  if (page == nullptr) return;
  const std::uint64_t new_id = e.bytes;
  if (!page->reset_for_reuse(new_id).ok()) return;
  const bool borrowed = pages.borrowed.erase(e.page) > 0;
  pages.pages.erase(e.page);
  pages.pages[new_id] = page;
  if (borrowed) pages.borrowed.insert(new_id);
  stack.shadow[new_id] = {};
  stack.dewey_shadow[new_id] = {};
}

void put(Stack& stack, RecordedPages& pages, const CrashEvent& e) {
  const std::uint64_t id = e.bytes;
  LeafPage* page = page_of(pages, id);
  if (page == nullptr) return;
  pages.page_of_key[e.page] = id;
  pages.borrowed.erase(id);  // the cache owns it now: its eviction gives it back
  stack.cache.put(e.page, page);
}

void get(Stack& stack, RecordedPages& pages, std::uint32_t thread, const CrashEvent& e) {
  PageCache::Handle handle = stack.cache.get(e.page);
  if (!handle) return;
  verify_pinned(stack, pages, e.page, *handle.page());
  pages.pins[{thread, e.page}].push_back(std::move(handle));
}

void unpin(Stack& stack, RecordedPages& pages, std::uint32_t thread, const CrashEvent& e) {
  auto it = pages.pins.find({thread, e.page});
  if (it == pages.pins.end() || it->second.empty()) return;  // pinned before the window, or missed here
  PageCache::Handle handle = std::move(it->second.back());
  it->second.pop_back();
  verify_pinned(stack, pages, e.page, *handle.page());  // the last read under this pin
  handle.reset();
}

}  // namespace

void perform_page_operation(Stack& stack, RecordedPages& pages, std::uint32_t thread, const CrashEvent& e) {
  switch (e.op) {
    case Op::PoolBorrow: borrow(stack, pages, e); break;
    case Op::PoolGiveBack: give_back(stack, pages, e); break;
    case Op::PageSetSlot: write(stack, pages, e, false); break;
    case Op::PageSetDeweyId: write(stack, pages, e, true); break;
    case Op::PageReturn:
      if (LeafPage* page = page_of(pages, e.page); page != nullptr) (void)page->return_segments();
      break;
    case Op::PageClear:
      if (LeafPage* page = page_of(pages, e.page); page != nullptr) {
        page->clear();
        stack.shadow[e.page] = {};
        stack.dewey_shadow[e.page] = {};
      }
      break;
    case Op::PageReset: reset(stack, pages, e); break;
    case Op::CachePut: put(stack, pages, e); break;
    case Op::CacheGet: get(stack, pages, thread, e); break;
    case Op::CacheUnpin: unpin(stack, pages, thread, e); break;
    case Op::CacheErase: (void)stack.cache.erase(e.page); break;
    case Op::CacheClear: stack.cache.clear(); break;
    case Op::CacheShrink: (void)stack.cache.shrink(e.bytes); break;
    default: break;  // the allocator's: recorded.cpp
  }
  stack.oracles.check_cheap();
}

void finish_page_operations(Stack& stack, RecordedPages& pages) {
  // A pin the window ended with: its reader was still reading (a failing
  // stress test stops the recording at its check) — the page must still
  // read what was written, then the pin goes (a deferred eviction gives the
  // page back now).
  for (auto& [pin, handles] : pages.pins) {
    for (const PageCache::Handle& handle : handles) verify_pinned(stack, pages, pin.second, *handle.page());
  }
  pages.pins.clear();
  for (std::uint64_t id : pages.borrowed) {
    if (LeafPage* page = page_of(pages, id); page != nullptr) (void)stack.pool.give_back(page);
  }
  pages.borrowed.clear();
  pages.pages.clear();
}

}  // namespace segsim::scenarios
