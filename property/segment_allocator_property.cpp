// The SegmentAllocator against its reference model (property/allocator_model.h).
//
// RapidCheck generates command sequences over a small allocator (256 KiB
// regions, an 8-region budget, proactive cleanup after a few free slices) on a
// ScriptedOs, runs them, and after every command checks contents, overlap,
// per-class accounting, audit() and the Os call accounting. A failure shrinks
// to a short command list; replay it with RC_PARAMS="reproduce=...".
//
// The RapidCheck model (Model) is only what generation needs: which classes
// are live, how many stale handles exist, and which classes certainly have no
// region. Commands whose outcome it cannot predict exactly (an allocation that
// may or may not fit the budget) are never generated, so every assertion is
// exact. The handles and expected bytes live in the Sut's AllocatorModel.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <ostream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "core/segment_allocator.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"
#include "property/allocator_model.h"

namespace segsim {
namespace {

// One slice of the largest class per region, so budgets run out in few steps.
constexpr std::size_t kRegionBytes = 256 * KiB;
constexpr std::size_t kBudgetRegions = 8;
constexpr double kSequenceScale = 3.0;

SegmentAllocatorConfig property_config(std::size_t reset_madvise_min_bytes) {
  SegmentAllocatorConfig config;
  config.region_bytes = kRegionBytes;
  config.budget_bytes = kBudgetRegions * kRegionBytes;
  config.reset_madvise_min_bytes = reset_madvise_min_bytes;
  // Low thresholds: a few releases of small segments start an async cleanup.
  config.cleanup_start_free_slices = 4;
  config.cleanup_every_free_slices = 2;
  config.thread_cache_bytes = 256 * KiB;  // the caches on: the model covers them
  return config;
}

std::size_t slices_per_region(int size_class) { return kRegionBytes / class_bytes(size_class); }

// ---------------------------------------------------------------------------
// The RapidCheck model

struct Model {
  std::vector<int> live_classes;  // in AllocatorModel::live() order
  std::size_t stale_handles = 0;  // AllocatorModel::stale().size()
  // false: the class certainly has no region (never allocated, or all unmapped).
  std::array<bool, kSizeClassCount> maybe_mapped{};
};

std::size_t live_in_class(const Model& m, int size_class) {
  return static_cast<std::size_t>(std::count(m.live_classes.begin(), m.live_classes.end(), size_class));
}

// The fewest regions the live segments can occupy.
std::size_t min_regions_in_use(const Model& m) {
  std::size_t regions = 0;
  for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
    regions += (live_in_class(m, c) + slices_per_region(c) - 1) / slices_per_region(c);
  }
  return regions;
}

enum class Outcome { Allocated, OutOfBudget, Unknown };

Outcome allocation_outcome(const Model& m, int size_class) {
  // Regions without a live slice are unmapped to make room, so fewer live
  // segments than budget regions always leave room for one more.
  if (m.live_classes.size() < kBudgetRegions) return Outcome::Allocated;
  // Every budget region packed: only a part-filled region of the class can serve.
  if (min_regions_in_use(m) == kBudgetRegions) {
    return live_in_class(m, size_class) % slices_per_region(size_class) != 0 ? Outcome::Allocated
                                                                               : Outcome::OutOfBudget;
  }
  return Outcome::Unknown;  // depends on placement: not generated
}

// ---------------------------------------------------------------------------
// The system under test

struct Sut {
  explicit Sut(const SegmentAllocatorConfig& config) {
    auto created = SegmentAllocator::create(os, config);
    RC_ASSERT(created.ok());
    allocator = std::move(created).value();
  }
  testing::ScriptedOs os;  // declared first: outlives the allocator
  std::unique_ptr<SegmentAllocator> allocator;
  model::AllocatorModel model;
  std::size_t out_of_budget_refusals = 0;  // for RC_CLASSIFY: is the budget reached at all?
};

// Runs one operation, lets async cleanups finish, lifts the operation's
// injected failures, then checks the whole allocator against the model.
class AllocatorCommand : public rc::state::Command<Model, Sut> {
 public:
  void run(const Model& m, Sut& sut) const final {
    operate(m, sut);
    sut.allocator->wait_for_cleanups();
    sut.os.clear_failures();
    if (auto mismatch = sut.model.check(*sut.allocator)) RC_FAIL(*mismatch);
    if (auto mismatch = model::check_os_accounting(sut.allocator->stats(), sut.os)) {
      RC_FAIL(*mismatch);
    }
  }

