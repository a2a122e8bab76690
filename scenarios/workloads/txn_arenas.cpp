// placeholder
#include "scenarios/stack.h"
namespace segsim::scenarios {
ScenarioDef txn_arenas_scenario() { ScenarioDef def; def.info = {"txn-arenas", "todo", 3, 1}; def.configure = [](SegmentAllocatorConfig&, PageCacheConfig&, std::uint32_t, std::uint32_t) {}; def.client = [](Stack&, std::uint32_t) {}; return def; }
}
