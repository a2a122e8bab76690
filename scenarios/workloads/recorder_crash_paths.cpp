// The flight recorder's crash paths: see recorder_crash_paths.h.
#include "scenarios/workloads/recorder_crash_paths.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"
#include "core/flight_recorder.h"
#include "core/os.h"
#include "core/platform/sync_clock.h"
#include "core/sanitizers.h"
#include "core/size_class.h"
#include "scenarios/crash_report.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/recorder_fresh_thread_refusals.h"
#include "scenarios/workloads/recorder_ring_drills.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

// The fatal signals flight_recorder.h catches.
constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

const char* raised_signal_name(int signal) {
  switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    default: return "SIGABRT";
  }
}

// What this process writes on stderr while `body` runs: descriptor 2 set
// aside for a pipe and put back. Nullopt when it cannot be set aside.
// Both ends are non-blocking: nothing reads while `body` runs, so a blocking
// write end would hang the drill on output past the pipe's buffer (64 KiB);
// non-blocking, the excess is dropped and the comparison fails instead.
template <typename Body>
std::optional<std::string> stderr_of(Body&& body) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return std::nullopt;
  const int saved = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (saved < 0 || ::dup2(ends[1], STDERR_FILENO) < 0) {
    for (const int fd : {ends[0], ends[1], saved}) {
      if (fd >= 0) ::close(fd);
    }
    return std::nullopt;
  }
  body();
  ::dup2(saved, STDERR_FILENO);
  for (const int fd : {ends[1], saved}) ::close(fd);
  std::string text;
  char buffer[1024];
  for (ssize_t got; (got = ::read(ends[0], buffer, sizeof buffer)) > 0 && text.size() < 65536;) {
    text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(ends[0]);
  return text;
}

// What stderr is due to say when report number `n` is written: one line
// naming it, or nothing past the per-process cap (flight_recorder.h).
std::string announced(const RecorderCheck& check, std::size_t n) {
  if (n >= flight_recorder::kMaxReportsPerProcess) return {};
  return fmt::format("segsim: flight recorder: crash report {}\n", recorder_report_path(check, n));
}

// The release of `stale` recorded again, by a second thread: its ring comes
// after this thread's in the table (this one recorded first since enable()),
// so the report writer scans it last. Its clock is handed back here as a seam
// mutex hands it between two real threads (under the simulator this thread's
// mutexes carry none): what this thread records next is stamped after it.
void record_release_on_second_thread(const Segment& stale) {
  std::uint64_t handed_over = 0;
  std::thread([&] {
    flight_recorder::record_operation(flight_recorder::Op::Release, stale.size(), stale, nullptr);
    platform::sync_clock::releasing(handed_over);
  }).join();
  platform::sync_clock::acquired(handed_over);
}

// An address near the top of the address space (or 0) as text that no
// failure-text scrubbing takes for a raw one: "2^64 - 8".
std::string top_address_text(std::uint64_t address) {
  if (address < (std::uint64_t{1} << 63)) return fmt::format("{:#x}", address);
  return fmt::format("2^64 - {}", ~address + 1);
}

// The pauses a held fatal report makes a signal wait: 1 and 2 (the edges
// of "waits") or up to 4 — each one a real 1 ms.
std::uint32_t draw_hold_pauses(sim::Rng& rng) {
  return draw_one<std::uint32_t>(rng, {1, 2, 1 + static_cast<std::uint32_t>(rng.below(4))});
}

// One more raised `signal` with the recorder on, in a process whose fatal
// report is written or held (`when` says which): the handler writes no report
// (the count stays `reports`) and waits exactly `due_pauses` pauses for the
// report under way.
void raise_unreported(Stack& stack, const flight_recorder::Config& config, int signal, std::size_t reports,
                      std::uint32_t due_pauses, const char* when) {
  enable_recorder_or_fail(stack, config);
  const std::uint32_t paused = flight_recorder::fatal_report_wait_pauses();
  ::raise(signal);
  flight_recorder::disable();
  if (flight_recorder::reports_written() != reports) {
    recorder_fail(stack, fmt::format("a {} raised {} wrote a report", raised_signal_name(signal), when));
  }
  if (const std::uint32_t waited = flight_recorder::fatal_report_wait_pauses() - paused; waited != due_pauses) {
    recorder_fail(stack, fmt::format("a {} raised {} waited {} pause(s) for the fatal report; {} was due",
                                     raised_signal_name(signal), when, waited, due_pauses));
  }
}

