// The flight recorder's object layers on purpose: see recorder_layer_ops.h.
#include "scenarios/workloads/recorder_layer_ops.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/large_object_allocator.h"
#include "core/slab_allocator.h"
#include "core/txn_arena.h"
#include "faults/sim_os.h"
#include "scenarios/crash_report.h"
#include "scenarios/oracles/recorder_events.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

using flight_recorder::Op;

// Holds every call of the episode and the segment calls nested in them.
constexpr std::size_t kEpisodeRingEvents = 1024;
constexpr const char* kReason = "object layers";
constexpr std::uint64_t kNeverIssuedArena = 999;
// Well below one report (its header and configs alone are longer).
constexpr rlim_t kCutReportBytes = 512;

struct Episode {
  Stack& stack;
  std::vector<ExpectedLayerEvent> expected;

  [[noreturn]] void setup_failed(const std::string& what) {
    stack.oracles.fail("exception", "recorder layer episode: " + what);
  }
  // A call the layer must refuse (`oracle`: the layer's refusal oracle).
  void refusal_due(const char* oracle, const std::optional<Errc>& error, const std::string& call) {
    if (!error) stack.oracles.fail(oracle, fmt::format("{} succeeded; it must be refused", call));
  }
  void expect(RecordedLayerKind layer, Op op, std::uint32_t instance, std::uint64_t id0, std::uint64_t id1,
              std::uint64_t id2, std::uint64_t id3, std::uint64_t bytes, int size_class, std::optional<Errc> error) {
    ExpectedLayerEvent e;
    e.layer = layer;
    e.instance_known = instance != 0;
    e.event.op = op;
    e.event.allocator = instance;
    e.event.region = static_cast<std::uint32_t>(id0);
    e.event.slice = static_cast<std::uint32_t>(id1);
    e.event.generation = static_cast<std::uint32_t>(id2);
    e.event.object = id3;
    e.event.bytes = bytes;
    e.event.size_class = size_class;
    e.event.error = error;
    expected.push_back(e);
  }
};

// ---- the slab layer: allocate (a boundary size; past the largest class),
// free (live, again, null), flush.
CrashSlabConfig slab_calls(Episode& ep, SlabAllocator& slab, sim::Rng& rng) {
  constexpr auto kSlab = RecordedLayerKind::Slab;
  const std::size_t c = rng.below(kSlabClassCount);
  const std::size_t bytes = draw_one<std::size_t>(rng, {kSlabClassBytes[c], c == 0 ? 1 : kSlabClassBytes[c - 1] + 1});
  Result<SlabObject> got = slab.allocate(bytes);
  if (!got.ok()) ep.setup_failed(fmt::format("slab allocate({}): {}", bytes, got.error().describe()));
  const SlabObject object = got.value();
  const std::uint32_t id = object.allocator_id();
  ep.expect(kSlab, Op::SlabAllocate, id, object.slab_id(), object.index(), object.generation(), object.slab_epoch(),
            bytes, object.size_class(), std::nullopt);
  const std::size_t past = draw_one<std::size_t>(rng, {0, kSlabLargestObjectBytes + 1});
  const SlabObject null{};
  Result<SlabObject> refused = slab.allocate(past);
  ep.refusal_due("slab-refusal", recorded_error(refused), fmt::format("slab allocate({})", past));
  ep.expect(kSlab, Op::SlabAllocate, id, null.slab_id(), null.index(), null.generation(), null.slab_epoch(), past,
            slab_class_of(past), recorded_error(refused));
  Status freed = slab.free(object);
  if (!freed.ok()) ep.setup_failed("slab free of a live object: " + freed.error().describe());
  ep.expect(kSlab, Op::SlabFree, id, object.slab_id(), object.index(), object.generation(), object.slab_epoch(), 0,
            object.size_class(), std::nullopt);
  Status again = slab.free(object);
  ep.refusal_due("slab-refusal", recorded_error(again), "a second slab free of one object");
  ep.expect(kSlab, Op::SlabFree, id, object.slab_id(), object.index(), object.generation(), object.slab_epoch(), 0,
            object.size_class(), recorded_error(again));
  Status null_free = slab.free(null);
  ep.refusal_due("slab-refusal", recorded_error(null_free), "slab free of the null handle");
  ep.expect(kSlab, Op::SlabFree, id, null.slab_id(), null.index(), null.generation(), null.slab_epoch(), 0, -1,
            recorded_error(null_free));
  slab.flush_thread_cache();
  ep.expect(kSlab, Op::SlabFlush, id, 0, 0, 0, 0, 0, -1, std::nullopt);

  const SlabAllocatorConfig& config = slab.config();
  CrashSlabConfig due;
  due.allocator = id;
  due.slab_bytes = config.slab_bytes;
  due.magazine_capacity.assign(config.magazine_capacity.begin(), config.magazine_capacity.end());
  due.adaptive_magazines = config.adaptive_magazines;
  due.depot_full_magazines_max = config.depot_full_magazines_max;
  due.empty_slabs_kept = config.empty_slabs_kept;
  due.max_slabs = config.max_slabs;
  return due;
}

