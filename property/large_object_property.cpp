// The LargeObjectAllocator against a reference model (issue 15).
//
// RapidCheck generates command sequences — allocations of boundary-biased
// sizes (zeroed or not), releases, double / stale / foreign / null releases,
// decommits, span unmapping, and injected map / madvise failures — over a
// small allocator on a ScriptedOs, for each fit policy. After every command:
// the outcome is one the model allows (InvalidSize exactly outside the range,
// OutOfBudget only when no free range fits, OutOfMemory only with a map
// failure armed), refusals change nothing, zeroed objects read zero, every
// live object reads its pattern, no two live objects overlap, audit() is
// clean and the live accounting matches the model.
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "core/large_object_allocator.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"

namespace segsim {
namespace {

constexpr std::size_t kMaxLive = 12;

LargeObjectAllocatorConfig property_config(FitPolicy fit) {
  LargeObjectAllocatorConfig config;
  config.max_object_bytes = 3 * MiB;
  config.granule_bytes = 64 * KiB;
  config.span_bytes = 2 * MiB;
  config.budget_bytes = 16 * MiB;
  config.fit = fit;
  config.decommit_check_interval_ns = 0;
  return config;
}

// Generation needs nothing from the model: every command is valid in every
// state, and the expected outcome is computed from the Sut's live objects.
struct Model {};

struct Sut {
  explicit Sut(FitPolicy fit)
      : large(LargeObjectAllocator::create(os, property_config(fit)).value()),
        foreign(LargeObjectAllocator::create(foreign_os, property_config(fit)).value()) {}

  struct Entry {
    LargeObject handle;
    std::uint8_t fill;
  };
  testing::ScriptedOs os;
  testing::ScriptedOs foreign_os;
  std::unique_ptr<LargeObjectAllocator> large;
  std::unique_ptr<LargeObjectAllocator> foreign;
  std::vector<Entry> live;
  std::vector<LargeObject> stale;
  std::uint8_t next_fill = 1;

