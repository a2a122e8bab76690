// Real threads on one LargeObjectAllocator (issue 15): clients allocate,
// write a pattern, verify and release, while a maintenance thread decommits
// and unmaps and a pressure loop ticks over the allocator's accounting. Run
// under TSan by the tsan preset; in every build the patterns and the audit
// must hold.
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/large_object_allocator.h"
#include "core/linux_os.h"
#include "core/pressure_actions.h"
#include "core/pressure_loop.h"
#include "core/units.h"

namespace segsim::testing {
namespace {


TEST(LargeObjectStress, ClientsMaintenanceAndPressureLoopConcurrently) {
  LargeObjectAllocatorConfig config;
  config.max_object_bytes = 2 * MiB;
  config.span_bytes = 4 * MiB;
  config.budget_bytes = 64 * MiB;
  config.decommit_after_ns = 0;
  config.decommit_check_interval_ns = 100'000;  // the lazy decommit runs from release() too
  auto large = LargeObjectAllocator::create(LinuxOs::instance(), config).value();
  auto forecaster = PressureForecaster::create({}).value();
  StackPressureActions actions(StackPressureTargets{nullptr, nullptr, large.get(), {}});
  PressureLoop loop(*forecaster, actions, config.budget_bytes);
  loop.add_source("large-objects", [&] { return large->mapped_bytes(); });

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      std::uint64_t state = 0x9e3779b97f4a7c15ULL * (t + 1);
      auto next = [&state] { return (state = state * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
      std::vector<std::pair<LargeObject, unsigned char>> held;
      for (int i = 0; i < 400; ++i) {
        if (held.size() < 6 && next() % 3 != 0) {
          auto got = large->allocate(LargeObjectAllocator::kMinObjectBytes + next() % (2 * MiB - 300 * KiB));
          if (!got.ok()) continue;  // over budget under contention: allowed
          const auto fill = static_cast<unsigned char>(1 + next() % 255);
          if (got->data()[0] != std::byte{0}) failures.fetch_add(1);
          std::memset(got->data(), fill, got->size());
          held.emplace_back(got.value(), fill);
        } else if (!held.empty()) {
          const std::size_t k = next() % held.size();
          const auto& [object, fill] = held[k];
          for (std::size_t b = 0; b < object.size(); b += 4096) {
            if (object.data()[b] != std::byte{fill}) failures.fetch_add(1);
          }
          if (!large->release(object).ok()) failures.fetch_add(1);
          held.erase(held.begin() + static_cast<long>(k));
        }
      }
      for (const auto& [object, fill] : held) {
        if (!large->release(object).ok()) failures.fetch_add(1);
      }
    });
  }
  std::thread maintenance([&] {
    while (!stop.load()) {
      (void)large->decommit_idle(0);
      (void)large->unmap_free_spans(large->mapped_bytes() / 2);
      (void)loop.tick();
      std::this_thread::yield();
    }
  });
  for (auto& c : clients) c.join();
  stop.store(true);
  maintenance.join();
  EXPECT_EQ(failures.load(), 0);
  auto violations = large->audit();
  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_EQ(large->stats().live_objects, 0u);
}

}  // namespace
}  // namespace segsim::testing