// ---- the arena layer: begin (ok; past max_live_arenas = 2), begin_child
// (ok; of an id never issued), allocate (ok at a drawn size and alignment;
// zero bytes; an alignment not a power of two), commit with a live child,
// rollback twice, commit of an id never issued, commit; then a root of the
// large profile (initial chunks beyond the first) left open for the
// manager's destructor.
void arena_calls(Episode& ep, TxnArenaManager& manager, sim::Rng& rng) {
  constexpr auto kArena = RecordedLayerKind::Arena;
  const auto profile = draw_one<ArenaProfile>(rng, {ArenaProfile::Tiny, ArenaProfile::Small, ArenaProfile::Medium});
  const std::uint64_t txn = 1 + rng.below(1000);
  Result<TxnArena*> root = manager.begin(txn, profile);
  if (!root.ok()) ep.setup_failed("begin: " + root.error().describe());
  const std::uint64_t root_id = root.value()->id();
  ep.expect(kArena, Op::ArenaBegin, 0, root_id, txn, static_cast<std::uint64_t>(profile), 0, 0, -1, std::nullopt);
  Result<TxnArena*> child = manager.begin_child(root_id);
  if (!child.ok()) ep.setup_failed("begin_child: " + child.error().describe());
  TxnArena& arena = *child.value();
  ep.expect(kArena, Op::ArenaBeginChild, 0, arena.id(), root_id, 0, 0, 0, -1, std::nullopt);
  Result<TxnArena*> third = manager.begin(txn + 1, ArenaProfile::Tiny);
  ep.refusal_due("arena-refusal", recorded_error(third), "a third arena with max_live_arenas = 2");
  ep.expect(kArena, Op::ArenaBegin, 0, 0, txn + 1, static_cast<std::uint64_t>(ArenaProfile::Tiny), 0, 0, -1,
            recorded_error(third));
  Result<TxnArena*> orphan = manager.begin_child(kNeverIssuedArena);
  ep.refusal_due("arena-refusal", recorded_error(orphan), "begin_child of an arena never issued");
  ep.expect(kArena, Op::ArenaBeginChild, 0, 0, kNeverIssuedArena, 0, 0, 0, -1, recorded_error(orphan));

  const std::size_t bytes = draw_one<std::size_t>(rng, {1, 4096, 1 + rng.below(4096)});
  const std::size_t alignment = draw_one<std::size_t>(rng, {1, 16, kArenaMaxAlignment});
  Result<std::byte*> got = arena.allocate(bytes, alignment);
  if (!got.ok()) ep.setup_failed("arena allocate: " + got.error().describe());
  if (reinterpret_cast<std::uintptr_t>(got.value()) % alignment != 0 || !arena.contains(got.value(), bytes)) {
    ep.stack.oracles.fail("arena-ownership", fmt::format("an arena allocation of {} bytes aligned to {} is not aligned "
                                                         "or not inside the arena's chunks", bytes, alignment));
  }
  ep.expect(kArena, Op::ArenaAllocate, 0, arena.id(), alignment, 0, 0, bytes, -1, std::nullopt);
  Result<std::byte*> zero = arena.allocate(0);
  ep.refusal_due("arena-refusal", recorded_error(zero), "an arena allocation of 0 bytes");
  ep.expect(kArena, Op::ArenaAllocate, 0, arena.id(), 16, 0, 0, 0, -1, recorded_error(zero));
  Result<std::byte*> misaligned = arena.allocate(8, 3);
  ep.refusal_due("arena-refusal", recorded_error(misaligned), "an arena allocation aligned to 3");
  ep.expect(kArena, Op::ArenaAllocate, 0, arena.id(), 3, 0, 0, 8, -1, recorded_error(misaligned));

  Status early = manager.commit(root_id);
  ep.refusal_due("arena-refusal", recorded_error(early), "commit of an arena with a live child");
  ep.expect(kArena, Op::ArenaCommit, 0, root_id, 0, 0, 0, 0, -1, recorded_error(early));
  const std::uint64_t child_id = arena.id();
  Status rolled = manager.rollback(child_id);
  if (!rolled.ok()) ep.setup_failed("rollback of a live child: " + rolled.error().describe());
  ep.expect(kArena, Op::ArenaRollback, 0, child_id, 0, 0, 0, 0, -1, std::nullopt);
  Status twice = manager.rollback(child_id);
  ep.refusal_due("arena-refusal", recorded_error(twice), "a second rollback of one arena");
  ep.expect(kArena, Op::ArenaRollback, 0, child_id, 0, 0, 0, 0, -1, recorded_error(twice));
  Status unknown = manager.commit(kNeverIssuedArena);
  ep.refusal_due("arena-refusal", recorded_error(unknown), "commit of an arena never issued");
  ep.expect(kArena, Op::ArenaCommit, 0, kNeverIssuedArena, 0, 0, 0, 0, -1, recorded_error(unknown));
  Status committed = manager.commit(root_id);
  if (!committed.ok()) ep.setup_failed("commit: " + committed.error().describe());
  ep.expect(kArena, Op::ArenaCommit, 0, root_id, 0, 0, 0, 0, -1, std::nullopt);

  Result<TxnArena*> open = manager.begin(txn + 2, ArenaProfile::Large);
  if (!open.ok()) ep.setup_failed("begin (large profile): " + open.error().describe());
  ep.expect(kArena, Op::ArenaBegin, 0, open.value()->id(), txn + 2, static_cast<std::uint64_t>(ArenaProfile::Large), 0,
            0, -1, std::nullopt);
  // Past the first chunk: the next of the profile's initial chunks.
  for (int i = 0; i < 2; ++i) {
    Result<std::byte*> whole = open.value()->allocate(kArenaMaxObjectBytes);
    if (!whole.ok()) ep.setup_failed("arena allocate of a whole chunk: " + whole.error().describe());
    ep.expect(kArena, Op::ArenaAllocate, 0, open.value()->id(), 16, 0, 0, kArenaMaxObjectBytes, -1, std::nullopt);
  }
}