// The handler of a raised fatal signal writes one report naming it, turns
// the recorder off and puts the previous handler back; a second fatal signal
// in the process writes none (one report per dying process).
void check_signal_handler(Stack& stack, RecorderCheck& check, int signal, sim::Rng& rng) {
  struct sigaction before_all[std::size(kFatalSignals)] {};
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) ::sigaction(kFatalSignals[i], nullptr, &before_all[i]);
  const auto raised = std::find(std::begin(kFatalSignals), std::end(kFatalSignals), signal);
  SEGSIM_ASSERT(raised != std::end(kFatalSignals), "the signal drill raises a signal the recorder does not catch");
  const struct sigaction& before = before_all[raised - std::begin(kFatalSignals)];
  flight_recorder::Config config = check.config;
  config.catch_signals = true;
  // Held before the process has had a fatal report at all: the hold alone
  // makes a report under way, so the signal waits the limit out and writes
  // none. reset_report_count() ends the hold: the signal below is then the
  // process's first, and is reported.
  const std::uint32_t first_limit = draw_hold_pauses(rng);
  flight_recorder::hold_fatal_report(first_limit);
  raise_unreported(stack, config, signal, flight_recorder::reports_written(), first_limit,
                   "under a hold, before the process's first fatal report");
  if (!flight_recorder::reset_report_count()) recorder_fail(stack, "reset_report_count() after disable() answered false");
  enable_recorder_or_fail(stack, config);
  // A live slice of the run's allocator, recorded since this enable(): the
  // signal's fault address falls inside it (SIGABRT has none), so the
  // report must name it. Its class leans to the edges: the smallest and
  // the largest are the bounds of the report's lookup by class.
  const std::size_t any_class = rng.below(kSizeClassCount);
  const std::size_t bytes = class_bytes(draw_one<std::size_t>(rng, {0, kSizeClassCount - 1, any_class}));
  // First an earlier holder of (most likely) the same slice, released: its
  // events tie with the later ones on their sequence (flight_recorder.h,
  // version 4), and the report must name the slice's latest generation.
  const Segment earlier = allocate_and_release(stack, bytes);
  // Its release once more, in a ring the writer scans after this one and
  // stamped before the allocation below: the latest by sequence, not the last
  // one scanned, is the slice's holder.
  if (!earlier.is_null()) record_release_on_second_thread(earlier);
  Result<Segment> held = stack.allocator.allocate(bytes);
  if (!held.ok()) {  // a fault plan refused it: no slice to point at
    flight_recorder::disable();
    return;
  }
  const Segment segment = held.value();
  // Then two more calls of other slices, recorded later and at other
  // addresses (above or below): the report must still name the slice that
  // holds the address, not the latest event.
  for (int i = 0; i < 2; ++i) allocate_and_release(stack, class_bytes(rng.below(kSizeClassCount)));
  // The slice's first and last bytes (the edges of "holds") or any between.
  const std::uint64_t anywhere = rng.below(segment.size());
  const std::uint64_t offset = draw_one<std::uint64_t>(rng, {0, segment.size() - 1, anywhere});
  // One in three instead (SIGABRT names no address): the top of the address
  // space, where a null pointer indexed backwards faults — in no slice, and
  // with every hex digit of the report's fault_address significant.
  const bool at_top = signal != SIGABRT && rng.below(3) == 0;
  const std::uint64_t top_address = ~std::uint64_t{0} - 8 * rng.below(512);
  const std::uint64_t address =
      at_top ? top_address : static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(segment.data() + offset));
  const std::uint64_t due_address = signal == SIGABRT ? 0 : address;
  const std::size_t written = flight_recorder::reports_written();
  const bool room = written < flight_recorder::kMaxReportsPerProcess;
  const std::optional<std::string> said = stderr_of([&] { send_fault_signal(stack, signal, reinterpret_cast<const void*>(static_cast<std::uintptr_t>(address))); });
  const bool still_on = flight_recorder::on();
  // The handler itself put back every fatal signal's previous handler (a
  // returning SIGSEGV re-runs its instruction under it), before disable().
  const char* not_back = nullptr;
  for (std::size_t i = 0; i < std::size(kFatalSignals) && not_back == nullptr; ++i) {
    struct sigaction now {};
    ::sigaction(kFatalSignals[i], nullptr, &now);
    if (now.sa_sigaction != before_all[i].sa_sigaction) not_back = raised_signal_name(kFatalSignals[i]);
  }
  flight_recorder::disable();  // the handlers out: the sweep's own are back
  if (not_back != nullptr) {
    recorder_fail(stack, fmt::format("after the report of a raised {}, the {} handler is not the one before enable()",
                                     raised_signal_name(signal), not_back));
  }
  if (still_on) recorder_fail(stack, fmt::format("the recorder is on after the report of a {}", raised_signal_name(signal)));
  if (flight_recorder::reports_written() != written + (room ? 1 : 0)) {
    recorder_fail(stack, fmt::format("a raised {} made {} report(s) with {} of {} written", raised_signal_name(signal),
                                     flight_recorder::reports_written() - written, written,
                                     flight_recorder::kMaxReportsPerProcess));
  }
  // Announced on stderr in one line naming the report; past the cap, nothing.
  const std::string due_line = announced(check, written);
  if (said && *said != due_line) {
    recorder_fail(stack, fmt::format("the handler of a raised {} with {} of {} reports written said {:?} on stderr; "
                                     "{:?} was due",
                                     raised_signal_name(signal), written, flight_recorder::kMaxReportsPerProcess,
                                     said->substr(0, 200), due_line));
  }
  if (room) {
    const CrashReport report = read_recorder_report(stack, recorder_report_path(check, written));
    if (report.kind != "signal" || report.signal != signal || report.signal_name != raised_signal_name(signal)) {
      recorder_fail(stack, fmt::format("the report of a raised {} says kind '{}', signal {} '{}'",
                                       raised_signal_name(signal), report.kind, report.signal, report.signal_name));
    }
    check_thread_numbers(stack, report, "the report of a raised signal");  // this thread's ring and the second's
    const bool named = report.fault_slice && report.fault_slice->region == segment.region_id() &&
                       report.fault_slice->slice == segment.slice_index() &&
                       report.fault_slice->generation == segment.generation() && report.fault_slice->offset == offset;
    // No raw address in a failure's text (it is part of its signature): the
    // slice's address as where it lies, the top ones (the same in every
    // process) as they are.
    if (report.fault_address != due_address) {
      recorder_fail(stack, at_top || signal == SIGABRT
                               ? fmt::format("the report of a {} says fault_address {}; {} was due",
                                             raised_signal_name(signal), top_address_text(report.fault_address),
                                             top_address_text(due_address))
                               : fmt::format("the report of a {} raised at offset {} of region {} slice {} says "
                                             "another fault_address",
                                             raised_signal_name(signal), offset, segment.region_id(),
                                             segment.slice_index()));
    }
    if (at_top && report.fault_slice) {
      recorder_fail(stack, fmt::format("the report of a {} raised at {}, in no slice, names region {} slice {}",
                                       raised_signal_name(signal), top_address_text(address), report.fault_slice->region,
                                       report.fault_slice->slice));
    }
    if (!at_top && named != (signal != SIGABRT)) {
      recorder_fail(stack, fmt::format("the report of a {} at offset {} of region {} slice {} generation {} {} it", raised_signal_name(signal),
                                       offset, segment.region_id(), segment.slice_index(), segment.generation(),
                                       named ? "names (no fault address was due)" : "does not name"));
    }
  }
  if (Status released = stack.allocator.release(segment); !released.ok()) {
    recorder_fail(stack, "release of the signal's slice refused: " + released.error().describe());
  }
  struct sigaction after {};
  ::sigaction(signal, nullptr, &after);
  // The handler and its calling convention (libc may add its own flags when it sets an action).
  if (after.sa_sigaction != before.sa_sigaction || (after.sa_flags & SA_SIGINFO) != (before.sa_flags & SA_SIGINFO)) {
    recorder_fail(stack, fmt::format("the {} handler before enable() is not back after disable()", raised_signal_name(signal)));
  }
  // Again: the process has had its fatal report, whole, so the handler
  // returns at once — no pause for a report that is not under way.
  const std::size_t reports = flight_recorder::reports_written();
  raise_unreported(stack, config, signal, reports, 0, "a second time, after a fatal report already whole");
  // A fatal report under way that never finishes (held): a signal waits the
  // wait's limit out, pause by pause, then returns unreported.
  const std::uint32_t limit = draw_hold_pauses(rng);
  flight_recorder::hold_fatal_report(limit);
  raise_unreported(stack, config, signal, reports, limit, "under another thread's report that never finished");
  // The hold ended (hold_fatal_report(0)): the report counts as whole again,
  // so a signal returns at once, unreported.
  flight_recorder::hold_fatal_report(0);
  raise_unreported(stack, config, signal, reports, 0, "after hold_fatal_report(0) ended the hold");
}