 protected:
  virtual void operate(const Model& m, Sut& sut) const = 0;
};

// allocate / allocate_uninitialized of 1..256 KiB, optionally with the
// zeroing madvise failing (the memset fallback must still zero). Exact
// outcome: fits, or OutOfBudget with nothing changed.
class Allocate final : public AllocatorCommand {
 public:
  Allocate()
      : bytes_(*rc::gen::inRange<std::size_t>(1, kLargestClassBytes + 1)),
        zeroed_(!*rc::gen::arbitrary<bool>()),
        fail_madvise_(*rc::gen::arbitrary<bool>()) {}

  void checkPreconditions(const Model& m) const override {
    RC_PRE(allocation_outcome(m, class_of(bytes_)) != Outcome::Unknown);
  }
  void apply(Model& m) const override {
    if (allocation_outcome(m, class_of(bytes_)) != Outcome::Allocated) return;
    m.live_classes.push_back(class_of(bytes_));
    m.maybe_mapped[class_of(bytes_)] = true;
  }
  void operate(const Model& m, Sut& sut) const override {
    const Outcome expected = allocation_outcome(m, class_of(bytes_));
    if (fail_madvise_) sut.os.fail_nth(OsCall::Advise, 1, EAGAIN);
    const AllocatorStats before = sut.allocator->stats();
    Result<Segment> result =
        zeroed_ ? sut.allocator->allocate(bytes_) : sut.allocator->allocate_uninitialized(bytes_);
    if (expected == Outcome::Allocated) {
      if (!result.ok()) RC_FAIL(result.error().describe());
      sut.model.allocated(result.value(), bytes_, zeroed_);
      return;
    }
    ++sut.out_of_budget_refusals;
    RC_ASSERT(!result.ok());
    RC_ASSERT(result.error().code == Errc::OutOfBudget);
    if (auto changed = model::compare_accounting(before, sut.allocator->stats())) RC_FAIL(*changed);
  }
  void show(std::ostream& out) const override {
    out << (zeroed_ ? "allocate(" : "allocate_uninitialized(") << bytes_ << " B"
        << (fail_madvise_ ? ", madvise fails)" : ")");
  }

 private:
  std::size_t bytes_;
  bool zeroed_;
  bool fail_madvise_;
};

// An allocation that must map a region, with that mmap failing: OutOfMemory
// carrying ENOMEM, and no segment handed out.
class AllocateWithMapFailure final : public AllocatorCommand {
 public:
  AllocateWithMapFailure()
      : bytes_(*rc::gen::inRange<std::size_t>(1, kLargestClassBytes + 1)),
        zeroed_(!*rc::gen::arbitrary<bool>()) {}

  void checkPreconditions(const Model& m) const override {
    RC_PRE(!m.maybe_mapped[class_of(bytes_)]);
    RC_PRE(allocation_outcome(m, class_of(bytes_)) == Outcome::Allocated);
  }
  void operate(const Model&, Sut& sut) const override {
    sut.os.fail_nth(OsCall::Map, 1, ENOMEM);
    Result<Segment> result =
        zeroed_ ? sut.allocator->allocate(bytes_) : sut.allocator->allocate_uninitialized(bytes_);
    RC_ASSERT(!result.ok());
    RC_ASSERT(result.error().code == Errc::OutOfMemory);
    RC_ASSERT(result.error().os_errno == ENOMEM);
  }
  void show(std::ostream& out) const override {
    out << (zeroed_ ? "allocate(" : "allocate_uninitialized(") << bytes_ << " B, mmap fails)";
  }

