// txn-arenas — fibers run transactions on one TxnArenaManager whose chunks
// come from the run's segment allocator, which page work shares: savepoints
// nest, commit into their parents and roll back; transactions fill up to
// their profile's limit; every refusal is tried (bad sizes and alignments,
// the limit, ending a parent with a live child, ending twice, unknown ids).
// Per seed: which operations are on and their weights. Every completed call is
// checked against a reference model (scenarios/oracles/arena_*.cpp).
#include <string_view>

#include <fmt/format.h>

#include "scenarios/oracles/arena_oracles.h"
#include "scenarios/oracles/arena_profile.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/arena_refusal_drill.h"
#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

enum Op : std::size_t {
  kAllocate, kBeginChild, kCommitTop, kRollbackTop, kEndParent, kEndTwice, kUnknownId, kFillToLimit,
  kVerify, kPageWork, kOpCount
};

constexpr std::array<std::size_t, 7> kSizeEdges = {16, 4096, 8192, 16384, 65536, 131072, 262144};
constexpr std::array<std::size_t, 9> kEstimateEdges = {9'999, 10'000, 99'999, 100'000, 999'999, 1'000'000,
                                                       9'999'999, 10'000'000, 0};

// The header's bands for an estimate (core/txn_arena.h), not profile_for's
// code: the workload judges the manager against the promise.
ArenaProfile banded_profile(std::size_t estimated_bytes) {
  if (estimated_bytes < 10'000) return ArenaProfile::Tiny;
  if (estimated_bytes < 100'000) return ArenaProfile::Small;
  if (estimated_bytes < 1'000'000) return ArenaProfile::Medium;
  if (estimated_bytes < 10'000'000) return ArenaProfile::Large;
  return ArenaProfile::Huge;
}

struct TxnArenas {
  std::unique_ptr<ArenaOracles> oracles;
  std::unique_ptr<TxnArenaManager> manager;
  ArenaModelCounts model;
  explicit TxnArenas(std::size_t history_size) : profiles(history_size) {}
  ArenaProfileModel profiles;  // with the run's manager's history_size
  std::uint64_t next_txn = 1;
  std::uint32_t next_fill = 0;  // fibers switch only at scheduling points: no lock needed
};

TxnArenas& state(Stack& stack) { return *static_cast<TxnArenas*>(stack.scenario_state.get()); }

struct Open {
  TxnArena* arena;
  std::uint64_t id;
  std::vector<ArenaObject> objects;
};

struct Txn {
  Stack& stack;
  TxnArenas& st;
  sim::Rng& rng;
  std::vector<Open> open;           // root first, innermost savepoint last
  std::vector<std::uint64_t> ended; // for double ends

  std::vector<std::uint64_t> tree() const {
    std::vector<std::uint64_t> ids;
    for (const Open& o : open) ids.push_back(o.id);
    return ids;
  }
  void begin();
  bool allocate(Open& where, std::size_t bytes, std::size_t alignment);
  void allocate_some();
  void begin_child();
  void end_top(bool commit);
  void end_parent();
  void fill_to_limit();
  void page_work();
};

void Txn::begin() {
  const std::uint64_t txn = st.next_txn++;
  Result<TxnArena*> got = [&]() -> Result<TxnArena*> {
    if (rng.chance(0.3)) {
      const std::size_t estimate = kEstimateEdges[rng.below(kEstimateEdges.size())];
      const ArenaProfileModel::Mark before = st.profiles.mark();
      Result<TxnArena*> arena = st.manager->begin_estimated(txn, estimate == 0 ? std::nullopt : std::optional(estimate));
      if (arena.ok() && estimate == 0) st.profiles.check_suggested(stack.oracles, before, arena.value()->profile());
      if (arena.ok() && estimate != 0 && arena.value()->profile() != banded_profile(estimate)) {
        stack.oracles.fail("arena-refusal", fmt::format("an estimate of {} B opened a {} arena", estimate,
                                                        profile_spec(arena.value()->profile()).name));
      }
      return arena;
    }
    // Mostly the small profiles; large rarely, huge (16 MiB up front) very rarely.
    const std::uint64_t draw = rng.below(100);
    const ArenaProfile profile = draw < 45 ? ArenaProfile::Tiny : draw < 75 ? ArenaProfile::Small
                                 : draw < 95 ? ArenaProfile::Medium : draw < 99 ? ArenaProfile::Large : ArenaProfile::Huge;
    return st.manager->begin(txn, profile);
  }();
  if (!got.ok()) {
    st.oracles->check_refused_begin(got.error(), tolerated(stack, got.error()));
    return;
  }
  ++st.model.begun;
  ++st.model.begun_by_profile[static_cast<std::size_t>(got.value()->profile())];
  if (got.value()->txn() != txn) {
    stack.oracles.fail("arena-ownership", fmt::format("transaction {} opened an arena of transaction {}", txn, got.value()->txn()));
  }
  if (got.value()->tree_reserved_bytes() != profile_spec(got.value()->profile()).initial_bytes) {
    stack.oracles.fail("arena-budget", "a new transaction does not reserve its profile's initial bytes");
  }
  open.push_back(Open{got.value(), got.value()->id(), {}});
}

bool Txn::allocate(Open& where, std::size_t bytes, std::size_t alignment) {
  const ArenaOracles::Snapshot before = ArenaOracles::snapshot(*where.arena);
  Result<std::byte*> got = where.arena->allocate(bytes, alignment);
  if (!got.ok()) {
    st.oracles->check_refused_allocate(*where.arena, before, bytes, alignment, got.error(), tolerated(stack, got.error()));
    if (std::string_view(got.error().detail) == kArenaLimitDetail) ++st.model.over_limit;
    return false;
  }
  const ArenaObject object{got.value(), bytes, static_cast<std::uint8_t>(1 + st.next_fill++ % 255), alignment};
  st.oracles->object_allocated(*where.arena, object, alignment);
  for (const Open& other : open) {  // a savepoint has chunks of its own
    if (other.arena != where.arena && other.arena->contains(object.data, object.bytes)) {
      stack.oracles.fail("arena-ownership", fmt::format("arena {} of the same transaction says it contains an object "
                                                        "of arena {}", other.id, where.id));
    }
  }
  st.oracles->check_growth(*where.arena, before, bytes);
  std::fill(object.data, object.data + bytes, std::byte{object.fill});
  where.objects.push_back(object);
  st.oracles->check_budget(*where.arena);
  return true;
}

void Txn::allocate_some() {
  Open& where = rng.chance(0.8) ? open.back() : open[rng.below(open.size())];
  const std::size_t bytes = rng.chance(0.7) ? 1 + rng.below(600) : draw_size(rng, 0, kArenaMaxObjectBytes + 1, kSizeEdges);
  std::size_t alignment = std::size_t{1} << rng.below(8);
  if (rng.chance(0.05)) alignment = rng.chance(0.5) ? 24 : 8192;  // refused: not a power of two / too large
  if (rng.chance(0.05)) alignment = 0;
  (void)allocate(where, bytes, alignment);
}

void Txn::begin_child() {
  Result<TxnArena*> child = st.manager->begin_child(open.back().id);
  if (!child.ok()) {
    if (!tolerated(stack, child.error())) stack.oracles.fail("arena-refusal", "begin_child: " + child.error().describe());
    return;
  }
  if (child.value()->parent_id() != open.back().id || child.value()->depth() != open.size() ||
      child.value()->txn() != open.back().arena->txn()) {
    stack.oracles.fail("arena-nesting", "a savepoint names the wrong parent, depth or transaction");
  }
  ++st.model.children_begun;
  open.push_back(Open{child.value(), child.value()->id(), {}});
}

void Txn::end_top(bool commit) {
  Open top = std::move(open.back());
  open.pop_back();
  for (const ArenaObject& object : top.objects) st.oracles->check_content(object);
  const bool into_parent = commit && !open.empty();
  // Out of the model first: once the chunks are back, another fiber may get them.
  if (!into_parent) st.oracles->objects_gone(top.objects);
  const bool root = open.empty();
  const std::uint64_t ticket = root ? st.profiles.root_end_started() : 0;
  Status ended = commit ? st.manager->commit(top.id) : st.manager->rollback(top.id);
  if (root) st.profiles.root_end_done(ticket, ended.ok(), top.objects);
  if (!ended.ok()) stack.oracles.fail("arena-refusal", fmt::format("ending arena {}: {}", top.id, ended.error().describe()));
  ++(commit ? st.model.commits : st.model.rollbacks);
  st.oracles->check_ended(*st.manager, top.id);
  this->ended.push_back(top.id);
  if (into_parent) {
    st.oracles->check_committed(*st.manager, top.objects, open.back().id);
    open.back().objects.insert(open.back().objects.end(), top.objects.begin(), top.objects.end());
  } else if (!commit) {
    st.oracles->check_rolled_back(*st.manager, top.objects, tree());
  }
}

void Txn::end_parent() {
  if (open.size() < 2) return;
  const Open& parent = open[rng.below(open.size() - 1)];
  const std::size_t children = parent.arena->live_children();
  const Status got = rng.chance(0.5) ? st.manager->commit(parent.id) : st.manager->rollback(parent.id);
  ++st.model.refused_ends;
  st.oracles->check_end_refused_with_child(*st.manager, parent.id, children, got);
}

void Txn::fill_to_limit() {
  for (int i = 0; i < 400; ++i) {
    const std::size_t bytes = 2048 + rng.below(30 * 1024);
    if (!allocate(open.back(), bytes, 16)) return;
  }
}

void Txn::page_work() {
  PageShape shape;
  shape.max_slots = 4;
  shape.max_value_bytes = 3000;
  const std::uint64_t id = stack.next_page_id++;
  LeafPage* page = build_page(stack, rng, id, shape);
  if (page != nullptr) {
    verify_page(stack, id, *page);
    publish(stack, id, page);
  }
  read_published(stack, rng, 1, 1);
}

void run_txns(Txn& txn, const OpMix& mix, std::uint32_t ops) {
  for (std::uint32_t n = 0; n < ops; ++n) {
    if (txn.open.empty()) txn.begin();
    if (txn.open.empty()) continue;  // a tolerated refusal
    switch (mix.pick(txn.rng)) {
      case kAllocate: txn.allocate_some(); break;
      case kBeginChild:
        if (txn.open.size() < 6) txn.begin_child();
        break;
      case kCommitTop: txn.end_top(true); break;
      case kRollbackTop: txn.end_top(false); break;
      case kEndParent: txn.end_parent(); break;
      case kEndTwice:
        if (!txn.ended.empty()) {
          const std::uint64_t id = txn.ended[txn.rng.below(txn.ended.size())];
          const Status got = txn.rng.chance(0.5) ? txn.st.manager->commit(id) : txn.st.manager->rollback(id);
          txn.st.oracles->expect_refused(got, Errc::DoubleFree, "ending an arena twice");
          ++txn.st.model.refused_ends;
        }
        break;
      case kUnknownId: {
        const Status got = txn.st.manager->rollback(txn.rng.chance(0.5) ? 0 : (std::uint64_t{1} << 40));
        txn.st.oracles->expect_refused(got, Errc::InvalidPointer, "ending an unknown arena");
        ++txn.st.model.refused_ends;
        break;
      }
      case kFillToLimit: txn.fill_to_limit(); break;
      case kVerify: {
        std::vector<const TxnArena*> own;
        for (const Open& o : txn.open) {
          for (const ArenaObject& object : o.objects) txn.st.oracles->check_content(object);
          own.push_back(o.arena);
        }
        txn.st.oracles->check_stats(txn.st.manager->stats(), own);
        break;
      }
      case kPageWork: txn.page_work(); break;
      default: break;
    }
    txn.stack.oracles.check_cheap();
  }
  while (!txn.open.empty()) txn.end_top(txn.rng.chance(0.5));
}

void prepare(Stack& stack) {
  // The run's manager's history: the default, or short enough that the
  // window fills and evicts within a run (1 is the smallest accepted).
  sim::Rng config_rng = stack.simulation.stream("workload.txn-arenas.config");
  TxnArenaConfig run_config;
  run_config.history_size = draw_one<std::size_t>(config_rng, {1, 2, 7, TxnArenaConfig{}.history_size});
  auto st = std::make_shared<TxnArenas>(run_config.history_size);
  st->oracles = std::make_unique<ArenaOracles>(stack.oracles, stack.sim_os);
  for (const TxnArenaConfig& bad : {TxnArenaConfig{0, 16}, TxnArenaConfig{16, 0}, TxnArenaConfig{16, (std::size_t{1} << 20) + 1}  /* past the documented 2^20 */}) {
    auto refused = TxnArenaManager::create(stack.allocator, bad);
    if (refused || refused.error().code != Errc::InvalidConfig) {
      stack.oracles.fail("arena-refusal", "TxnArenaManager::create with an invalid config was not refused as InvalidConfig");
    }
    check_error_text(stack.oracles, refused.error());
  }
  // The documented bounds themselves are accepted: one arena with one
  // history entry, and 2^20 live arenas (nothing is reserved up front).
  for (const TxnArenaConfig& edge : {TxnArenaConfig{1, 1}, TxnArenaConfig{16, std::size_t{1} << 20}}) {
    if (auto made = TxnArenaManager::create(stack.allocator, edge); !made.ok()) {
      stack.oracles.fail("arena-refusal", fmt::format("TxnArenaManager::create with history_size {} and "
                                                      "max_live_arenas {}, within the documented bounds, was refused: {}",
                                                      edge.history_size, edge.max_live_arenas, made.error().describe()));
    }
  }
  auto manager = TxnArenaManager::create(stack.allocator, run_config);
  if (!manager.ok()) stack.oracles.fail("exception", "arena config: " + manager.error().describe());
  st->manager = std::move(manager.value());
  if (&st->manager->segments() != &stack.allocator) stack.oracles.fail("arena-ownership", "segments() is not the manager's allocator");
  stack.scenario_state = st;
}

// Arenas still open at the end, on a second manager that allows two: its
// audit with arenas live, its max_live_arenas refusals (a root and a
// savepoint), and its destruction with arenas open, which must give back
// every chunk.
void check_open_arenas(Stack& stack) {
  const std::size_t live_before = stack.oracles.model_live_slices();
  {
    TxnArenaConfig config;
    config.max_live_arenas = 2;
    auto made = TxnArenaManager::create(stack.allocator, config);
    if (!made.ok()) stack.oracles.fail("exception", "arena config: " + made.error().describe());
    TxnArenaManager& manager = *made.value();
    auto root = manager.begin(1, ArenaProfile::Tiny);
    if (!root.ok()) return;  // the segment allocator refused (a fault plan): nothing to check
    auto child = manager.begin_child(root.value()->id());
    if (!child.ok()) stack.oracles.fail("arena-refusal", "a savepoint under the only root was refused: " + child.error().describe());
    (void)child.value()->allocate(3000);  // the savepoint's own chunk, unless a fault refuses it
    // Each arena's one chunk used to its last byte (alignment 1): the bound
    // of the audit's "used past its end", and no chunk more for it.
    for (TxnArena* arena : {root.value(), child.value()}) {
      if (arena->chunk_count() != 1 || arena->used_bytes() >= arena->reserved_bytes()) continue;
      const std::size_t rest = arena->reserved_bytes() - arena->used_bytes();
      if (!arena->allocate(rest, 1).ok() || arena->chunk_count() != 1 || arena->used_bytes() != arena->reserved_bytes()) {
        stack.oracles.fail("arena-chunks", fmt::format("arena {}: an allocation of the {} bytes left in its one chunk "
                                                       "left it {} chunk(s), {} of {} bytes used",
                                                       arena->id(), rest, arena->chunk_count(), arena->used_bytes(),
                                                       arena->reserved_bytes()));
      }
    }
    // The root's tree filled to its profile's limit exactly (4 KiB pieces; near the limit each
    // growth takes the least chunk, 4 KiB): the audit below then sees a tree at its limit, which is
    // within it. A refusal by the limit before that was not necessary; one by a fault ends the fill.
    const std::size_t limit = profile_spec(ArenaProfile::Tiny).limit_bytes;
    for (std::size_t piece = 0; piece <= limit / kSmallestClassBytes; ++piece) {
      Result<std::byte*> got = root.value()->allocate(kSmallestClassBytes, 1);
      if (got.ok()) continue;
      if (std::string_view(got.error().detail) == kArenaLimitDetail &&
          root.value()->tree_reserved_bytes() != limit) {
        stack.oracles.fail("arena-refusal", fmt::format("a tiny root's 4 KiB allocation refused by its limit with {} "
                                                        "of its {} bytes reserved",
                                                        root.value()->tree_reserved_bytes(), limit));
      }
      break;
    }
    const auto too_many = manager.begin_child(root.value()->id());
    if (too_many.ok() || too_many.error().code != Errc::OutOfBudget) {
      stack.oracles.fail("arena-refusal", "a third arena under max_live_arenas = 2 was not refused as OutOfBudget");
    }
    check_error_text(stack.oracles, too_many.error());
    const auto third_root = manager.begin(2, ArenaProfile::Tiny);
    if (third_root.ok()) stack.oracles.fail("arena-refusal", "a third root under max_live_arenas = 2 was accepted");
    if (const std::vector<std::string> violations = manager.audit(); !violations.empty()) {
      stack.oracles.fail("accounting", "arena audit with arenas open: " + violations.front());
    }
  }
  if (stack.oracles.model_live_slices() != live_before) {
    stack.oracles.fail("leak", fmt::format("a manager destroyed with arenas open kept {} segments",
                                           stack.oracles.model_live_slices() - live_before));
  }
}

// A manager whose history holds one transaction (history_size 1, the
// smallest): after a root that kept 1 KB and then one that kept 300 KB,
// suggest_profile() answers for the second alone — medium, as the profile
// model says; a window one short would be empty (tiny).
void check_history_of_one(Stack& stack) {
  TxnArenaConfig config;
  config.history_size = 1;
  auto made = TxnArenaManager::create(stack.allocator, config);
  if (!made.ok()) stack.oracles.fail("exception", "arena config: " + made.error().describe());
  TxnArenaManager& manager = *made.value();
  ArenaProfileModel model(config.history_size);
  std::uint64_t txn = 1;
  for (const std::size_t pieces : {1, 3}) {  // of 1 KB, then of 100 KB
    auto root = manager.begin(txn++, ArenaProfile::Medium);  // its limit holds 300 KB
    if (!root.ok()) return;  // the segment allocator refused (a fault plan): nothing to judge
    std::vector<ArenaObject> kept;
    for (std::size_t i = 0; i < pieces; ++i) {
      const std::size_t bytes = pieces == 1 ? 1'000 : 100'000;
      auto got = root.value()->allocate(bytes, 1);
      if (!got.ok()) return;  // refused under a fault plan; the manager gives its chunks back
      kept.push_back(ArenaObject{got.value(), bytes, 0, 1});
    }
    const std::uint64_t ticket = model.root_end_started();
    const Status ended = manager.commit(root.value()->id());
    model.root_end_done(ticket, ended.ok(), kept);
    if (!ended.ok()) stack.oracles.fail("arena-refusal", "history drill: a commit was refused: " + ended.error().describe());
  }
  const ArenaProfileModel::Mark before = model.mark();
  auto suggested = manager.begin_estimated(txn, std::nullopt);
  if (!suggested.ok()) return;
  model.check_suggested(stack.oracles, before, suggested.value()->profile());
}

void finish(Stack& stack) {
  TxnArenas& st = state(stack);
  st.oracles->check_quiescent(*st.manager, st.model);
  check_open_arenas(stack);
  check_history_of_one(stack);
  sim::Rng drill_rng = stack.simulation.stream("workload.txn-arenas.refusal-drill");
  run_arena_refusal_drill(stack, drill_rng);
  st.manager.reset();
  stack.scenario_state.reset();
}

}  // namespace

ScenarioDef txn_arenas_scenario() {
  ScenarioDef def;
  def.info = {"txn-arenas",
              "transactions with nested savepoints commit and roll back concurrently, sharing the allocator with page work",
              3, 1};
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig& cache, std::uint32_t, std::uint32_t) {
    cache.max_entries = 4;
  };
  def.prepare = prepare;
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng mix_rng = stack.simulation.stream("workload.txn-arenas.mix");
    const OpMix mix(mix_rng, kOpCount, {kAllocate, kCommitTop});
    sim::Rng rng = stack.simulation.stream(fmt::format("workload.txn-arenas.{}", index));
    Txn txn{stack, state(stack), rng, {}, {}};
    run_txns(txn, mix, 160 * stack.size);
  };
  def.finish = finish;
  return def;
}

}  // namespace segsim::scenarios