// enable() with catch_signals puts the recorder's handler on every fatal
// signal flight_recorder.h names; disable() puts back each handler it found.
void check_handlers_swapped(Stack& stack, const RecorderCheck& check) {
  struct sigaction before[std::size(kFatalSignals)] {};
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) ::sigaction(kFatalSignals[i], nullptr, &before[i]);
  flight_recorder::Config config = check.config;
  config.catch_signals = true;
  enable_recorder_or_fail(stack, config);
  struct sigaction during[std::size(kFatalSignals)] {};
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) ::sigaction(kFatalSignals[i], nullptr, &during[i]);
  flight_recorder::disable();
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) {
    struct sigaction after {};
    ::sigaction(kFatalSignals[i], nullptr, &after);
    if ((during[i].sa_flags & SA_SIGINFO) == 0 || during[i].sa_sigaction == before[i].sa_sigaction) {
      recorder_fail(stack, fmt::format("enable() with catch_signals left the {} handler as it was",
                                       raised_signal_name(kFatalSignals[i])));
    }
    if (after.sa_sigaction != before[i].sa_sigaction ||
        (after.sa_flags & SA_SIGINFO) != (before[i].sa_flags & SA_SIGINFO)) {
      recorder_fail(stack, fmt::format("disable() did not put back the {} handler it found at enable()",
                                       raised_signal_name(kFatalSignals[i])));
    }
  }
}