 private:
  std::size_t bytes_;
  bool zeroed_;
};

class AllocateInvalidSize final : public AllocatorCommand {
 public:
  AllocateInvalidSize()
      : bytes_(*rc::gen::element<std::size_t>(0, kLargestClassBytes + 1, SIZE_MAX)) {}

  void operate(const Model&, Sut& sut) const override {
    const AllocatorStats before = sut.allocator->stats();
    Result<Segment> result = sut.allocator->allocate(bytes_);
    RC_ASSERT(!result.ok());
    RC_ASSERT(result.error().code == Errc::InvalidSize);
    if (auto changed = model::compare_accounting(before, sut.allocator->stats())) RC_FAIL(*changed);
  }
  void show(std::ostream& out) const override { out << "allocate(" << bytes_ << " B, invalid)"; }

 private:
  std::size_t bytes_;
};

// Commands on the index-th live segment (allocation order).
class OnLiveSegment : public AllocatorCommand {
 public:
  explicit OnLiveSegment(const Model& m)
      : index_(*rc::gen::inRange<std::size_t>(0, m.live_classes.size())) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(index_ < m.live_classes.size()); }

 protected:
  std::size_t index_;
};

class Release : public OnLiveSegment {
 public:
  using OnLiveSegment::OnLiveSegment;
  void apply(Model& m) const override {
    m.live_classes.erase(m.live_classes.begin() + static_cast<std::ptrdiff_t>(index_));
    m.stale_handles = std::min(m.stale_handles + 1, model::AllocatorModel::kMaxStaleHandles);
  }
  void operate(const Model&, Sut& sut) const override {
    Status status = sut.allocator->release(sut.model.live()[index_].segment);
    if (!status.ok()) RC_FAIL(status.error().describe());
    static_cast<void>(sut.model.released(index_));
  }
  void show(std::ostream& out) const override { out << "release(live " << index_ << ")"; }
};

// release on another thread, which then exits: a remote release into that
// thread's cache, flushed back to the pool at its exit.
// The model changes as for Release.
class ReleaseOnOtherThread final : public Release {
 public:
  using Release::Release;
  void operate(const Model&, Sut& sut) const override {
    const Segment segment = sut.model.live()[index_].segment;
    const std::uint64_t remote_before = sut.allocator->stats().remote_releases;
    Status status;
    std::thread([&] { status = sut.allocator->release(segment); }).join();
    if (!status.ok()) RC_FAIL(status.error().describe());
    static_cast<void>(sut.model.released(index_));
    const AllocatorStats after = sut.allocator->stats();
    // Every allocation here is served through this thread's cache, so the
    // other thread's release is remote.
    RC_ASSERT(after.remote_releases == remote_before + 1);
    RC_ASSERT(after.classes[segment.size_class()].cached_slices <= 32u);
  }
  void show(std::ostream& out) const override { out << "release_on_other_thread(live " << index_ << ")"; }
};

// flush_thread_cache(): nothing stays cached, nothing else changes.
class FlushThreadCache final : public AllocatorCommand {
 public:
  void operate(const Model&, Sut& sut) const override {
    const AllocatorStats before = sut.allocator->stats();
    sut.allocator->flush_thread_cache();
    const AllocatorStats after = sut.allocator->stats();
    RC_ASSERT(after.cached_slices() == 0u);
    for (std::size_t c = 0; c < kSizeClassCount; ++c) {
      RC_ASSERT(after.classes[c].live_slices == before.classes[c].live_slices);
      // Cached slices were free already; a flush may start a cleanup, which
      // the command waits for after (free slices may then drop).
      RC_ASSERT(after.classes[c].free_slices <= before.classes[c].free_slices);
    }
  }
  void show(std::ostream& out) const override { out << "flush_thread_cache()"; }
};