// ---- the large-object layer: allocate (ok; under the smallest object),
// allocate_uninitialized (ok; past max_object_bytes), release (ok; again),
// decommit_idle, unmap_free_spans.
CrashLargeConfig large_calls(Episode& ep, LargeObjectAllocator& large, sim::Rng& rng) {
  constexpr auto kLarge = RecordedLayerKind::Large;
  const LargeObjectAllocatorConfig& config = large.config();
  const std::size_t granule = config.granule_bytes;
  auto expect_object = [&](Op op, const LargeObject& object, std::size_t bytes, std::optional<Errc> error) {
    ep.expect(kLarge, op, object.allocator_id(), object.span_id(), object.generation(), 0, object.offset(), bytes, -1,
              error);
  };
  const std::size_t bytes = LargeObjectAllocator::kMinObjectBytes + granule * rng.below(3);
  Result<LargeObject> zeroed = large.allocate(bytes);
  if (!zeroed.ok()) ep.setup_failed("large allocate: " + zeroed.error().describe());
  const LargeObject a = zeroed.value();
  const std::uint32_t id = a.allocator_id();
  expect_object(Op::LargeAllocate, a, bytes, std::nullopt);
  const LargeObject null{};
  const std::size_t small = LargeObjectAllocator::kMinObjectBytes - 1;
  Result<LargeObject> too_small = large.allocate(small);
  ep.refusal_due("large-outcome", recorded_error(too_small), fmt::format("large allocate({})", small));
  ep.expect(kLarge, Op::LargeAllocate, id, null.span_id(), null.generation(), 0, null.offset(), small, -1,
            recorded_error(too_small));
  const std::size_t raw_bytes = draw_one<std::size_t>(rng, {LargeObjectAllocator::kMinObjectBytes, config.max_object_bytes});
  Result<LargeObject> raw = large.allocate_uninitialized(raw_bytes);
  if (!raw.ok()) ep.setup_failed("large allocate_uninitialized: " + raw.error().describe());
  expect_object(Op::LargeAllocateUninitialized, raw.value(), raw_bytes, std::nullopt);
  Result<LargeObject> too_big = large.allocate_uninitialized(config.max_object_bytes + 1);
  ep.refusal_due("large-outcome", recorded_error(too_big), "large allocate_uninitialized past max_object_bytes");
  ep.expect(kLarge, Op::LargeAllocateUninitialized, id, null.span_id(), null.generation(), 0, null.offset(),
            config.max_object_bytes + 1, -1, recorded_error(too_big));
  Status released = large.release(a);
  if (!released.ok()) ep.setup_failed("large release: " + released.error().describe());
  expect_object(Op::LargeRelease, a, 0, std::nullopt);
  Status again = large.release(a);
  ep.refusal_due("large-outcome", recorded_error(again), "a second large release of one object");
  expect_object(Op::LargeRelease, a, 0, recorded_error(again));
  (void)large.decommit_idle(0);
  ep.expect(kLarge, Op::LargeDecommitIdle, id, 0, 0, 0, 0, 0, -1, std::nullopt);
  Status released_raw = large.release(raw.value());
  if (!released_raw.ok()) ep.setup_failed("large release: " + released_raw.error().describe());
  expect_object(Op::LargeRelease, raw.value(), 0, std::nullopt);
  (void)large.unmap_free_spans(0);
  ep.expect(kLarge, Op::LargeUnmapFreeSpans, id, 0, 0, 0, 0, 0, -1, std::nullopt);

  CrashLargeConfig due;
  due.allocator = id;
  due.max_object_bytes = config.max_object_bytes;
  due.granule_bytes = config.granule_bytes;
  due.span_bytes = config.span_bytes;
  due.budget_bytes = config.budget_bytes;
  due.fit = static_cast<std::uint64_t>(config.fit);
  due.decommit_after_ns = config.decommit_after_ns;
  due.decommit_check_interval_ns = config.decommit_check_interval_ns;
  return due;
}