// A private allocator on its own SimOs and a slice of it released: the
// release of that handle again is the refusal a drill makes on purpose.
struct RefusalRig {
  std::unique_ptr<faults::SimOs> os;
  std::unique_ptr<SegmentAllocator> allocator;  // destroyed before its os
  Segment released;
};

RefusalRig make_refusal_rig(Stack& stack, sim::Rng& rng, const char* name) {
  RefusalRig rig;
  rig.os = make_episode_os(stack, rng, kDrillReservationBytes, name);
  SegmentAllocatorConfig allocator_config;
  allocator_config.region_bytes = kDrillRegionBytes;
  allocator_config.budget_bytes = kDrillBudgetBytes;
  allocator_config.proactive_cleanup = false;  // no worker thread outlives the drill
  rig.allocator = make_episode_allocator(stack, *rig.os, allocator_config, name);
  const EpisodeCalls calls{stack, *rig.allocator, name};
  rig.released = calls.allocate(1 + rng.below(kLargestClassBytes), "a slice");
  calls.release(rig.released, "a live slice");
  return rig;
}

// A directory removed after enable(): a refused release's report cannot be
// created, so nothing is announced on stderr (a report is announced only once
// written), and write_report() writes nothing and says so. Its own enable()
// with refusal reports on, and a private allocator for the refusal.
void check_directory_gone(Stack& stack, RecorderCheck& check, sim::Rng& rng) {
  flight_recorder::Config config = check.config;
  config.dir = make_recorder_dir(stack);
  config.report_refusals = true;
  enable_recorder_or_fail(stack, config);
  RefusalRig rig = make_refusal_rig(stack, rng, "recorder-dir-gone");
  std::error_code ignored;
  std::filesystem::remove_all(config.dir, ignored);
  if (flight_recorder::reports_written() < flight_recorder::kMaxReportsPerProcess) {  // else none is tried
    Status status;
    const std::optional<std::string> said = stderr_of([&] { status = rig.allocator->release(rig.released); });
    if (status.ok()) recorder_fail(stack, "with the recorder's directory removed, a second release of a slice was accepted");
    if (said && !said->empty()) {
      recorder_fail(stack, fmt::format("a refused release whose report could not be created (the recorder's directory "
                                       "removed) said {:?} on stderr; nothing was due",
                                       said->substr(0, 200)));
    }
  }
  const std::string path = flight_recorder::write_report("directory gone");
  flight_recorder::disable();
  if (!path.empty()) recorder_fail(stack, "write_report() into a removed directory returned " + path);
}