// reset, optionally with its madvise failing. The reset policy decides which
// path zeroes; either way the segment must read zero afterwards.
class Reset final : public OnLiveSegment {
 public:
  explicit Reset(const Model& m) : OnLiveSegment(m), fail_madvise_(*rc::gen::arbitrary<bool>()) {}
  void operate(const Model&, Sut& sut) const override {
    const Segment segment = sut.model.live()[index_].segment;
    const bool by_madvise = segment.size() >= sut.allocator->config().reset_madvise_min_bytes;
    if (fail_madvise_) sut.os.fail_nth(OsCall::Advise, 1, EAGAIN);
    const AllocatorStats before = sut.allocator->stats();
    Status status = sut.allocator->reset(segment);
    if (!status.ok()) RC_FAIL(status.error().describe());
    sut.model.reset(index_);
    const AllocatorStats after = sut.allocator->stats();
    const bool madvised = by_madvise && !fail_madvise_;
    RC_ASSERT(after.resets_madvise - before.resets_madvise == (madvised ? 1u : 0u));
    RC_ASSERT(after.resets_memset - before.resets_memset == (madvised ? 0u : 1u));
  }
  void show(std::ostream& out) const override {
    out << "reset(live " << index_ << (fail_madvise_ ? ", madvise fails)" : ")");
  }

 private:
  bool fail_madvise_;
};

class Write final : public OnLiveSegment {
 public:
  explicit Write(const Model& m)
      : OnLiveSegment(m), fill_(static_cast<std::byte>(*rc::gen::inRange(1, 256))) {}
  void operate(const Model&, Sut& sut) const override { sut.model.write(index_, fill_); }
  void show(std::ostream& out) const override {
    out << "write(live " << index_ << ", fill " << static_cast<int>(fill_) << ")";
  }

 private:
  std::byte fill_;
};

// release() or reset() of a released handle (its slice free, reused, or its
// region unmapped): DoubleFree, counted, and nothing else changes — in
// particular the slice's new owner keeps its bytes (the model checks them).
class ReleaseStale final : public AllocatorCommand {
 public:
  explicit ReleaseStale(const Model& m)
      : index_(*rc::gen::inRange<std::size_t>(0, m.stale_handles)),
        via_reset_(*rc::gen::arbitrary<bool>()) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(index_ < m.stale_handles); }
  void operate(const Model&, Sut& sut) const override {
    const Segment handle = sut.model.stale()[index_];
    const AllocatorStats before = sut.allocator->stats();
    Status status = via_reset_ ? sut.allocator->reset(handle) : sut.allocator->release(handle);
    RC_ASSERT(!status.ok());
    if (status.error().code != Errc::DoubleFree) RC_FAIL(status.error().describe());
    const AllocatorStats after = sut.allocator->stats();
    if (auto changed = model::compare_accounting(before, after)) RC_FAIL(*changed);
    RC_ASSERT(after.double_frees == before.double_frees + 1);
  }
  void show(std::ostream& out) const override {
    out << (via_reset_ ? "reset(stale " : "release(stale ") << index_ << ")";
  }

 private:
  std::size_t index_;
  bool via_reset_;
};

// release_unused_regions(class), optionally with every madvise failing: a
// region whose DONTNEED failed is queued anyway and must not be assumed zero
// (later allocations from it are checked by the model).
class ReleaseUnused final : public AllocatorCommand {
 public:
  ReleaseUnused()
      : size_class_(*rc::gen::inRange<int>(0, kSizeClassCount)),
        fail_madvise_(*rc::gen::arbitrary<bool>()) {}
  void operate(const Model& m, Sut& sut) const override {
    if (fail_madvise_) sut.os.fail_from(OsCall::Advise, 1, EAGAIN);
    const AllocatorStats before = sut.allocator->stats();
    const std::size_t released = sut.allocator->release_unused_regions(size_class_);
    const AllocatorStats after = sut.allocator->stats();
    const std::size_t kept_resident = after.madvise_failures - before.madvise_failures;
    RC_ASSERT(after.regions_released - before.regions_released == released);
    RC_ASSERT(after.classes[size_class_].freed_regions ==
              before.classes[size_class_].freed_regions + released + kept_resident);
    // Every region still active holds a live slice.
    RC_ASSERT(after.classes[size_class_].active_regions <= live_in_class(m, size_class_));
  }
  void show(std::ostream& out) const override {
    out << "release_unused_regions(class " << size_class_ << (fail_madvise_ ? ", madvise fails)" : ")");
  }

