// slab-churn — fibers allocate and free the seed's object mix on one
// SlabAllocator (its slabs from the run's segment allocator): frees of their
// own objects and of objects other fibers handed over (remote frees), sized
// frees, lookups, helper fibers that exit mid-run, and every refusal
// (double free, foreign and forged pointers, another class, bad sizes).
// Per seed: which operations are on and their weights, the slab size and the
// magazine capacities (small ones force depot traffic). Every completed call
// is checked against a reference model (scenarios/oracles/slab_*.cpp).
#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/platform/mutex.h"
#include "core/size_class.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/oracles/rule_texts.h"
#include "scenarios/oracles/slab_oracles.h"
#include "scenarios/workloads/invalid_configs.h"
#include "scenarios/workloads/magazine_policy_episode.h"
#include "scenarios/workloads/native_thread.h"
#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/slab_churn_state.h"
#include "scenarios/workloads/slab_refusal_drill.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

using slab_churn::Held;
using slab_churn::SlabChurn;
using slab_churn::cold_class_drill;
using slab_churn::forged_frees;
using slab_churn::judge_allocate_refusal;

void slab_churn::judge_allocate_refusal(Stack& stack, SlabChurn& st, std::size_t bytes, const Error& error) {
  check_error_text(stack.oracles, error);
  if (error.code != Errc::OutOfBudget && error.code != Errc::OutOfMemory) {
    stack.oracles.fail("slab-refusal", fmt::format("allocate({}) refused: {}", bytes, error.describe()));
  }
  st.oracles->allocation_refused(error);
  const SlabStats stats = st.slab->stats();
  st.oracles->check_failures_counted(bytes, error, stats);
  if (tolerated(stack, error)) return;
  if (error.code == Errc::OutOfBudget) {
    const std::uint64_t acquired = stats.slabs_acquired;
    const std::size_t max_slabs = st.slab->config().max_slabs;  // small on some seeds, so slots run out
    if (acquired >= max_slabs) return;
    stack.oracles.fail("slab-refusal", fmt::format("allocate({}) refused with OutOfBudget ({}) after {} slab(s) ever "
                                                   "acquired; max_slabs is {} and the segment budget is not tight",
                                                   bytes, error.describe(), acquired, max_slabs));
  }
  stack.oracles.fail("slab-refusal", fmt::format("allocate({}) refused: {}", bytes, error.describe()));
}

namespace {

enum Op : std::size_t {
  kAllocate, kFreeOwn, kGiveAway, kFreeRemote, kFreeSized, kLookup, kDoubleFree, kForeignFree,
  kWrongClass, kVerify, kFlush, kHelper, kReleaseEmpty, kOpCount
};

SlabChurn& state(Stack& stack) { return *static_cast<SlabChurn*>(stack.scenario_state.get()); }

std::uint32_t fiber_now(Stack& stack) { return stack.simulation.current_fiber(); }

// A fiber's work: its own objects and freed handles (for double frees).
struct Worker {
  Stack& stack;
  SlabChurn& st;
  sim::Rng& rng;
  std::vector<Held> mine;
  std::vector<SlabObject> stale;