// A report whose writes are interrupted before they write (EINTR) asks
// again: up to kMaxWriteInterruptions in a row (drawn: one, some, or exactly
// the limit) it is written whole, a write per full buffer and one for the
// rest; one more in a row and none is written, its temporary file removed.
// From the seed's config, its own enable(), then a drawn number of the run's
// allocations released (none, or 8 to half a ring's worth and at most 64:
// the report one buffer long or several, so a full buffer's flush runs
// mid-report too); the recorder is off afterwards.
void check_interrupted_writes(Stack& stack, const RecorderCheck& check, sim::Rng& rng) {
  if (flight_recorder::reports_written() + 2 > flight_recorder::kMaxReportsPerProcess) return;
  enable_recorder_or_fail(stack, check.config);
  const std::size_t most = std::min<std::size_t>(check.ring_events / 2, 64);
  const std::size_t released = rng.chance(0.2) ? 0 : 8 + rng.below(most - 7);
  for (std::size_t i = 0; i < released; ++i) allocate_and_release(stack, class_bytes(0));  // the events, not the bytes
  const auto some = static_cast<std::uint32_t>(1 + rng.below(kMaxWriteInterruptions));
  const std::uint32_t asked_again = draw_one<std::uint32_t>(rng, {1, some, kMaxWriteInterruptions});
  flight_recorder::interrupt_report_writes(asked_again);
  const std::uint64_t writes_before = flight_recorder::report_writes();
  const std::string path = flight_recorder::write_report("writes interrupted");
  if (path.empty()) {
    recorder_fail(stack, fmt::format("write_report() with {} write(s) interrupted in a row (the limit {}) wrote "
                                     "no report", asked_again, kMaxWriteInterruptions));
  }
  // Written through its buffer: a write per full buffer and one for the rest
  // (a file's write is not short here; the interrupted ones are not counted).
  // Exactly: a write more is a buffer flushed before it was full (or twice).
  std::error_code size_error;
  const std::uintmax_t report_bytes = std::filesystem::file_size(path, size_error);
  const std::uint64_t writes = flight_recorder::report_writes() - writes_before;
  constexpr std::size_t kBufferBytes = flight_recorder::kReportBufferBytes;
  const std::uint64_t buffers = (report_bytes + kBufferBytes - 1) / kBufferBytes;
  if (!size_error && writes != buffers) {
    recorder_fail(stack, fmt::format("a report of {} bytes took {} write(s); {} buffer(s) of {} bytes were due",
                                     report_bytes, writes, buffers, kBufferBytes));
  }
  if (const CrashReport report = read_recorder_report(stack, path); report.kind != "writes interrupted") {
    recorder_fail(stack, fmt::format("the report written through {} interrupted write(s) says kind '{}'",
                                     asked_again, report.kind));
  }
  // Report number n's files, with their size and time: a run's earlier
  // reports (before the count was reset) may have used the number.
  const std::size_t n = flight_recorder::reports_written();
  auto files_of_n = [&] {
    std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> files;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(check.dir, ignored)) {
      const std::string name = entry.path().filename().string();
      if (name.find(fmt::format("-{}-{}.", ::getpid(), n)) == std::string::npos) continue;
      files[name] = {entry.file_size(ignored), entry.last_write_time(ignored)};
    }
    return files;
  };
  const auto before = files_of_n();
  flight_recorder::interrupt_report_writes(kMaxWriteInterruptions + 1);
  const std::string given_up = flight_recorder::write_report("writes interrupted too often");
  flight_recorder::interrupt_report_writes(0);
  flight_recorder::disable();
  std::vector<std::string> written;
  for (const auto& [name, stamp] : files_of_n()) {
    if (auto was = before.find(name); was == before.end() || was->second != stamp) written.push_back(name);
  }
  if (!given_up.empty() || !written.empty()) {
    recorder_fail(stack, fmt::format("write_report() with {} writes interrupted in a row (the limit {}) returned "
                                     "'{}' and wrote report number {}'s file(s) [{}]; none was due",
                                     kMaxWriteInterruptions + 1, kMaxWriteInterruptions, given_up, n,
                                     fmt::join(written, ", ")));
  }
}