 private:
  int size_class_;
  bool fail_madvise_;
};

// free_unused_regions(target), optionally with the first munmap failing (that
// region stays mapped and queued).
class FreeUnused final : public AllocatorCommand {
 public:
  FreeUnused()
      : target_regions_(*rc::gen::inRange<std::size_t>(0, kBudgetRegions + 1)),
        fail_munmap_(*rc::gen::arbitrary<bool>()) {}
  void apply(Model& m) const override {
    if (target_regions_ != 0 || fail_munmap_) return;
    for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
      if (live_in_class(m, c) == 0) m.maybe_mapped[c] = false;
    }
  }
  void operate(const Model& m, Sut& sut) const override {
    if (fail_munmap_) sut.os.fail_nth(OsCall::Unmap, 1, EINVAL);
    const AllocatorStats before = sut.allocator->stats();
    const std::size_t target_bytes = target_regions_ * kRegionBytes;
    const std::size_t unmapped = sut.allocator->free_unused_regions(target_bytes);
    const AllocatorStats after = sut.allocator->stats();
    RC_ASSERT(after.regions_unmapped - before.regions_unmapped == unmapped);
    RC_ASSERT(after.virtual_bytes == before.virtual_bytes - unmapped * kRegionBytes);
    if (fail_munmap_ || after.virtual_bytes <= target_bytes) return;
    // Short of the target: every region left must hold a live slice.
    for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
      RC_ASSERT(after.classes[c].freed_regions == 0u);
      RC_ASSERT(after.classes[c].active_regions <= live_in_class(m, c));
    }
  }
  void show(std::ostream& out) const override {
    out << "free_unused_regions(" << target_regions_ << " regions"
        << (fail_munmap_ ? ", munmap fails)" : ")");
  }

 private:
  std::size_t target_regions_;
  bool fail_munmap_;
};

void check_against_model(std::size_t reset_madvise_min_bytes) {
  Sut sut(property_config(reset_madvise_min_bytes));
  // Allocate is listed twice: budgets and cleanups need live segments.
  const auto command = rc::state::gen::execOneOfWithArgs<
      Allocate, Allocate, AllocateWithMapFailure, AllocateInvalidSize, Release, ReleaseOnOtherThread,
      Reset, Write, ReleaseStale, ReleaseUnused, FreeUnused, FlushThreadCache>();
  // Longer sequences than RapidCheck's default reach a full budget more often;
  // shrinking still cuts them down to the few commands that matter.
  const auto commands = *rc::gen::scale(kSequenceScale, rc::state::gen::commands(Model{}, command));
  rc::state::runAll(commands, Model{}, sut);

  const AllocatorStats stats = sut.allocator->stats();
  RC_CLASSIFY(sut.out_of_budget_refusals > 0, "out of budget");
  RC_CLASSIFY(stats.cleanups_finished() > 0, "proactive cleanup ran");
  RC_CLASSIFY(stats.regions_reused > 0, "freed region reused");
  RC_CLASSIFY(stats.cache_hits > 0, "thread cache hit");
  RC_CLASSIFY(stats.remote_releases > 0, "remote release");
}

// The default policy: every zeroing is a memset.
RC_GTEST_PROP(SegmentAllocatorProperty, MatchesModelWithMemsetResets, ()) {
  check_against_model(SIZE_MAX);
}

// Slices of 64 KiB and up are zeroed with madvise(DONTNEED), so its failure
// and fallback paths run.
RC_GTEST_PROP(SegmentAllocatorProperty, MatchesModelWithMadviseResets, ()) {
  check_against_model(64 * KiB);
}

}  // namespace
}  // namespace segsim