  void check_all() {
    const auto violations = large->audit();
    RC_ASSERT(violations.empty());
    const LargeObjectStats s = large->stats();
    RC_ASSERT(s.live_objects == live.size());
    std::size_t bytes = 0;
    for (const Entry& e : live) {
      bytes += e.handle.size();
      for (std::size_t i = 0; i < e.handle.size(); i += 4096) RC_ASSERT(e.handle.data()[i] == std::byte{e.fill});
      RC_ASSERT(e.handle.data()[e.handle.size() - 1] == std::byte{e.fill});
    }
    RC_ASSERT(s.live_bytes == bytes);
    RC_ASSERT(s.mapped_bytes == s.live_bytes + s.free_bytes);
  }
};

rc::Gen<std::size_t> boundary_size() {
  const std::size_t min = LargeObjectAllocator::kMinObjectBytes;
  return rc::gen::oneOf(rc::gen::element<std::size_t>(0, min - 1, min, min + 1, 2 * MiB - 1, 2 * MiB, 2 * MiB + 1,
                                                      3 * MiB, 3 * MiB + 1, 512 * KiB, 1 * MiB),
                        rc::gen::inRange<std::size_t>(min, 3 * MiB + 1));
}

struct Allocate : rc::state::Command<Model, Sut> {
  std::size_t bytes = *boundary_size();
  bool zeroed = *rc::gen::arbitrary<bool>();
  bool map_fails = *rc::gen::weightedElement<bool>({{9, false}, {1, true}});
  void run(const Model& m, Sut& sut) const override {
    (void)m;
    if (sut.live.size() >= kMaxLive) return;
    if (map_fails) sut.os.fail_nth(OsCall::Map, 1, ENOMEM);
    const LargeObjectStats before = sut.large->stats();
    auto result = zeroed ? sut.large->allocate(bytes) : sut.large->allocate_uninitialized(bytes);
    sut.os.clear_failures();
    const bool valid = bytes >= LargeObjectAllocator::kMinObjectBytes && bytes <= 3 * MiB;
    if (!result.ok()) {
      const Errc code = result.error().code;
      const LargeObjectStats after = sut.large->stats();
      RC_ASSERT(after.live_objects == before.live_objects);
      if (!valid) {
        RC_ASSERT(code == Errc::InvalidSize);
      } else if (code == Errc::OutOfMemory) {
        RC_ASSERT(map_fails);
        // Growth may have unmapped wholly free spans to make room before the map failed.
        RC_ASSERT(after.mapped_bytes <= before.mapped_bytes && after.live_bytes == before.live_bytes);
      } else {
        RC_ASSERT(code == Errc::OutOfBudget);
        RC_ASSERT(after.largest_free_bytes < (bytes + 64 * KiB - 1) / (64 * KiB) * (64 * KiB));
      }
      return;
    }
    RC_ASSERT(valid);
    const LargeObject& o = result.value();
    RC_ASSERT(o.size() >= bytes && o.size() % (64 * KiB) == 0);
    if (zeroed) {
      for (std::size_t i = 0; i < o.size(); i += 512) RC_ASSERT(o.data()[i] == std::byte{0});
    }
    for (const auto& e : sut.live) {
      RC_ASSERT(o.data() + o.size() <= e.handle.data() || e.handle.data() + e.handle.size() <= o.data());
    }
    const std::uint8_t fill = sut.next_fill;
    sut.next_fill = static_cast<std::uint8_t>(fill == 255 ? 1 : fill + 1);
    std::memset(o.data(), fill, o.size());
    sut.live.push_back({o, fill});
    sut.check_all();
  }
  void show(std::ostream& os) const override {
    os << (zeroed ? "Allocate(" : "AllocateUninitialized(") << bytes << (map_fails ? ", map fails)" : ")");
  }
};

struct Release : rc::state::Command<Model, Sut> {
  std::size_t pick = *rc::gen::inRange<std::size_t>(0, 1000);
  void run(const Model& m, Sut& sut) const override {
    (void)m;
    if (sut.live.empty()) return;
    const std::size_t i = pick % sut.live.size();
    const LargeObject handle = sut.live[i].handle;
    RC_ASSERT(sut.large->release(handle).ok());
    sut.live.erase(sut.live.begin() + static_cast<long>(i));
    sut.stale.push_back(handle);
    sut.check_all();
  }
  void show(std::ostream& os) const override { os << "Release(" << pick << ")"; }
};

struct BadRelease : rc::state::Command<Model, Sut> {
  int kind = *rc::gen::inRange(0, 3);  // 0 stale, 1 foreign, 2 null
  std::size_t pick = *rc::gen::inRange<std::size_t>(0, 1000);
  void run(const Model& m, Sut& sut) const override {
    (void)m;
    LargeObject handle;
    Errc expected = Errc::InvalidPointer;
    if (kind == 0) {
      if (sut.stale.empty()) return;
      handle = sut.stale[pick % sut.stale.size()];
      expected = Errc::DoubleFree;
    } else if (kind == 1) {
      auto foreign = sut.foreign->allocate(512 * KiB);
      if (!foreign.ok()) return;
      handle = foreign.value();
    }
    const LargeObjectStats before = sut.large->stats();
    Status status = sut.large->release(handle);
    RC_ASSERT(!status.ok());
    RC_ASSERT(status.error().code == expected);
    const LargeObjectStats after = sut.large->stats();
    RC_ASSERT(after.live_objects == before.live_objects && after.free_bytes == before.free_bytes &&
              after.free_ranges == before.free_ranges);
    if (kind == 1) RC_ASSERT(sut.foreign->release(handle).ok());
    sut.check_all();
  }
  void show(std::ostream& os) const override { os << "BadRelease(" << (kind == 0 ? "stale" : kind == 1 ? "foreign" : "null") << ")"; }
};

struct Maintain : rc::state::Command<Model, Sut> {
  int what = *rc::gen::inRange(0, 3);  // 0 decommit, 1 decommit with advise failing, 2 unmap free spans
  void run(const Model& m, Sut& sut) const override {
    (void)m;
    if (what == 1) sut.os.fail_nth(OsCall::Advise, 1, EAGAIN);
    if (what == 2) {
      (void)sut.large->unmap_free_spans(0);
      RC_ASSERT(sut.large->stats().wholly_free_spans == 0 || sut.large->stats().unmap_failures > 0);
    } else {
      (void)sut.large->decommit_idle(0);
    }
    sut.os.clear_failures();
    sut.check_all();
  }
  void show(std::ostream& os) const override {
    os << (what == 0 ? "Decommit" : what == 1 ? "DecommitAdviseFails" : "UnmapFreeSpans");
  }
};

void run_property(FitPolicy fit) {
  Sut sut(fit);
  rc::state::check(Model{}, sut,
                   rc::state::gen::execOneOfWithArgs<Allocate, Allocate, Allocate, Release, Release, BadRelease, Maintain>());
  while (!sut.live.empty()) {
    RC_ASSERT(sut.large->release(sut.live.back().handle).ok());
    sut.live.pop_back();
  }
  sut.check_all();
}

RC_GTEST_PROP(LargeObjectProperty, BestFitMatchesTheModel, ()) { run_property(FitPolicy::BestFit); }
RC_GTEST_PROP(LargeObjectProperty, FirstFitMatchesTheModel, ()) { run_property(FitPolicy::FirstFit); }
RC_GTEST_PROP(LargeObjectProperty, WorstFitMatchesTheModel, ()) { run_property(FitPolicy::WorstFit); }

}  // namespace
}  // namespace segsim
