// The SlabAllocator and the TxnArenaManager against small reference models
// (RapidCheck stateful). After every command: each live object reads back its
// pattern, the live counts equal the model's, audit() is clean. Refusals are
// exact (the model says which error) and change nothing. A failure shrinks to
// a short command list; replay it with RC_PARAMS="reproduce=...".
#include <cstring>
#include <memory>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "core/slab_allocator.h"
#include "core/tests/scripted_os.h"
#include "core/txn_arena.h"

namespace segsim {
namespace {

std::unique_ptr<SegmentAllocator> make_segments(testing::ScriptedOs& os) {
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * 1024;
  config.budget_bytes = 64 << 20;
  auto created = SegmentAllocator::create(os, config);
  RC_ASSERT(created.ok());
  return std::move(created).value();
}

void fill(std::byte* data, std::size_t bytes, std::uint8_t value) { std::memset(data, value, bytes); }
bool holds(const std::byte* data, std::size_t bytes, std::uint8_t value) {
  for (std::size_t i = 0; i < bytes; ++i) {
    if (data[i] != std::byte{value}) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// SlabAllocator

struct SlabModel {
  std::size_t live = 0;
  std::size_t stale = 0;
};

struct SlabSut {
  SlabSut() : segments(make_segments(os)) {
    SlabAllocatorConfig config;
    config.magazine_capacity.fill(3);  // tiny magazines: every few calls exchange with the depot
    config.depot_full_magazines_max = 1;
    config.empty_slabs_kept = 0;
    config.slab_bytes = 16 * 1024;
    slab = std::move(SlabAllocator::create(*segments, config)).value();
  }
  testing::ScriptedOs os;
  std::unique_ptr<SegmentAllocator> segments;
  std::unique_ptr<SlabAllocator> slab;
  std::vector<std::pair<SlabObject, std::uint8_t>> live;
  std::vector<SlabObject> stale;
  std::uint8_t next_fill = 1;
};

class SlabCommand : public rc::state::Command<SlabModel, SlabSut> {
 public:
  void run(const SlabModel& m, SlabSut& sut) const final {
    operate(m, sut);
    for (const auto& [object, value] : sut.live) RC_ASSERT(holds(object.data(), object.size(), value));
    RC_ASSERT(sut.slab->stats().live_objects() == sut.live.size());
    const auto violations = sut.slab->audit();
    if (!violations.empty()) RC_FAIL(violations.front());
  }

 protected:
  virtual void operate(const SlabModel& m, SlabSut& sut) const = 0;
  std::size_t pick_ = *rc::gen::inRange<std::size_t>(0, 1 << 20);
};

class SlabAllocate final : public SlabCommand {
 public:
  void apply(SlabModel& m) const override { m.live += valid() ? 1 : 0; }
  void operate(const SlabModel&, SlabSut& sut) const override {
    Result<SlabObject> got = sut.slab->allocate(bytes_);
    if (!valid()) {
      RC_ASSERT(!got.ok() && got.error().code == Errc::InvalidSize);
      return;
    }
    RC_ASSERT(got.ok());
    RC_ASSERT(got->size() == slab_class_bytes(static_cast<std::size_t>(slab_class_of(bytes_))));
    fill(got->data(), got->size(), sut.next_fill);
    sut.live.emplace_back(got.value(), sut.next_fill);
    sut.next_fill = static_cast<std::uint8_t>(sut.next_fill % 250 + 1);
  }
  void show(std::ostream& out) const override { out << "allocate(" << bytes_ << ")"; }

 private:
  bool valid() const { return bytes_ != 0 && bytes_ <= kSlabLargestObjectBytes; }
  std::size_t bytes_ = *rc::gen::oneOf(rc::gen::inRange<std::size_t>(0, kSlabLargestObjectBytes + 2),
                                       rc::gen::element<std::size_t>(0, 1, 63, 64, 65, 192, 193, 4095, 4096, 4097));
};

// Frees a live object by handle, or by address with a size of its class, or
// (refused, nothing changes) by address with a size of another class.
class SlabFree final : public SlabCommand {
 public:
  void checkPreconditions(const SlabModel& m) const override { RC_PRE(m.live > 0); }
  void apply(SlabModel& m) const override {
    if (how_ != 2) {
      --m.live;
      ++m.stale;
    }
  }
  void operate(const SlabModel&, SlabSut& sut) const override {
    const std::size_t i = pick_ % sut.live.size();
    const SlabObject object = sut.live[i].first;
    if (how_ == 2) {
      const std::size_t other = (static_cast<std::size_t>(object.size_class()) + 1) % kSlabClassCount;
      const Status refused = sut.slab->free(object.data(), kSlabClassBytes[other]);
      RC_ASSERT(!refused.ok() && refused.error().code == Errc::InvalidPointer);
      return;
    }
    const Status freed = how_ == 0 ? sut.slab->free(object) : sut.slab->free(object.data(), object.size());
    RC_ASSERT(freed.ok());
    sut.live.erase(sut.live.begin() + static_cast<std::ptrdiff_t>(i));
    sut.stale.push_back(object);
  }
  void show(std::ostream& out) const override {
    out << (how_ == 0 ? "free" : how_ == 1 ? "sized free" : "free naming another class") << " #" << pick_;
  }

 private:
  int how_ = *rc::gen::inRange(0, 3);
};

class SlabDoubleFree final : public SlabCommand {
 public:
  void checkPreconditions(const SlabModel& m) const override { RC_PRE(m.stale > 0); }
  void apply(SlabModel&) const override {}
  void operate(const SlabModel&, SlabSut& sut) const override {
    const Status refused = sut.slab->free(sut.stale[pick_ % sut.stale.size()]);
    RC_ASSERT(!refused.ok() && refused.error().code == Errc::DoubleFree);
  }
  void show(std::ostream& out) const override { out << "double free #" << pick_; }
};

class SlabFlush final : public SlabCommand {
 public:
  void apply(SlabModel&) const override {}
  void operate(const SlabModel&, SlabSut& sut) const override {
    if (all_) {
      sut.slab->flush_all();
      RC_ASSERT(sut.slab->stats().cached_objects() == 0);
    } else {
      sut.slab->flush_thread_cache();
    }
  }
  void show(std::ostream& out) const override { out << (all_ ? "flush_all" : "flush_thread_cache"); }

 private:
  bool all_ = *rc::gen::arbitrary<bool>();
};

RC_GTEST_PROP(SlabAllocatorProperty, MatchesModel, ()) {
  SlabSut sut;
  rc::state::check(SlabModel{}, sut,
                   rc::state::gen::execOneOfWithArgs<SlabAllocate, SlabAllocate, SlabFree, SlabDoubleFree, SlabFlush>());
  for (const auto& [object, value] : sut.live) RC_ASSERT(sut.slab->free(object).ok());
  sut.slab->flush_all();
  RC_ASSERT(sut.segments->stats().live_slices() == 0);
}

// ---------------------------------------------------------------------------
// TxnArenaManager

struct ArenaModel {
  std::size_t open = 0;   // arenas of the one transaction: root first
  std::size_t ended = 0;  // arena ids that ended
};

struct ArenaSut {
  ArenaSut() : segments(make_segments(os)), arenas(std::move(TxnArenaManager::create(*segments)).value()) {}
  testing::ScriptedOs os;
  std::unique_ptr<SegmentAllocator> segments;
  std::unique_ptr<TxnArenaManager> arenas;
  struct Open {
    TxnArena* arena;
    std::vector<std::tuple<std::byte*, std::size_t, std::uint8_t>> objects;
  };
  std::vector<Open> open;
  std::vector<std::uint64_t> ended;
  std::uint8_t next_fill = 1;
};

class ArenaCommand : public rc::state::Command<ArenaModel, ArenaSut> {
 public:
  void run(const ArenaModel& m, ArenaSut& sut) const final {
    operate(m, sut);
    for (const auto& o : sut.open) {
      for (const auto& [data, bytes, value] : o.objects) RC_ASSERT(holds(data, bytes, value));
    }
    RC_ASSERT(sut.arenas->stats().live_arenas == sut.open.size());
    const auto violations = sut.arenas->audit();
    if (!violations.empty()) RC_FAIL(violations.front());
  }

 protected:
  virtual void operate(const ArenaModel& m, ArenaSut& sut) const = 0;
};

class ArenaBegin final : public ArenaCommand {
 public:
  void checkPreconditions(const ArenaModel& m) const override { RC_PRE(m.open < 5); }
  void apply(ArenaModel& m) const override { ++m.open; }
  void operate(const ArenaModel& m, ArenaSut& sut) const override {
    Result<TxnArena*> got = m.open == 0 ? sut.arenas->begin(1, profile_) : sut.arenas->begin_child(sut.open.back().arena->id());
    RC_ASSERT(got.ok());
    sut.open.push_back({got.value(), {}});
  }
  void show(std::ostream& out) const override { out << "begin (" << profile_spec(profile_).name << " if a root)"; }

 private:
  ArenaProfile profile_ = *rc::gen::element(ArenaProfile::Tiny, ArenaProfile::Small, ArenaProfile::Medium);
};

// Allocates in the innermost arena: refused exactly when the arguments are
// bad (InvalidSize) or even the least chunk passes the limit (OutOfBudget),
// and then nothing changed.
class ArenaAllocate final : public ArenaCommand {
 public:
  void checkPreconditions(const ArenaModel& m) const override { RC_PRE(m.open > 0); }
  void apply(ArenaModel&) const override {}
  void operate(const ArenaModel&, ArenaSut& sut) const override {
    TxnArena& arena = *sut.open.back().arena;
    const std::size_t tree = arena.tree_reserved_bytes(), used = arena.used_bytes();
    Result<std::byte*> got = arena.allocate(bytes_, alignment_);
    const bool bad = bytes_ == 0 || bytes_ > kArenaMaxObjectBytes || alignment_ > kArenaMaxAlignment;
    if (!got.ok()) {
      if (bad) {
        RC_ASSERT(got.error().code == Errc::InvalidSize);
      } else {
        RC_ASSERT(got.error().code == Errc::OutOfBudget);
        RC_ASSERT(tree + class_bytes(static_cast<std::size_t>(class_of(bytes_))) > profile_spec(arena.profile()).limit_bytes);
      }
      RC_ASSERT(arena.tree_reserved_bytes() == tree && arena.used_bytes() == used);
      return;
    }
    RC_ASSERT(!bad);
    RC_ASSERT(reinterpret_cast<std::uintptr_t>(got.value()) % alignment_ == 0);
    RC_ASSERT(arena.tree_reserved_bytes() <= profile_spec(arena.profile()).limit_bytes);
    fill(got.value(), bytes_, sut.next_fill);
    sut.open.back().objects.emplace_back(got.value(), bytes_, sut.next_fill);
    sut.next_fill = static_cast<std::uint8_t>(sut.next_fill % 250 + 1);
  }
  void show(std::ostream& out) const override { out << "allocate(" << bytes_ << ", align " << alignment_ << ")"; }

 private:
  std::size_t bytes_ = *rc::gen::oneOf(rc::gen::inRange<std::size_t>(1, 20000),
                                       rc::gen::element<std::size_t>(0, 4096, 4097, 65536, 262144, 262145));
  std::size_t alignment_ = std::size_t{1} << *rc::gen::inRange(0, 14);
};

// Commits or rolls back the innermost arena (fine), or an outer one (InUse).
class ArenaEnd final : public ArenaCommand {
 public:
  void checkPreconditions(const ArenaModel& m) const override { RC_PRE(m.open > 0); }
  void apply(ArenaModel& m) const override {
    if (outer_ && m.open > 1) return;
    --m.open;
    ++m.ended;
  }
  void operate(const ArenaModel&, ArenaSut& sut) const override {
    if (outer_ && sut.open.size() > 1) {
      const Status refused = commit_ ? sut.arenas->commit(sut.open.front().arena->id()) : sut.arenas->rollback(sut.open.front().arena->id());
      RC_ASSERT(!refused.ok() && refused.error().code == Errc::InUse);
      return;
    }
    ArenaSut::Open top = sut.open.back();
    sut.open.pop_back();
    const std::uint64_t id = top.arena->id();
    RC_ASSERT((commit_ ? sut.arenas->commit(id) : sut.arenas->rollback(id)).ok());
    sut.ended.push_back(id);
    if (commit_ && !sut.open.empty()) {
      for (const auto& object : top.objects) RC_ASSERT(sut.arenas->owner_of(std::get<0>(object)) == sut.open.back().arena->id());
      sut.open.back().objects.insert(sut.open.back().objects.end(), top.objects.begin(), top.objects.end());
    } else {
      for (const auto& object : top.objects) RC_ASSERT(sut.arenas->owner_of(std::get<0>(object)) == 0);
    }
  }
  void show(std::ostream& out) const override { out << (commit_ ? "commit" : "rollback") << (outer_ ? " outer" : " innermost"); }

 private:
  bool commit_ = *rc::gen::arbitrary<bool>();
  bool outer_ = *rc::gen::inRange(0, 4) == 0;
};

class ArenaEndTwice final : public ArenaCommand {
 public:
  void checkPreconditions(const ArenaModel& m) const override { RC_PRE(m.ended > 0); }
  void apply(ArenaModel&) const override {}
  void operate(const ArenaModel&, ArenaSut& sut) const override {
    const Status refused = sut.arenas->rollback(sut.ended[pick_ % sut.ended.size()]);
    RC_ASSERT(!refused.ok() && refused.error().code == Errc::DoubleFree);
  }
  void show(std::ostream& out) const override { out << "end twice #" << pick_; }

 private:
  std::size_t pick_ = *rc::gen::inRange<std::size_t>(0, 1 << 20);
};

RC_GTEST_PROP(TxnArenaProperty, MatchesModel, ()) {
  ArenaSut sut;
  rc::state::check(ArenaModel{}, sut,
                   rc::state::gen::execOneOfWithArgs<ArenaBegin, ArenaAllocate, ArenaAllocate, ArenaAllocate, ArenaEnd,
                                                     ArenaEndTwice>());
  while (!sut.open.empty()) {
    RC_ASSERT(sut.arenas->rollback(sut.open.back().arena->id()).ok());
    sut.open.pop_back();
  }
  RC_ASSERT(sut.segments->stats().live_slices() == 0);
}

}  // namespace
}  // namespace segsim
