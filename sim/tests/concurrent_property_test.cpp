// Concurrent RapidCheck properties under the simulator (the gap of
// RapidCheck issue #47): a generated sequential prefix and two or three
// generated command sequences run as fibers against one SegmentAllocator and
// one LeafPagePool, under a generated schedule — the bytes of strategy fuzz
// (sim/fuzz_strategy.cpp) — so the commands and the schedule are one value
// and RapidCheck shrinks them together. Each operation's invocation and
// response are recorded on a logical clock; the history, closed by a
// sequential observation of the final state, must be linearizable against
// the sequential model (linearizability.h). A run the simulator fails (an
// assertion in core, a deadlock) fails the property too.
//
// With SEGSIM_MUTANT=<bug> in a mutants build the bug is on for the process:
// cleanup-race (the cleanup's check and detach race an allocation) and
// return-not-idempotent (a second return releases the segments again) fail it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/leaf_page_pool.h"
#include "core/linux_os.h"
#include "core/platform/mutex.h"
#include "core/segment_allocator.h"
#include "core/units.h"
#include "sim/tests/linearizability.h"
#include "sim/tests/sim_test_util.h"

namespace segsim::sim {
namespace {

constexpr std::size_t kHandles = 3;  // segments the prefix allocates, shared by every fiber
constexpr std::size_t kPages = 2;    // pages the prefix borrows, shared by every fiber
constexpr std::size_t kSlots = 4;
constexpr std::int64_t kOk = 0;
constexpr std::int64_t kRefused = 1;
constexpr char kScheduleByteEnd = 0x60;  // fuzz strategy bytes below: holds of 1, 2 or 4 decisions

// GiveBackReturn is the second half of a give_back (never generated): the
// pool takes the page back under its lock, then returns its segments under
// the page's — two atomic steps, so a history records a give_back as both,
// each linearizable anywhere in the call. Observe closes the history.
enum class Kind : std::uint8_t {
  Release, Reset, Allocate, SetSlot, ReturnSegments, GiveBack, Clear, Observe, GiveBackReturn
};
constexpr std::uint8_t kCommandKinds = 7;  // the generated kinds: Release .. Clear
// RapidCheck scales inRange and container lengths with the test's size (0 at
// the first test): drawn at full size, every target, class and schedule is
// as likely in the first tests as in the last.
constexpr int kFullSize = rc::kNominalSize;

struct Command {
  Kind kind = Kind::Release;
  std::uint8_t target = 0;  // handle, page, or size class (Allocate)
  std::uint8_t slot = 0;
  std::uint8_t value = 0;
};

void showValue(const Command& c, std::ostream& os) {
  static constexpr const char* kNames[] = {"release",   "reset", "allocate", "set_slot",        "return_segments",
                                           "give_back", "clear", "observe",  "give_back.return"};
  os << kNames[static_cast<int>(c.kind)] << "(" << int(c.target);
  if (c.kind == Kind::SetSlot) os << ", slot " << int(c.slot) << ", " << int(c.value);
  os << ")";
}

// `concurrent`: a command of the concurrent sequences. Those never reset:
// a reset racing a release of the same handle is the caller's own data race
// (SegmentAllocator::reset checks the handle, then zeroes without holding
// it against a concurrent release — like any write to a segment during its
// release), so no result of it is promised. The prefix resets; the sequences
// race releases, allocations and page calls, whose results are promised.
rc::Gen<Command> command_gen(bool concurrent) {
  return rc::gen::resize(kFullSize, rc::gen::apply(
      [concurrent](std::uint8_t kind, std::uint8_t target, std::uint8_t slot, std::uint8_t value) {
        Command c{static_cast<Kind>(kind), target, slot, value};
        if (concurrent && c.kind == Kind::Reset) c.kind = Kind::Allocate;
        if (c.kind == Kind::Release || c.kind == Kind::Reset) c.target %= kHandles;
        if (c.kind == Kind::Allocate) c.target = c.target % 2 == 0 ? 0 : kSizeClassCount - 1;
        if (c.kind >= Kind::SetSlot) c.target %= kPages;
        return c;
      },
      rc::gen::inRange<std::uint8_t>(0, kCommandKinds), rc::gen::inRange<std::uint8_t>(0, 6),
      rc::gen::inRange<std::uint8_t>(0, kSlots), rc::gen::inRange<std::uint8_t>(0, 255)));
}

// ---------------------------------------------------------------------------
// The sequential model

struct PageModel {
  bool borrowed = true;
  bool returned = false;
  std::array<std::int16_t, kSlots> slot{-1, -1, -1, -1};  // the value byte, -1 unset
  bool operator==(const PageModel&) const = default;
};

struct Model {
  std::array<bool, kHandles> live{true, true, true};
  std::array<PageModel, kPages> pages{};
  bool operator==(const Model&) const = default;
};

// What an observation of a page returns: returned, and each slot when held.
std::int64_t page_digest(bool returned, const std::array<std::int16_t, kSlots>& slots) {
  std::int64_t digest = returned ? 1 : 0;
  for (std::int16_t value : slots) digest = digest * 257 + (returned ? 0 : value + 1);
  return digest;
}

bool model_step(Model& m, const Command& c, std::int64_t result) {
  switch (c.kind) {
    case Kind::Release:
    case Kind::Reset: {
      const bool live = m.live[c.target];
      if (c.kind == Kind::Release) m.live[c.target] = false;
      return result == (live ? kOk : kRefused);
    }
    case Kind::Allocate: return result == kOk;  // the budget has room for every allocation
    case Kind::SetSlot: {
      PageModel& page = m.pages[c.target];
      if (page.returned) return result == kRefused;
      page.slot[c.slot] = c.value;
      return result == kOk;
    }
    case Kind::ReturnSegments: m.pages[c.target].returned = true; return result == kOk;
    case Kind::GiveBack: {
      PageModel& page = m.pages[c.target];
      const bool borrowed = page.borrowed;
      page.borrowed = false;
      return result == (borrowed ? kOk : kRefused);
    }
    case Kind::GiveBackReturn: {
      PageModel& page = m.pages[c.target];
      page.returned = true;
      page.slot = {-1, -1, -1, -1};
      return result == kOk;
    }
    case Kind::Clear: m.pages[c.target].slot = {-1, -1, -1, -1}; return result == kOk;
    case Kind::Observe: {
      const PageModel& page = m.pages[c.target];
      return result == page_digest(page.returned, page.slot);
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// The system under test, run as fibers

struct World {
  std::unique_ptr<SegmentAllocator> allocator;
  std::unique_ptr<LeafPagePool> pool;
  std::array<Segment, kHandles> handles{};
  std::array<LeafPage*, kPages> pages{};
  std::vector<testing::Completed<Command>> history;
  std::uint64_t clock = 0;
};

std::unique_ptr<SegmentAllocator> make_allocator() {
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.budget_bytes = 64 * 256 * KiB;
  // Every release starts an async cleanup (one per class at a time): each
  // release of a 256 KiB segment frees a whole region the cleanup then races
  // the other fibers' allocations for.
  config.cleanup_start_free_slices = 0;
  config.cleanup_every_free_slices = 1;
  auto created = SegmentAllocator::create(LinuxOs::instance(), config);
  SEGSIM_ASSERT(created.ok(), "allocator config");
  return std::move(created.value());
}

std::int64_t status_result(const Status& status) { return status.ok() ? kOk : kRefused; }

// Runs one command; the segments Allocate takes are stamped and kept in `own`.
std::int64_t execute(World& w, const Command& c, std::vector<std::pair<Segment, std::uint64_t>>& own) {
  switch (c.kind) {
    case Kind::Release: return status_result(w.allocator->release(w.handles[c.target]));
    case Kind::Reset: return status_result(w.allocator->reset(w.handles[c.target]));
    case Kind::Allocate: {
      auto segment = w.allocator->allocate(class_bytes(c.target));
      if (!segment.ok()) return kRefused;
      const std::uint64_t token = w.clock;
      std::memcpy(segment->data(), &token, sizeof token);
      own.emplace_back(segment.value(), token);
      return kOk;
    }
    case Kind::SetSlot: {
      const std::vector<std::byte> value(1 + c.value % 64, std::byte{c.value});
      return status_result(w.pages[c.target]->set_slot(c.slot, value));
    }
    case Kind::ReturnSegments: return status_result(w.pages[c.target]->return_segments());
    case Kind::GiveBack: return status_result(w.pool->give_back(w.pages[c.target]));
    case Kind::GiveBackReturn: return kRefused;  // recorded by run_commands, never run
    case Kind::Clear: w.pages[c.target]->clear(); return kOk;
    case Kind::Observe: {
      LeafPage& page = *w.pages[c.target];
      std::array<std::int16_t, kSlots> slots{-1, -1, -1, -1};
      const bool returned = page.segments_returned();
      for (std::size_t s = 0; s < kSlots && !returned; ++s) {
        const auto value = page.get_slot(s);
        if (!value.empty()) slots[s] = static_cast<std::int16_t>(value[0]);
      }
      return page_digest(returned, slots);
    }
  }
  return kRefused;
}

void run_commands(World& w, std::uint32_t thread, const std::vector<Command>& commands) {
  std::vector<std::pair<Segment, std::uint64_t>> own;
  for (const Command& c : commands) {
    const std::uint64_t invoked = ++w.clock;
    const std::int64_t result = execute(w, c, own);
    const std::uint64_t responded = ++w.clock;
    w.history.push_back({thread, invoked, responded, c, result});
    if (c.kind == Kind::GiveBack && result == kOk) {
      w.history.push_back({thread, invoked, responded, Command{Kind::GiveBackReturn, c.target, 0, 0}, kOk});
    }
  }
  for (const auto& [segment, token] : own) {
    std::uint64_t read = 0;
    std::memcpy(&read, segment.data(), sizeof read);
    if (read != token) throw std::runtime_error("an allocated segment was overwritten by another");
    if (!w.allocator->release(segment).ok()) throw std::runtime_error("releasing an allocated segment was refused");
  }
}

struct Case {
  std::array<int, kHandles> classes{};
  std::vector<Command> prefix;
  std::vector<std::vector<Command>> threads;
};

// Prefix, the concurrent fibers, then the observations (every page, every
// handle released) and the allocator's own audit, all inside the simulation:
// an assertion there fails the run instead of the process.
void program(Simulation& s, World& w, const Case& c) {
  s.spawn("main", [&s, &w, &c] {
    for (std::size_t h = 0; h < kHandles; ++h) w.handles[h] = w.allocator->allocate(class_bytes(c.classes[h])).value();
    for (std::size_t p = 0; p < kPages; ++p) w.pages[p] = w.pool->borrow(p).value();
    run_commands(w, 0, c.prefix);
    auto mu = std::make_shared<platform::Mutex>();
    auto cv = std::make_shared<platform::CondVar>();
    auto finished = std::make_shared<std::size_t>(0);
    for (std::size_t t = 0; t < c.threads.size(); ++t) {
      s.spawn("worker", [&w, &c, t, mu, cv, finished] {
        run_commands(w, static_cast<std::uint32_t>(t + 1), c.threads[t]);
        platform::LockGuard guard(*mu);
        ++*finished;
        cv->notify_all();
      });
    }
    {
      platform::UniqueLock lock(*mu);
      cv->wait(lock, [&] { return *finished == c.threads.size(); });
    }
    std::vector<Command> observe;
    for (std::uint8_t p = 0; p < kPages; ++p) observe.push_back({Kind::Observe, p, 0, 0});
    for (std::uint8_t h = 0; h < kHandles; ++h) observe.push_back({Kind::Release, h, 0, 0});
    run_commands(w, 0, observe);
    w.pool->clear_all();
    w.allocator->wait_for_cleanups();
    if (!w.allocator->audit().empty()) throw std::runtime_error("audit: " + w.allocator->audit().front());
    if (w.allocator->stats().live_slices() != 0) throw std::runtime_error("live slices left at the end");
  });
}

// The checker itself: overlapping calls may be ordered either way, calls
// that do not overlap only in real time; a result no order allows is refused.
TEST(Linearizability, OrdersOverlappingCallsAndRefusesImpossibleResults) {
  using Entry = testing::Completed<Command>;
  const Command release{Kind::Release, 0, 0, 0};
  const std::vector<Entry> overlapping = {{1, 1, 4, release, kRefused}, {2, 2, 3, release, kOk}};
  const auto order = testing::linearize(overlapping, Model{}, model_step);
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(*order, (std::vector<std::size_t>{1, 0}));  // the one that succeeded went first
  const std::vector<Entry> both_succeed = {{1, 1, 4, release, kOk}, {2, 2, 3, release, kOk}};
  EXPECT_FALSE(testing::linearize(both_succeed, Model{}, model_step).has_value());
  const std::vector<Entry> refused_first = {{1, 1, 2, release, kRefused}, {2, 3, 4, release, kOk}};
  EXPECT_FALSE(testing::linearize(refused_first, Model{}, model_step).has_value());
}

// The history as RapidCheck prints it: "fiber [invoked, responded] call = result" per entry.
std::string describe(const std::vector<testing::Completed<Command>>& history) {
  std::ostringstream out;
  for (const auto& entry : history) {
    out << "\n  fiber " << entry.thread << " [" << entry.invoked << ", " << entry.responded << "] ";
    showValue(entry.op, out);
    out << " = " << entry.result;
  }
  return out.str();
}

template <class T>
rc::Gen<T> full(rc::Gen<T> gen) {
  return rc::gen::resize(kFullSize, std::move(gen));
}

RC_GTEST_PROP(ConcurrentProperty, AllocatorAndPagePoolAreLinearizable, ()) {
  Case c;
  for (int& size_class : c.classes) size_class = *rc::gen::element(0, static_cast<int>(kSizeClassCount) - 1);
  c.prefix = *rc::gen::container<std::vector<Command>>(*full(rc::gen::inRange<std::size_t>(0, 4)), command_gen(false));
  const auto threads = *full(rc::gen::inRange<std::size_t>(2, 4));
  for (std::size_t t = 0; t < threads; ++t) {
    const auto commands = *full(rc::gen::inRange<std::size_t>(1, 5));
    c.threads.push_back(*rc::gen::container<std::vector<Command>>(commands, command_gen(true)));
  }
  SimulationConfig config;
  config.strategy = "fuzz";
  // Schedule bytes whose fiber keeps the CPU for 1, 2 or 4 decisions: the
  // commands are short, so preemptions must be dense to land in their windows.
  config.fuzz_bytes = *full(rc::gen::container<std::string>(rc::gen::inRange<char>(0, kScheduleByteEnd)));
  config.seed = *full(rc::gen::inRange<std::uint64_t>(0, 1000));

  auto world = std::make_unique<World>();
  world->allocator = make_allocator();
  world->pool = std::make_unique<LeafPagePool>(*world->allocator, LeafPagePoolConfig{{kSlots, 4 * KiB, 4 * KiB}});
  const RunResult result = testing::run_program(config, [&](Simulation& s) { program(s, *world, c); });
  if (!result.passed()) {
    (void)world.release();  // a failed run may leave the stack inconsistent: do not tear it down
    RC_FAIL("the simulation failed: " + result.signature());
  }
  if (!testing::linearize(world->history, Model{}, model_step)) {
    RC_FAIL("not linearizable against the sequential model: " + describe(world->history));
  }
}

}  // namespace
}  // namespace segsim::sim
