// Fault points: named sites in core that a simulation may activate
// (FoundationDB's BUGGIFY). A site perturbs timing or forces a rare but legal
// path; it never corrupts state.
//
//   if (SEGSIM_FAULT_POINT("alloc.pool.slow_path")) { ...take the slow path... }
//
// Every site is listed in kFaultPoints; naming an unlisted site is a compile
// error (the id is computed by a consteval lookup). With no controller
// installed a site costs one relaxed load and one predictable branch.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace segsim::fault_points {

struct Site {
  std::string_view name;
  std::string_view effect;  // what firing does, for `segsim list` and docs/faults.md
};

inline constexpr std::array kFaultPoints = {
    Site{"alloc.cleanup.delay", "the async region cleanup yields before it starts its work"},
    Site{"alloc.freed_queue.skip", "growth pretends the freed-region queue is empty and maps anew"},
    Site{"alloc.pool.slow_path", "allocation ignores free slices and takes the growth path"},
    Site{"alloc.tcache.bypass", "allocation skips the thread's segment cache and takes the class lock"},
    Site{"release.tcache.bypass", "release skips the thread's segment cache and takes the class lock"},
    Site{"tcache.flush.early", "a cached release sends the older half of its class cache back to the pool"},
    Site{"cache.evict.yield", "eviction yields between unlinking a page and handing it over"},
    Site{"large.alloc.grow", "large-object allocation ignores the free ranges and maps a new span"},
    Site{"large.decommit.slow", "lazy decommit's madvise is slow: it sleeps 20 us (virtual) before advising"},
    Site{"pressure.tick.skip", "the pressure loop skips one tick's actions (samples and forecasts still run)"},
    Site{"slab.magazine.exchange", "a thread yields before it exchanges a magazine with its class's depot"},
    Site{"slab.remote_free.handover", "a remote free yields after the object is free and before it is in a magazine"},
    Site{"arena.chunk.grow", "an arena yields between deciding to grow and taking its new chunk"},
    Site{"lookup.index.yield", "a lookup yields between finding the region in the address index and locking its class"},
    Site{"recorder.regions.claim.yield",
         "noting a mapped region yields between claiming its recorder table entry and publishing it"},
    // Appended: a fuzz input names fault points by their index here.
    Site{"generation.near_wrap",
         "a size class's (or the large objects') first generation is drawn just below the wrap past 0, which "
         "2^32 allocations reach otherwise"},
};

consteval std::size_t id_of(std::string_view name) {
  for (std::size_t i = 0; i < kFaultPoints.size(); ++i) {
    if (kFaultPoints[i].name == name) return i;
  }
  throw "unknown fault point: add it to kFaultPoints";  // compile error in a consteval call
}

// Decides whether an active site fires. Installed by a simulation or a test.
class Controller {
 public:
  virtual ~Controller() = default;
  virtual bool should_fire(std::size_t site_id) = 0;
  // False when no point can fire (a plan without point faults): code that
  // skips its fault points while a controller is installed (the segment
  // allocator's simulated hit paths) may then run as without one.
  virtual bool may_fire() const { return true; }
};

namespace detail {
inline std::atomic<Controller*> g_controller{nullptr};
bool fire(std::size_t site_id);
}  // namespace detail

// Installs `controller` process-wide for the scope's lifetime (one at a time).
class ControllerScope {
 public:
  explicit ControllerScope(Controller* controller);
  ~ControllerScope();
  ControllerScope(const ControllerScope&) = delete;
  ControllerScope& operator=(const ControllerScope&) = delete;

 private:
  Controller* previous_;
};

}  // namespace segsim::fault_points

#define SEGSIM_FAULT_POINT(name)                                                                 \
  (__builtin_expect(                                                                             \
       ::segsim::fault_points::detail::g_controller.load(std::memory_order_relaxed) != nullptr,  \
       0) &&                                                                                     \
   ::segsim::fault_points::detail::fire(                                                         \
       std::integral_constant<std::size_t, ::segsim::fault_points::id_of(name)>::value))