// The directory's files and their sizes.
std::map<std::string, std::uintmax_t> directory_files(const std::string& dir) {
  std::map<std::string, std::uintmax_t> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    files[entry.path().filename().string()] = entry.is_regular_file(error) ? entry.file_size(error) : 0;
  }
  return files;
}

// A report the file-size limit cuts short is not written: no path, and the
// directory as it was (no report, no temporary file, no earlier report
// replaced). SIGXFSZ is ignored meanwhile (the write fails with EFBIG
// instead); both are put back. Cut at `cut_bytes`: well inside the report
// (a later buffer's write fails), or one byte before the end of a report as
// long as the last (where only the last write's short count tells). A report
// that came out shorter than the cut is whole and may be returned.
void check_report_cut_short(Stack& stack, const RecorderCheck& check, rlim_t cut_bytes) {
  rlimit before{};
  if (::getrlimit(RLIMIT_FSIZE, &before) != 0 || before.rlim_cur < cut_bytes) return;
  if (flight_recorder::reports_written() >= flight_recorder::kMaxReportsPerProcess) return;
  const std::map<std::string, std::uintmax_t> files = directory_files(check.dir);
  struct sigaction ignore {}, previous{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGXFSZ, &ignore, &previous);
  rlimit cut = before;
  cut.rlim_cur = cut_bytes;
  const bool limited = ::setrlimit(RLIMIT_FSIZE, &cut) == 0;
  const std::string path = limited ? flight_recorder::write_report(kReason) : std::string();
  ::setrlimit(RLIMIT_FSIZE, &before);
  ::sigaction(SIGXFSZ, &previous, nullptr);
  if (!limited) return;
  if (!path.empty()) {
    std::error_code error;
    const std::uintmax_t bytes = std::filesystem::file_size(path, error);
    if (error || bytes >= cut_bytes) {
      recorder_fail(stack, fmt::format("write_report() returned {}, a report the file-size limit cut at {} bytes",
                                       path, cut_bytes));
    }
    (void)read_recorder_report(stack, path);  // shorter than the cut: whole, and it must read back
    return;
  }
  if (const auto after = directory_files(check.dir); after != files) {
    recorder_fail(stack, fmt::format("a report cut short by the file-size limit changed the report directory ({} "
                                     "file(s) before, {} after)", files.size(), after.size()));
  }
}

