// The simulator's costs (issue "Deterministic simulator", Benchmarks):
//  * SimRawSwitch: a one-way Boost.Context fcontext switch (ping-pong / 2) —
//    the baseline for SimSchedulingPoint*.
//  * SimContextSwitch: the same ping-pong on the simulator's own switch
//    (sim/context_switch.h), which its fibers use.
//  * SimSchedulingPointSwitching: a yield under round robin with 2 fibers, so
//    every scheduling point switches fibers (fiber → scheduler → fiber).
//  * SimSchedulingPointNoSwitch: a yield with one fiber: the decision alone.
//  * SimBusyFourFibers: 4 fibers doing atomic fetch_adds under the random
//    strategy: scheduling points per second of a busy program.
//  * SimAllocatorOps / NativeAllocatorOps: the same allocate+release loop on a
//    fiber under simulation and on this thread without one.
// Items processed = one-way switches, scheduling points, or allocator ops, so
// "ns per item" is the figure; docs/benchmarks.md gives the ratios.
#include <benchmark/benchmark.h>

#include <vector>

#include <boost/context/fiber.hpp>

#include "bench/bench_support.h"
#include "core/platform/atomic.h"
#include "core/platform/clock.h"
#include "sim/context_switch.h"
#include "sim/simulation.h"

namespace segsim::bench {
namespace {

namespace ctx = boost::context;

void SimRawSwitch(benchmark::State& state) {
  ctx::fiber partner{[](ctx::fiber&& back) {
    for (;;) back = std::move(back).resume();
    return std::move(back);
  }};
  for (auto _ : state) {
    partner = std::move(partner).resume();  // there and back: two one-way switches
  }
  state.SetItemsProcessed(2 * state.iterations());
  // `partner` never finishes; Boost unwinds it on destruction (no sanitizer here).
}
BENCHMARK(SimRawSwitch);

struct PingPong {
  sim::ContextSp main = nullptr;
  sim::ContextSp partner = nullptr;
};

[[noreturn]] void ping_pong_partner(void* arg) noexcept {
  auto& contexts = *static_cast<PingPong*>(arg);
  for (;;) sim::switch_context(&contexts.partner, contexts.main);
}

void SimContextSwitch(benchmark::State& state) {
  std::vector<char> stack(64 * 1024);
  PingPong contexts;
  contexts.partner = sim::make_context(stack.data() + stack.size(), stack.size(), &ping_pong_partner, &contexts);
  for (auto _ : state) {
    sim::switch_context(&contexts.main, contexts.partner);  // there and back: two one-way switches
  }
  state.SetItemsProcessed(2 * state.iterations());
  // The partner stays suspended in its loop; its stack is plain memory.
}
BENCHMARK(SimContextSwitch);

constexpr int kPointsPerRun = 20000;

sim::RunResult run_yielders(int fibers, int yields_each, const char* strategy) {
  sim::SimulationConfig config;
  config.strategy = strategy;
  config.max_steps = 10'000'000;
  sim::Simulation simulation(config);
  for (int f = 0; f < fibers; ++f) {
    simulation.spawn("yielder", [yields_each] {
      for (int i = 0; i < yields_each; ++i) platform::yield();
    });
  }
  return simulation.run();
}

void SimSchedulingPointSwitching(benchmark::State& state) {
  std::uint64_t points = 0;
  for (auto _ : state) {
    sim::RunResult result = run_yielders(2, kPointsPerRun / 2, "rr");
    if (!result.passed()) die("simulation failed: " + result.message);
    points += result.steps;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(points));
}
BENCHMARK(SimSchedulingPointSwitching)->Unit(benchmark::kMillisecond);

void SimSchedulingPointNoSwitch(benchmark::State& state) {
  std::uint64_t points = 0;
  for (auto _ : state) {
    sim::RunResult result = run_yielders(1, kPointsPerRun, "random");
    if (!result.passed()) die("simulation failed: " + result.message);
    points += result.steps;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(points));
}
BENCHMARK(SimSchedulingPointNoSwitch)->Unit(benchmark::kMillisecond);

void SimBusyFourFibers(benchmark::State& state) {
  std::uint64_t points = 0;
  for (auto _ : state) {
    platform::Atomic<std::uint64_t> counter{0};
    sim::SimulationConfig config;
    config.max_steps = 10'000'000;
    sim::Simulation simulation(config);
    for (int f = 0; f < 4; ++f) {
      simulation.spawn("adder", [&counter] {
        for (int i = 0; i < kPointsPerRun / 4; ++i) counter.fetch_add(1);
      });
    }
    sim::RunResult result = simulation.run();
    if (!result.passed()) die("simulation failed: " + result.message);
    points += result.steps;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(points));
}
BENCHMARK(SimBusyFourFibers)->Unit(benchmark::kMillisecond);

constexpr int kAllocatorOps = 20000;  // allocate + release = 2 ops, kAllocatorOps / 2 pairs

void allocator_loop(SegmentAllocator& allocator) {
  for (int i = 0; i < kAllocatorOps / 2; ++i) {
    auto segment = allocator.allocate_uninitialized(class_bytes(static_cast<std::size_t>(i) % 4));
    if (!segment.ok()) die(segment.error().describe());
    if (!allocator.release(segment.value()).ok()) die("release failed");
  }
}

std::unique_ptr<SegmentAllocator> bench_allocator() {
  auto created = SegmentAllocator::create(LinuxOs::instance());
  if (!created.ok()) die(created.error().describe());
  return std::move(created.value());
}

void SimAllocatorOps(benchmark::State& state) {
  auto allocator = bench_allocator();
  allocator_loop(*allocator);  // warm: regions mapped
  for (auto _ : state) {
    sim::SimulationConfig config;
    config.max_steps = 10'000'000;
    sim::Simulation simulation(config);
    simulation.spawn("allocator", [&] { allocator_loop(*allocator); });
    sim::RunResult result = simulation.run();
    if (!result.passed()) die("simulation failed: " + result.message);
  }
  state.SetItemsProcessed(state.iterations() * kAllocatorOps);
}
BENCHMARK(SimAllocatorOps)->Unit(benchmark::kMillisecond);

void NativeAllocatorOps(benchmark::State& state) {
  auto allocator = bench_allocator();
  allocator_loop(*allocator);
  for (auto _ : state) allocator_loop(*allocator);
  state.SetItemsProcessed(state.iterations() * kAllocatorOps);
}
BENCHMARK(NativeAllocatorOps)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace segsim::bench