  void allocate();
  void check_identity(const SlabObject& object);
  void free_held(const Held& held, bool sized);
  void free_own(bool sized);
  void give_away();
  void free_remote();
  void lookup();
  void lookup_no_start(const SlabObject& live);
  void double_free();
  void foreign_free();
  void wrong_class();
  void verify() {
    for (const Held& held : mine) st.oracles->check_content(held.object, held.fill);
  }
  // `quiescent`: no other fiber can run during the call (slab-empty-release).
  void release_empty(bool quiescent) {
    const SlabStats before = st.slab->stats();
    const std::size_t released = st.slab->release_empty_slabs();
    const SlabStats after = st.slab->stats();
    st.oracles->check_empty_release(before, released, after, quiescent);
    st.oracles->check_counters(after, st.slab->config());
  }
  void drain() {
    while (!mine.empty()) free_own(false);
    st.slab->flush_thread_cache();
  }
};

void Worker::allocate() {
  const std::size_t bytes = draw_size(rng, 0, kSlabLargestObjectBytes + 1, kSlabClassBytes);
  Result<SlabObject> got = st.slab->allocate(bytes);
  if (bytes == 0 || bytes > kSlabLargestObjectBytes) {
    st.oracles->expect_refused(got.ok() ? Status{} : Status{got.error()}, Errc::InvalidSize, "allocate of a bad size",
                               nullptr);
    check_size_rule(stack.oracles, "slab allocate", bytes, got.error().detail, kPastSlabClassRuleText);
    return;
  }
  if (!got.ok()) {
    judge_allocate_refusal(stack, st, bytes, got.error());
    return;
  }
  const SlabObject& object = got.value();
  if (object.size() != slab_class_bytes(static_cast<std::size_t>(slab_class_of(bytes))) ||
      reinterpret_cast<std::uintptr_t>(object.data()) % 64 != 0) {
    stack.oracles.fail("slab-refusal", fmt::format("allocate({}) gave {} bytes at a {}-aligned address", bytes,
                                                   object.size(), reinterpret_cast<std::uintptr_t>(object.data()) % 64));
  }
  check_identity(object);
  const auto fill = static_cast<std::uint8_t>(1 + st.next_fill++ % 255);
  std::fill(object.data(), object.data() + object.size(), std::byte{fill});
  st.model.allocated(bytes);
  mine.push_back(Held{object, fill, fiber_now(stack)});
}

// What a handle says about itself: its bytes are its object, it names this
// allocator (one id for all its objects), a slot inside one slab, and the
// calling fiber's own thread cache (one per fiber, for the run).
void Worker::check_identity(const SlabObject& object) {
  if (object.bytes().data() != object.data() || object.bytes().size() != object.size() ||
      object.index() >= st.slab_bytes / object.size()) {
    stack.oracles.fail("slab-ownership", fmt::format("a {}-byte object says bytes {} and slot {} of a {}-byte slab",
                                                     object.size(), object.bytes().size(), object.index(), st.slab_bytes));
  }
  if (!st.allocator_id) st.allocator_id = object.allocator_id();
  const auto [cache, fresh] = st.cache_of_fiber.emplace(fiber_now(stack), object.cache_id());
  if (object.allocator_id() != *st.allocator_id || (!fresh && cache->second != object.cache_id())) {
    stack.oracles.fail("slab-ownership", fmt::format("an object names allocator {} and cache {}; the model says allocator {} and cache {}",
                                                     object.allocator_id(), object.cache_id(), *st.allocator_id,
                                                     cache->second));
  }
}

void Worker::free_held(const Held& held, bool sized) {
  st.oracles->check_content(held.object, held.fill);
  Status freed;
  if (sized) {  // any size of the object's class
    const auto c = static_cast<std::size_t>(held.object.size_class());
    const std::size_t low = c == 0 ? 1 : kSlabClassBytes[c - 1] + 1;
    freed = st.slab->free(held.object.data(), low + rng.below(kSlabClassBytes[c] - low + 1));
  } else {
    freed = st.slab->free(held.object);
  }
  st.oracles->expect_ok(freed, sized ? "sized free" : "free", held.object.data());
  ++st.model.frees;
  if (sized || held.fiber != fiber_now(stack)) ++st.model.remote_frees;
  stale.push_back(held.object);
  if (stale.size() > 64) stale.erase(stale.begin());
}

void Worker::free_own(bool sized) {
  if (mine.empty()) return;
  const std::size_t i = rng.below(mine.size());
  const Held held = mine[i];
  mine[i] = mine.back();
  mine.pop_back();
  free_held(held, sized);
}

void Worker::give_away() {
  if (mine.empty()) return;
  const std::size_t i = rng.below(mine.size());
  platform::LockGuard guard(st.mu);
  st.exchange.push_back(mine[i]);
  mine[i] = mine.back();
  mine.pop_back();
}

void Worker::free_remote() {
  Held held;
  {
    platform::LockGuard guard(st.mu);
    if (st.exchange.empty()) return;
    const std::size_t i = rng.below(st.exchange.size());
    held = st.exchange[i];
    st.exchange[i] = st.exchange.back();
    st.exchange.pop_back();
  }
  free_held(held, false);
}

void Worker::lookup() {
  if (!mine.empty() && rng.chance(0.25)) {
    lookup_no_start(mine[rng.below(mine.size())].object);
    return;
  }
  if (!mine.empty() && rng.chance(0.5)) {
    const Held& held = mine[rng.below(mine.size())];
    Result<SlabObject> found = st.slab->lookup(held.object.data());
    st.oracles->expect_ok(found.ok() ? Status{} : Status{found.error()}, "lookup", held.object.data());
    if (found->generation() != held.object.generation() || found->size() != held.object.size()) {
      stack.oracles.fail("slab-refusal", "lookup of a live object named another generation or class");
    }
    return;
  }
  if (stale.empty()) return;
  const SlabObject& old = stale[rng.below(stale.size())];
  Result<SlabObject> found = st.slab->lookup(old.data());
  if (found.ok()) {
    if (found->slab_id() == old.slab_id() && found->slab_epoch() == old.slab_epoch() &&
        found->generation() == old.generation()) {
      stack.oracles.fail("slab-refusal", "lookup revived a freed handle");
    }
    return;  // handed out again since, to someone
  }
  if (found.error().code == Errc::DoubleFree) {
    ++st.model.double_frees;
  } else if (found.error().code == Errc::InvalidPointer) {
    // Only a slab that went back makes a freed handle foreign; one holding
    // an object this fiber still owns cannot have gone back.
    const auto same_slab = [&](const Held& held) {
      return held.object.slab_id() == old.slab_id() && held.object.slab_epoch() == old.slab_epoch();
    };
    if (std::any_of(mine.begin(), mine.end(), same_slab)) {
      stack.oracles.fail("slab-refusal", fmt::format("lookup of a freed object refused as InvalidPointer ({}) while its "
                                                     "slab holds a live object of this fiber; DoubleFree was due",
                                                     found.error().describe()));
    }
    ++st.model.invalid_pointers;  // its slab went back
  } else {
    stack.oracles.fail("slab-refusal", "lookup of a freed object: " + found.error().describe());
  }
}

// An address in a live object's slab that starts no object: inside the
// object (its second byte, its last, or any between), or in the slab's tail
// past its last object (the 192 B and 384 B classes leave one). lookup()
// refuses it as InvalidPointer and changes nothing.
void Worker::lookup_no_start(const SlabObject& live) {
  const std::size_t size = live.size();
  const std::size_t objects = st.slab_bytes / size;
  const std::size_t tail_bytes = st.slab_bytes - objects * size;
  const std::byte* address = nullptr;
  const char* doing = nullptr;
  if (tail_bytes != 0 && rng.chance(0.5)) {
    const std::byte* tail = live.data() - std::size_t{live.index()} * size + objects * size;
    address = tail + draw_one<std::size_t>(rng, {0, tail_bytes - 1, rng.below(tail_bytes)});
    doing = "lookup in a slab's tail, past its last object";
  } else {
    address = live.data() + draw_one<std::size_t>(rng, {1, size - 1, 1 + rng.below(size - 1)});
    doing = "lookup inside a live object";
  }
  const Result<SlabObject> found = st.slab->lookup(address);
  st.oracles->expect_refused_pointer(found.ok() ? Status{} : Status{found.error()}, Errc::InvalidPointer, doing,
                                     address);
  ++st.model.invalid_pointers;
  const Result<SlabObject> still = st.slab->lookup(live.data());  // the refusal changed nothing
  if (!still.ok() || still->data() != live.data() || still->generation() != live.generation()) {
    stack.oracles.fail("slab-refusal", fmt::format("after a refused {}, lookup of the object answers {}", doing,
                                                   outcome_text(still, "another handle")));
  }
}

void Worker::double_free() {
  if (stale.empty()) return;
  const SlabObject& old = stale[rng.below(stale.size())];
  st.oracles->expect_refused(st.slab->free(old), Errc::DoubleFree, "free of a freed handle", old);
  ++st.model.double_frees;
}

void Worker::foreign_free() {
  switch (rng.below(3)) {
    case 0:
      st.oracles->expect_refused(st.slab->free(SlabObject{}), Errc::InvalidPointer, "free of the null handle",
                                 SlabObject{});
      break;
    case 1: {  // a segment of the same segment allocator is no slab object
      Result<Segment> segment = stack.allocator.allocate(4096);
      if (!segment.ok()) return;
      st.oracles->expect_refused_pointer(st.slab->free(segment->data(), 64), Errc::InvalidPointer,
                                         "sized free of a foreign pointer", segment->data());
      if (!stack.allocator.release(segment.value()).ok()) stack.oracles.fail("double-free", "release refused");
      break;
    }
    default: {
      if (mine.empty()) return;
      const Held& held = mine[rng.below(mine.size())];
      st.oracles->expect_refused_pointer(st.slab->free(held.object.data() + 8, held.object.size()),
                                         Errc::InvalidPointer, "sized free inside an object", held.object.data() + 8);
    }
  }
  ++st.model.invalid_pointers;
}

void Worker::wrong_class() {
  if (mine.empty()) return;
  const Held& held = mine[rng.below(mine.size())];
  std::size_t other = rng.below(kSlabClassCount);
  if (static_cast<int>(other) == held.object.size_class()) other = (other + 1) % kSlabClassCount;
  st.oracles->expect_refused_pointer(st.slab->free(held.object.data(), kSlabClassBytes[other]), Errc::InvalidPointer,
                                     "sized free naming another class", held.object.data());
  ++st.model.invalid_pointers;
  Result<SlabObject> still = st.slab->lookup(held.object.data());  // the refusal changed nothing
  if (!still.ok() || still->generation() != held.object.generation()) {
    stack.oracles.fail("slab-refusal", "a refused free of another class freed the object");
  }
  st.oracles->check_content(held.object, held.fill);
}

void run_ops(Worker& worker, const OpMix& mix, std::uint32_t ops, bool may_spawn);

// A helper fiber: works a little, hands some objects over, flushes, exits.
void spawn_helper(Worker& parent, const OpMix& mix) {
  struct Done {
    platform::Mutex mu;
    platform::CondVar cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  const std::uint64_t seed = parent.rng.next();
  Stack& stack = parent.stack;
  stack.simulation.spawn("slab-helper", [&stack, mix, done, seed] {  // owns what it needs: a cancelled parent may unwind first
    sim::Rng rng(seed);
    Worker helper{stack, state(stack), rng, {}, {}};
    run_ops(helper, mix, 24, false);
    while (!helper.mine.empty()) helper.give_away();  // objects outlive their fiber
    helper.st.slab->flush_thread_cache();             // fiber exit
    platform::LockGuard guard(done->mu);
    done->done = true;
    done->cv.notify_all();
  });
  platform::UniqueLock lock(done->mu);
  done->cv.wait(lock, [&] { return done->done; });
}

void run_ops(Worker& worker, const OpMix& mix, std::uint32_t ops, bool may_spawn) {
  for (std::uint32_t n = 0; n < ops; ++n) {
    switch (mix.pick(worker.rng)) {
      case kAllocate: worker.allocate(); break;
      case kFreeOwn: worker.free_own(false); break;
      case kGiveAway: worker.give_away(); break;
      case kFreeRemote: worker.free_remote(); break;
      case kFreeSized: worker.free_own(true); break;
      case kLookup: worker.lookup(); break;
      case kDoubleFree: worker.double_free(); break;
      case kForeignFree: worker.foreign_free(); break;
      case kWrongClass: worker.wrong_class(); break;
      case kVerify: worker.verify(); break;
      case kFlush:
        worker.st.slab->flush_thread_cache();
        worker.st.oracles->check_counters(worker.st.slab->stats(), worker.st.slab->config());
        break;
      case kHelper:
        if (may_spawn) spawn_helper(worker, mix);
        break;
      case kReleaseEmpty: worker.release_empty(false); break;
      default: break;
    }
    worker.stack.oracles.check_cheap();
  }
}

OpMix draw_mix(Stack& stack) {
  sim::Rng rng = stack.simulation.stream("workload.slab-churn.mix");
  return OpMix(rng, kOpCount, {kAllocate, kFreeOwn});
}

void prepare(Stack& stack) {
  sim::Rng rng = stack.simulation.stream("workload.slab-churn.config");
  auto st = std::make_shared<SlabChurn>();
  st->oracles = std::make_unique<SlabOracles>(stack.oracles, stack.sim_os);
  SlabAllocatorConfig config;
  config.slab_bytes = std::size_t{4096} << (2 * rng.below(3));  // 4, 16 or 64 KiB
  if (rng.chance(0.7)) {  // small magazines: depot traffic on most operations
    for (auto& capacity : config.magazine_capacity) capacity = 1 + static_cast<std::uint32_t>(rng.below(8));
  }
  config.adaptive_magazines = rng.chance(0.7);
  config.depot_full_magazines_max = rng.below(4);
  config.empty_slabs_kept = rng.below(3);
  config.observer = st->oracles.get();
  sim::Rng invalid_rng = stack.simulation.stream("invalid-configs.slab-churn");
  check_slab_configs(stack, config, invalid_rng);
  // An eighth of the seeds: a few slab slots, so allocations are refused once
  // every slot is in use (and slots are reused as slabs go back).
  if (rng.below(8) == 0) config.max_slabs = 2 + rng.below(2 * kSlabClassCount);
  auto slab = SlabAllocator::create(stack.allocator, config);
  if (!slab.ok()) stack.oracles.fail("exception", "slab config: " + slab.error().describe());
  st->slab = std::move(slab.value());
  st->slab_bytes = config.slab_bytes;
  const SlabAllocatorConfig& kept = st->slab->config();
  if (kept.slab_bytes != config.slab_bytes || kept.magazine_capacity != config.magazine_capacity ||
      kept.adaptive_magazines != config.adaptive_magazines || kept.empty_slabs_kept != config.empty_slabs_kept ||
      kept.depot_full_magazines_max != config.depot_full_magazines_max || kept.max_slabs != config.max_slabs ||
      &st->slab->segments() != &stack.allocator) {
    stack.oracles.fail("slab-accounting", "config() or segments() is not what the allocator was created with");
  }
  stack.scenario_state = st;
}

// Quiescent: the leftovers handed over are freed here (remote frees), the
// refusals are tried once more against an idle allocator (nothing may
// change), then the accounting and flushing oracles.
void finish(Stack& stack) {
  SlabChurn& st = state(stack);
  sim::Rng rng = stack.simulation.stream("workload.slab-churn.finish");
  Worker conductor{stack, st, rng, {}, {}};
  while (!st.exchange.empty()) conductor.free_remote();
  st.slab->flush_thread_cache();
  const SlabStats before = st.slab->stats();
  st.oracles->check_counters(before, st.slab->config());
  Result<SlabObject> zero = st.slab->allocate(0);
  st.oracles->expect_refused(zero.ok() ? Status{} : Status{zero.error()}, Errc::InvalidSize, "allocate(0)", nullptr);
  check_size_rule(stack.oracles, "slab allocate", 0, zero.error().detail, kPastSlabClassRuleText);
  st.oracles->expect_refused(st.slab->free(SlabObject{}), Errc::InvalidPointer, "free of the null handle",
                             SlabObject{});
  ++st.model.invalid_pointers;
  for (const SlabObject& old : conductor.stale) {
    st.oracles->expect_refused(st.slab->free(old), Errc::DoubleFree, "free of a freed handle", old);
    ++st.model.double_frees;
  }
  st.oracles->expect_unchanged(before, st.slab->stats(), "calls at quiescence");
  forged_frees(stack, st);
  cold_class_drill(stack, st);
  // Whatever slabs the run left empty (up to empty_slabs_kept a class) go back.
  conductor.release_empty(true);
  st.oracles->check_quiescent(*st.slab, st.model);
  st.slab.reset();
  // The magazines' policy, per call, on a private instance (magazine_policy_episode.h).
  sim::Rng episode_rng = stack.simulation.stream("workload.slab-churn.magazine-policy");
  run_magazine_policy_episode(stack, episode_rng);
  // A slab the segment allocator refuses, on a private instance (slab_refusal_drill.h).
  sim::Rng refusal_rng = stack.simulation.stream("workload.slab-churn.refusal-drill");
  run_slab_refusal_drill(stack, refusal_rng);
  // A production thread's half of the caches (native_thread.h), on half
  // of the seeds: its own allocators, so the checks above are unaffected.
  if (rng.chance(0.5)) run_native_thread_episode(stack, rng, true);
  stack.scenario_state.reset();
}

}  // namespace

ScenarioDef slab_churn_scenario() {
  ScenarioDef def;
  def.info = {"slab-churn",
              "fibers allocate / free the seed's object mix on a SlabAllocator: remote frees, fiber exit, every refusal",
              4, 1};
  def.info.native_threads = true;  // half the seeds (finish)
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig&, std::uint32_t, std::uint32_t) {};
  def.prepare = prepare;
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng rng = stack.simulation.stream(fmt::format("workload.slab-churn.{}", index));
    const OpMix mix = draw_mix(stack);
    Worker worker{stack, state(stack), rng, {}, {}};
    run_ops(worker, mix, 200 * stack.size, true);
    worker.drain();  // fiber exit: its objects back, its magazines flushed
  };
  def.finish = finish;
  return def;
}

}  // namespace segsim::scenarios
