// Only in SEGSIM_MUTANTS builds: the active bug.
#include "core/mutants.h"

#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace segsim::mutants {
namespace {

// SEGSIM_MUTANT=<name> switches a bug on for the whole process — how test
// suites (ctest -L property) and fuzz targets are run against a mutant.
int initial_bug() {
  const char* name = std::getenv("SEGSIM_MUTANT");
  if (name == nullptr || name[0] == '\0') return -1;
  for (const BugInfo& info : kCatalogue) {
    if (info.name == name) return static_cast<int>(info.bug);
  }
  std::fprintf(stderr, "segsim: SEGSIM_MUTANT=%s names no catalogued bug\n", name);
  std::exit(2);
}

// One bug per process at a time; sweeps and hunts fork a child per seed.
std::atomic<int> g_active{initial_bug()};

}  // namespace

void activate(Bug bug) { g_active.store(static_cast<int>(bug), std::memory_order_relaxed); }
void deactivate() { g_active.store(-1, std::memory_order_relaxed); }
bool active(Bug bug) noexcept { return g_active.load(std::memory_order_relaxed) == static_cast<int>(bug); }
const char* active_name() noexcept {
  const int bug = g_active.load(std::memory_order_relaxed);
  for (const BugInfo& info : kCatalogue) {
    if (static_cast<int>(info.bug) == bug) return info.name.data();  // the catalogue's literals end in '\0'
  }
  return nullptr;
}
const BugInfo* find(std::string_view name) {
  for (const BugInfo& info : kCatalogue) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace segsim::mutants

#endif
