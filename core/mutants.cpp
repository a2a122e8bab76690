// Only in SEGSIM_MUTANTS builds: the active bug.
#include "core/mutants.h"

#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS

#include <atomic>

namespace segsim::mutants {
namespace {
// One bug per process at a time; sweeps and hunts fork a child per seed.
std::atomic<int> g_active{-1};
}  // namespace

void activate(Bug bug) { g_active.store(static_cast<int>(bug), std::memory_order_relaxed); }
void deactivate() { g_active.store(-1, std::memory_order_relaxed); }
bool active(Bug bug) noexcept { return g_active.load(std::memory_order_relaxed) == static_cast<int>(bug); }
const BugInfo* find(std::string_view name) {
  for (const BugInfo& info : kCatalogue) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace segsim::mutants

#endif
