// The page layer of the "recorded" scenario (scenarios/workloads/recorded.cpp):
// a crash report's LeafPagePool / LeafPage / PageCache operations, rebuilt on
// the stack's own pool and cache (docs/reproduce.md). Pages are matched by
// their recorded page ids, cache pins by (recorded thread, key). What the
// rebuild writes is a deterministic fill per write, kept in the stack's
// shadow, so a page read while pinned is checked by the content oracle.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "scenarios/crash_report.h"
#include "scenarios/stack.h"

namespace segsim::scenarios {

struct RecordedPages {
  std::map<std::uint64_t, LeafPage*> pages;  // by recorded page id: borrowed (or reset) here
  std::set<std::uint64_t> borrowed;          // of those, not yet cached nor given back
  std::map<std::uint64_t, std::uint64_t> page_of_key;  // cache key → the page id cached under it
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::vector<PageCache::Handle>> pins;  // (thread, key)
  std::uint64_t writes = 0;  // varies the fill bytes
};

// Performs page-layer event `e` of recorded thread `thread` (depth 0: called
// by the program) on the stack's pool and cache.
void perform_page_operation(Stack& stack, RecordedPages& pages, std::uint32_t thread, const CrashEvent& e);

// Drops the pins the window left and gives back the pages it left borrowed
// (the window may end anywhere): before the stack's own shutdown.
void finish_page_operations(Stack& stack, RecordedPages& pages);

}  // namespace segsim::scenarios