// A report written while descriptor 0 is free — a daemon's stdin closed, so
// the report file's open gets descriptor 0 — is written and whole all the
// same, and its descriptor closed after. The caller's stdin is set aside for
// the call (a descriptor of its own) and put back.
void check_report_on_descriptor_0(Stack& stack) {
  if (flight_recorder::reports_written() >= flight_recorder::kMaxReportsPerProcess) return;
  const bool had_stdin = ::fcntl(0, F_GETFD) != -1;
  const int saved = had_stdin ? ::fcntl(0, F_DUPFD_CLOEXEC, 3) : -1;
  if (had_stdin && (saved < 0 || ::close(0) != 0)) {
    if (saved >= 0) ::close(saved);
    return;  // stdin cannot be set aside: nothing to check
  }
  const std::string path = flight_recorder::write_report(kReason);
  const bool left_open = ::fcntl(0, F_GETFD) != -1;
  if (had_stdin) {
    ::dup2(saved, 0);
    ::close(saved);
  }
  if (path.empty()) recorder_fail(stack, "write_report() with descriptor 0 free (stdin closed) wrote no report");
  if (left_open) recorder_fail(stack, "write_report() with descriptor 0 free left descriptor 0 open");
  (void)read_recorder_report(stack, path);
}

// A report carries the configs of the slab and large-object allocators made
// since the last enable() (flight_recorder.h): after a fresh enable() with
// none made, the episode's configs are forgotten — a rebuilt run must not
// make its allocators with an earlier recording's configs.
void check_fresh_enable_forgets_layers(Stack& stack, const RecorderCheck& check) {
  enable_episode_recorder(stack, check, kEpisodeRingEvents);
  const std::string path = flight_recorder::write_report("fresh enable");
  if (path.empty()) recorder_fail(stack, "write_report() after a fresh enable() wrote no report");
  const CrashReport report = read_recorder_report(stack, path);
  if (report.slab || report.large) {
    recorder_fail(stack, fmt::format("a report after a fresh enable(), with no allocator made since, carries {}{}{} "
                                     "config of an allocator made under the earlier enable()",
                                     report.slab ? "a slab" : "", report.slab && report.large ? " and " : "",
                                     report.large ? "a large-object" : ""));
  }
}

}  // namespace