// The per-process cap: until it, each report is written at its number's
// path — a refusal's announced in one stderr line naming it, write_report()'s
// returned; past it, none: a refusal announces nothing, write_report()
// returns an empty path, no file, the count stays at the cap. Its own
// enable() with refusal reports on; afterwards the recorder is off and the
// count fresh.
void check_report_cap(Stack& stack, const RecorderCheck& check, sim::Rng& rng) {
  flight_recorder::Config config = check.config;
  config.report_refusals = true;
  enable_recorder_or_fail(stack, config);
  RefusalRig rig = make_refusal_rig(stack, rng, "recorder-cap");
  // A refused release of the released handle, with what it wrote on stderr.
  auto refuse = [&](const char* when) {
    const std::size_t before = flight_recorder::reports_written();
    Status status;
    const std::optional<std::string> said = stderr_of([&] { status = rig.allocator->release(rig.released); });
    if (status.ok()) recorder_fail(stack, fmt::format("{}: a second release of a slice was accepted", when));
    if (!said) return;  // stderr could not be set aside: the count alone
    const bool room = before < flight_recorder::kMaxReportsPerProcess;
    const std::string due = announced(check, before);
    if (*said != due || flight_recorder::reports_written() != before + (room ? 1 : 0)) {
      recorder_fail(stack, fmt::format("{}: a refused release with {} of {} reports written said {:?} on stderr and "
                                       "left the count at {}; {:?} was due",
                                       when, before, flight_recorder::kMaxReportsPerProcess,
                                       said->substr(0, 200), flight_recorder::reports_written(), due));
    }
  };
  refuse("within the cap");
  for (std::size_t n = flight_recorder::reports_written(); n < flight_recorder::kMaxReportsPerProcess; ++n) {
    const std::string path = flight_recorder::write_report("up to the cap");
    if (path != recorder_report_path(check, n) || !std::filesystem::exists(path)) {
      recorder_fail(stack, fmt::format("write_report() number {} of {} returned '{}' ({}); {} was due", n + 1,
                                       flight_recorder::kMaxReportsPerProcess, path,
                                       std::filesystem::exists(path) ? "a file" : "no file",
                                       recorder_report_path(check, n)));
    }
  }
  refuse("past the cap");
  const std::string past = flight_recorder::write_report("past the cap");
  const std::string next = recorder_report_path(check, flight_recorder::kMaxReportsPerProcess);
  if (!past.empty() || std::filesystem::exists(next) ||
      flight_recorder::reports_written() != flight_recorder::kMaxReportsPerProcess) {
    recorder_fail(stack, fmt::format("write_report() past the cap of {} reports returned '{}', {} {}, and "
                                     "reports_written() says {}",
                                     flight_recorder::kMaxReportsPerProcess, past,
                                     std::filesystem::exists(next) ? "wrote" : "did not write", next,
                                     flight_recorder::reports_written()));
  }
  rig.allocator.reset();
  flight_recorder::disable();
  flight_recorder::reset_report_count();
}

}  // namespace

void recorder_crash_paths(Stack& stack, RecorderCheck& check, sim::Rng& rng, bool all_paths) {
  // Only where refusals write no reports: the per-process cap of 8 is then
  // this episode's alone, so each report it expects is due.
  if (check.report_refusals) return;
  // From a fresh report count and a process whose fatal signal is not yet
  // reported: a run before this one in the process (a replay in a test, a
  // worker's earlier seed) must not change what this seed sees.
  flight_recorder::disable();
  flight_recorder::reset_report_count();
  check_handlers_swapped(stack, check);
#if !defined(SEGSIM_HAS_TSAN)  // TSan defers signals: the handler would not run inside the send
  check_signal_handler(stack, check, kFatalSignals[rng.below(std::size(kFatalSignals))], rng);
#else
  (void)rng;
#endif
  if (!all_paths) {
    enable_recorder_or_fail(stack, check.config);  // as after the other paths
    check.rings_refused = 0;                         // counted from this enable()
    return;
  }
  check_directory_gone(stack, check, rng);
  check_interrupted_writes(stack, check, rng);
  refused_on_fresh_threads(stack, check, rng);
  check_report_cap(stack, check, rng);
  recorder_ring_drills(stack, check, rng);
}

}  // namespace segsim::scenarios