void recorder_layer_ops(Stack& stack, RecorderCheck& check, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // the episode's calls must not fail but where due
  faults::SimOsConfig os_config;
  os_config.reservation_bytes = std::size_t{64} << 20;
  os_config.seed = rng.next();
  auto os = faults::SimOs::create(os_config);
  Episode ep{stack, {}};
  if (!os.ok()) ep.setup_failed("SimOs: " + os.error().describe());

  enable_episode_recorder(stack, check, kEpisodeRingEvents);

  SegmentAllocatorConfig segment_config;
  segment_config.region_bytes = kRecorderLayersRegionBytes;
  segment_config.budget_bytes = kRecorderLayersBudgetBytes;
  segment_config.proactive_cleanup = false;  // no async task outlives the episode
  auto segments = SegmentAllocator::create(*os.value(), segment_config);
  if (!segments.ok()) ep.setup_failed("allocator: " + segments.error().describe());

  SlabAllocatorConfig slab_config;
  slab_config.slab_bytes = draw_one<std::size_t>(rng, {std::size_t{16} << 10, std::size_t{64} << 10});
  slab_config.adaptive_magazines = rng.chance(0.5);
  slab_config.magazine_capacity[rng.below(kSlabClassCount)] = draw_one<std::uint32_t>(rng, {1, 1024});
  slab_config.depot_full_magazines_max = draw_one<std::size_t>(rng, {0, 8});
  slab_config.empty_slabs_kept = draw_one<std::size_t>(rng, {0, 1});
  slab_config.max_slabs = draw_one<std::size_t>(rng, {64, std::size_t{1} << 16});
  auto slab = SlabAllocator::create(*segments.value(), slab_config);
  if (!slab.ok()) ep.setup_failed("slab: " + slab.error().describe());
  TxnArenaConfig arena_config;
  arena_config.max_live_arenas = 2;
  auto manager = TxnArenaManager::create(*segments.value(), arena_config);
  if (!manager.ok()) ep.setup_failed("arenas: " + manager.error().describe());
  LargeObjectAllocatorConfig large_config;
  large_config.max_object_bytes = std::size_t{2} << 20;
  large_config.span_bytes = std::size_t{4} << 20;
  large_config.budget_bytes = std::size_t{16} << 20;
  large_config.fit = draw_one<FitPolicy>(rng, {FitPolicy::BestFit, FitPolicy::FirstFit, FitPolicy::WorstFit});
  large_config.decommit_after_ns = draw_one<std::int64_t>(rng, {0, 1'000'000});
  large_config.decommit_check_interval_ns = draw_one<std::int64_t>(rng, {0, 1});
  auto large = LargeObjectAllocator::create(*os.value(), large_config);
  if (!large.ok()) ep.setup_failed("large: " + large.error().describe());

  const CrashSlabConfig slab_due = slab_calls(ep, *slab.value(), rng);
  arena_calls(ep, *manager.value(), rng);
  const CrashLargeConfig large_due = large_calls(ep, *large.value(), rng);

  const std::string path = flight_recorder::write_report(kReason);
  if (path.empty()) recorder_fail(stack, "write_report() wrote no report from a fresh report count");
  const CrashReport report = read_recorder_report(stack, path);
  if (report.kind != kReason || report.region_bytes != kRecorderLayersRegionBytes ||
      report.budget_bytes != kRecorderLayersBudgetBytes) {
    recorder_fail(stack, fmt::format("the report says kind '{}', region {} B, budget {} B: not '{}' with the "
                                     "episode's allocator's {} B and {} B",
                                     report.kind, report.region_bytes, report.budget_bytes, kReason,
                                     kRecorderLayersRegionBytes, kRecorderLayersBudgetBytes));
  }
  check_recorded_layers(stack.oracles, ep.expected, report, /*nested_segment_calls_due=*/true, slab_due, large_due);
  check_report_cut_short(stack, check, kCutReportBytes);
  // The same report again (nothing recorded since), cut one byte before its end.
  std::error_code size_error;
  const std::uintmax_t report_bytes = std::filesystem::file_size(path, size_error);
  if (!size_error && report_bytes > kCutReportBytes) {
    check_report_cut_short(stack, check, static_cast<rlim_t>(report_bytes - 1));
  }
  check_report_on_descriptor_0(stack);

  // The manager's destructor gives back the chunks of the arena still open;
  // with the slab allocator's slabs, nothing of the episode's is live after.
  manager.value().reset();
  slab.value().reset();
  if (const std::size_t live = segments.value()->stats().live_slices(); live != 0) {
    stack.oracles.fail("leak", fmt::format("{} slice(s) live after the episode's arena manager (one arena open) and "
                                           "slab allocator were destroyed", live));
  }
  check_fresh_enable_forgets_layers(stack, check);
  restore_seed_recorder(stack, check);
}

}  // namespace segsim::scenarios
