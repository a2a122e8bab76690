// recorder_ops.h: the flight recorder on in a sweep, its promises checked.
#include "scenarios/workloads/recorder_ops.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/flight_recorder.h"
#include "core/leaf_page.h"
#include "core/leaf_page_pool.h"
#include "scenarios/crash_report.h"
#include "scenarios/safe_file.h"
#include "scenarios/workloads/recorder_ring_drills.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {
constexpr const char* kEndReason = "end of run";
}  // namespace

RecorderCheck::~RecorderCheck() {
  flight_recorder::disable();
  std::error_code ignored;
  if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
}

// A report's path names the process (its id) and a temporary directory of
// random name: written as PID and RECORDER_DIR, the message reads the same
// in every process and on every machine that replays the failure.
void recorder_fail(Stack& stack, const std::string& message) {
  static const std::regex dir(R"([^\s'"]*segsim-recorder-[A-Za-z0-9]{6})");
  static const std::regex pid(R"(segsim-crash-[0-9]+-)");
  const std::string stable = std::regex_replace(std::regex_replace(message, dir, "RECORDER_DIR"), pid,
                                                "segsim-crash-PID-");
  stack.oracles.fail("flight-recorder", stable);
}

CrashReport read_recorder_report(Stack& stack, const std::string& path) {
  std::string line;
  auto report = read_crash_report(path, &line);
  if (!report.ok()) recorder_fail(stack, fmt::format("the recorder's report does not read back: {}", line));
  if (const std::string broken = crash_report_broken_promise(report.value()); !broken.empty()) {
    recorder_fail(stack, "the recorder's report breaks a promise of its reader: " + broken);
  }
  return std::move(report.value());
}

Segment allocate_and_release(Stack& stack, std::size_t bytes) {
  Result<Segment> got = stack.allocator.allocate(bytes);
  if (!got.ok()) return Segment();
  if (Status released = stack.allocator.release(got.value()); !released.ok()) {
    recorder_fail(stack, "release of a live slice refused: " + released.error().describe());
  }
  return got.value();
}

std::string recorder_report_path(const RecorderCheck& check, std::size_t n) {
  return fmt::format("{}/segsim-crash-{}-{}.json", check.dir, ::getpid(), n);
}

void enable_recorder_or_fail(Stack& stack, const flight_recorder::Config& config) {
  // The earlier enable()'s rings stay reachable: each one in the table joins
  // the retired list (no fiber enables meanwhile: enable() is no scheduling point).
  const std::size_t retired_before = flight_recorder::rings_retired();
  const std::uint32_t held = flight_recorder::rings_held();
  std::string line;
  if (!flight_recorder::enable(config, &line)) recorder_fail(stack, "enable() refused a valid config: " + line);
  if (const std::size_t retired = flight_recorder::rings_retired(); retired != retired_before + held) {
    recorder_fail(stack, fmt::format("enable() left {} rings of earlier enables reachable; {} were, and the "
                                     "table held {} more",
                                     retired, retired_before, held));
  }
}

void enable_episode_recorder(Stack& stack, const RecorderCheck& check, std::size_t ring_events, bool catch_signals) {
  // reset_report_count() is refused while the recorder is on, done while it is off.
  if (flight_recorder::on() && flight_recorder::reset_report_count()) {
    recorder_fail(stack, "reset_report_count() while the recorder is on answered true");
  }
  flight_recorder::disable();
  if (!flight_recorder::reset_report_count()) {
    recorder_fail(stack, "reset_report_count() after disable() answered false");
  }
  flight_recorder::Config config = check.config;
  config.ring_events = ring_events;
  config.catch_signals = catch_signals;
  config.report_refusals = false;
  enable_recorder_or_fail(stack, config);
}

void send_fault_signal(Stack& stack, int signal, const void* address) {
  // With no handler the raise would end the sweep, not fail an oracle: a
  // disable() that did not put back the handler it found leaves the default.
  struct sigaction now {};
  ::sigaction(signal, nullptr, &now);
  if ((now.sa_flags & SA_SIGINFO) == 0 && (now.sa_handler == SIG_DFL || now.sa_handler == SIG_IGN)) {
    recorder_fail(stack, fmt::format("signal {} is about to be raised with no handler on it (the default or "
                                     "ignored): the recorder's, or the one it found at enable(), was due", signal));
  }
  siginfo_t info{};
  info.si_signo = signal;
  info.si_code = SI_QUEUE;
  info.si_addr = const_cast<void*>(address);
  ::syscall(SYS_rt_tgsigqueueinfo, ::getpid(), ::gettid(), signal, &info);
}

void restore_seed_recorder(Stack& stack, const RecorderCheck& check) {
  flight_recorder::disable();
  enable_recorder_or_fail(stack, check.config);
}

std::string make_recorder_dir(Stack& stack) {
  std::string why;
  Result<std::string> folder = make_temp_folder("segsim-recorder", &why);
  if (!folder.ok()) recorder_fail(stack, why);
  return folder.value();
}

namespace {

// An invalid config is refused with one line, and the recorder stays off.
void check_refused_config(Stack& stack, const flight_recorder::Config& config, const char* what) {
  std::string line;
  if (flight_recorder::enable(config, &line)) recorder_fail(stack, fmt::format("enable() accepted {}", what));
  if (line.empty()) recorder_fail(stack, fmt::format("enable() refused {} without a line", what));
  if (flight_recorder::on()) recorder_fail(stack, fmt::format("the recorder is on after enable() refused {}", what));
}

// A second thread's page clear in the final report (finish_recorder).
constexpr std::uint64_t kSecondThreadPage = 0x7e2d0000;

// The process-start switch, as the process calls it: what it wrote to its
// line descriptor (a pipe here, standard error at start) and whether the
// recorder went on. The pipe holds far more than a line; both ends are closed.
std::string environment_switch(Stack& stack, const char* dir, const char* build_id, bool& enabled) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) {
    stack.oracles.fail("exception", std::string("recorder environment switch: pipe: ") + std::strerror(errno));
  }
  enabled = flight_recorder::enable_from_environment(dir, build_id, ends[1]);
  ::close(ends[1]);
  std::string written;
  char buffer[1024];
  for (ssize_t n; (n = ::read(ends[0], buffer, sizeof buffer)) > 0;) written.append(buffer, static_cast<std::size_t>(n));
  ::close(ends[0]);
  return written;
}

// The process-start switch (SEGSIM_FLIGHT_RECORDER, SEGSIM_BUILD_ID) with
// values an environment may hold: unset or empty leaves the recorder off
// without a word; any other directory turns it on, or is refused in one line
// "segsim: flight recorder off: …" naming it. One character (the root:
// writable or not, by who runs the sweep), a directory that does not exist
// (refused whoever runs it) and the seed's own directory (writable: on).
void check_environment_switch(Stack& stack, const std::string& dir) {
  flight_recorder::disable();
  for (const char* value : {static_cast<const char*>(nullptr), ""}) {
    bool enabled = false;
    const std::string line = environment_switch(stack, value, "segsim-sweep", enabled);
    if (enabled || flight_recorder::on() || !line.empty()) {
      flight_recorder::disable();
      recorder_fail(stack, fmt::format("SEGSIM_FLIGHT_RECORDER {} turned the recorder on or said '{}'",
                                       value == nullptr ? "unset" : "empty", line));
    }
  }
  constexpr std::string_view kOffPrefix = "segsim: flight recorder off: ";
  const std::string missing = dir + "/no-such-directory";
  for (const std::string& value : {std::string("/"), missing, dir}) {
    bool enabled = false;
    const std::string line = environment_switch(stack, value.c_str(), nullptr, enabled);
    const bool on = flight_recorder::on();
    flight_recorder::disable();
    const bool one_line = line.starts_with(kOffPrefix) && line.find('\n') == line.size() - 1;
    const bool explained = one_line && line.find("'" + value + "'") != std::string::npos;
    if (enabled != on || (enabled && !line.empty()) || (!enabled && !explained) || (value == dir && !enabled) ||
        (value == missing && enabled)) {
      recorder_fail(stack, fmt::format("SEGSIM_FLIGHT_RECORDER={} ({}) answered {} with the recorder {} and wrote '{}'",
                                       value,
                                       value == dir ? "a writable directory"
                                                    : value == missing ? "no directory" : "a directory maybe writable",
                                       enabled, on ? "on" : "off", line));
    }
  }
}

// The refused call is also one of its thread's recorded events, the same in
// every field (its sequence number, class, bytes, allocator and depth too):
// the ring is what a reader follows back from the refusal.
bool in_refusing_thread(const CrashReport& report, const CrashEvent& call) {
  for (const CrashThread& thread : report.threads) {
    if (thread.thread != report.refused_thread) continue;
    if (std::find(thread.events.begin(), thread.events.end(), call) != thread.events.end()) return true;
  }
  return false;
}

}  // namespace

void check_thread_numbers(Stack& stack, const CrashReport& report, std::string_view which) {
  std::vector<std::uint64_t> numbers;
  numbers.reserve(report.threads.size());
  for (const CrashThread& thread : report.threads) numbers.push_back(thread.thread);
  std::sort(numbers.begin(), numbers.end());
  // The message names no number the report holds: a wrong one may come from
  // the process's earlier enables, which a replay in a fresh process lacks.
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] == i) continue;
    recorder_fail(stack, fmt::format("{} does not number its {} threads 0..{}, each once ({}): with no ring taken "
                                     "over since enable(), the numbers start again at 0",
                                     which, numbers.size(), numbers.size() - 1,
                                     i > 0 && numbers[i] == numbers[i - 1] ? "two alike"
                                                                           : fmt::format("none is {}", i)));
  }
}

namespace {
// A refused call's event carries the handle's address as given (read here
// in-process, never compared across processes).
bool is_handle_address(const CrashEvent& e, const Segment& handle) {
  return e.address.value == reinterpret_cast<std::uintptr_t>(handle.data());
}
}  // namespace

bool names_refused_call(const CrashReport& report, const Segment& handle, flight_recorder::Op op, Errc code) {
  return report.kind == "refused" && report.refused && report.refused->op == op &&
         report.refused->region == handle.region_id() && report.refused->slice == handle.slice_index() &&
         report.refused->generation == handle.generation() && report.refused->error == code &&
         report.refused->allocator == handle.allocator_id() && is_handle_address(*report.refused, handle);
}

bool names_refusal(const CrashReport& report, const Segment& handle, flight_recorder::Op op, Errc code) {
  return names_refused_call(report, handle, op, code) && in_refusing_thread(report, *report.refused);
}

std::string describe_refusal(const CrashReport& report, const Segment& handle) {
  if (!report.refused) return fmt::format("no refused call (kind '{}')", report.kind);
  const CrashEvent& e = *report.refused;
  // The allocator and address only as the handle's or not: a raw address is
  // never in a failure's text, and an allocator's id hangs on what the
  // process made before this run.
  return fmt::format("the {} of region {} slice {} generation {} ({}){}{}{}", flight_recorder::op_name(e.op), e.region,
                     e.slice, e.generation, e.error ? errc_name(*e.error) : std::string_view("no error"),
                     e.allocator == handle.allocator_id() ? "" : ", of another allocator than the handle's",
                     is_handle_address(e, handle) ? "" : ", at an address other than the handle's",
                     in_refusing_thread(report, e) ? "" : ", not among its thread's recorded events");
}

std::shared_ptr<RecorderCheck> start_recorder(Stack& stack, sim::Rng& rng) {
  if (!rng.chance(0.5)) return nullptr;
  auto check = std::make_shared<RecorderCheck>();
  check->dir = make_recorder_dir(stack);
  check_environment_switch(stack, check->dir);
  flight_recorder::Config config;
  config.dir = check->dir;
  config.catch_signals = false;
  config.build_id = "segsim-sweep";
  config.ring_events = 15;
  check_refused_config(stack, config, "15 ring events");
  config.ring_events = 65537;
  check_refused_config(stack, config, "65537 ring events");
  config.ring_events = 512;
  config.dir = check->dir + "/missing";
  check_refused_config(stack, config, "a missing directory");
  config.dir = "";
  check_refused_config(stack, config, "an empty directory name");
  config.dir = check->dir;
  // Boundaries: the smallest ring, one past a power of two (rounded up), the largest.
  config.ring_events = draw_one<std::size_t>(rng, {16, 17, 100, 65536});
  config.report_refusals = rng.chance(0.5);
  enable_recorder_or_fail(stack, config);
  if (!flight_recorder::on()) recorder_fail(stack, "enable() succeeded and the recorder is off");
  check->config = config;
  check->ring_events = std::bit_ceil(config.ring_events);
  check->report_refusals = config.report_refusals;
  check->final_form = rng.chance(0.5);
  if (check->final_form) {  // empty, short, exactly the limit, past it (cut)
    const std::size_t length = draw_one<std::size_t>(rng, {0, 17, flight_recorder::kMaxMessageBytes,
                                                           flight_recorder::kMaxMessageBytes + 1,
                                                           flight_recorder::kMaxMessageBytes + 9});
    // Characters the report must escape first (a quote, a backslash, control
    // characters: \u00XX), then letters: the message must read back as given.
    constexpr std::string_view kMessageChars = "\"\\\n\t\x01\x1f" "abcdefghijklmnopqrstuvwxyz";
    for (std::size_t i = 0; i < length; ++i) check->final_message.push_back(kMessageChars[i % kMessageChars.size()]);
  }
  // The second thread's calls (finish_recorder) at its ring's edges: one
  // short of full, full, one and three past (wrapped). One call for the
  // largest ring: 65,539 would make every such seed's report megabytes long.
  const std::size_t ring = check->ring_events;
  check->second_thread_calls = ring <= 4096 ? draw_one<std::size_t>(rng, {ring - 1, ring, ring + 1, ring + 3}) : 1;
  return check;
}

void recorder_before_refusal(RecorderCheck& check) { check.reports_before = flight_recorder::reports_written(); }

void recorder_after_refusal(Stack& stack, RecorderCheck& check, const Segment& handle, bool release, Errc code) {
  const std::size_t after = flight_recorder::reports_written();
  if (!check.report_refusals || check.reports_before >= flight_recorder::kMaxReportsPerProcess) {
    if (after != check.reports_before && !check.report_refusals) {
      recorder_fail(stack, fmt::format("{} reports written with report_refusals off", after - check.reports_before));
    }
    return;
  }
  if (after <= check.reports_before) recorder_fail(stack, "a refused call wrote no report");
  const auto op = release ? flight_recorder::Op::Release : flight_recorder::Op::Reset;
  // Other fibers may have been refused during the call: one of the new reports is this one.
  std::string named;
  for (std::size_t n = check.reports_before; n < after; ++n) {
    const CrashReport report = read_recorder_report(stack, recorder_report_path(check, n));
    if (names_refusal(report, handle, op, code)) return;
    named = describe_refusal(report, handle);
  }
  // Other fibers' refusals during the call may have taken the last of the reports.
  if (after >= flight_recorder::kMaxReportsPerProcess) return;
  recorder_fail(stack, fmt::format("no report of {} names the refused {} of region {} slice {} generation {} ({}); "
                                   "the last names {}", after - check.reports_before, flight_recorder::op_name(op),
                                   handle.region_id(), handle.slice_index(), handle.generation(), errc_name(code), named));
}

void recorder_page_ops(Stack& stack, RecorderCheck& check) {
  constexpr std::uint64_t kPageId = 0x5ec0de;
  Result<LeafPage*> page = stack.pool.borrow(kPageId);
  if (!page.ok()) {  // a fault plan may refuse the page's memory: nothing borrowed, nothing to check
    if (page.error().code != Errc::OutOfMemory && page.error().code != Errc::OutOfBudget) {
      recorder_fail(stack, "borrow of a page refused: " + page.error().describe());
    }
    return;
  }
  std::vector<std::byte> value(1 + stack.seed % 300);
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<std::byte>(i * 7 + 1);
  Status set = page.value()->set_slot(0, value);
  if (set.ok()) {
    const std::span<const std::byte> got = page.value()->get_slot(0);
    if (!std::equal(got.begin(), got.end(), value.begin(), value.end())) {
      recorder_fail(stack, fmt::format("slot 0 reads {} bytes, not the {} written", got.size(), value.size()));
    }
  } else if (set.error().code != Errc::OutOfMemory && set.error().code != Errc::OutOfBudget) {
    recorder_fail(stack, "set_slot refused: " + set.error().describe());
  }
  if (Status back = stack.pool.give_back(page.value()); !back.ok()) {
    recorder_fail(stack, "give_back of a borrowed page refused: " + back.error().describe());
  }
  check.page_id = kPageId;
}

void finish_recorder(Stack& stack, RecorderCheck& check,
                     const std::vector<std::pair<std::size_t, std::size_t>>& allocators) {
  // A second thread's calls: a report keeps every thread's ring, not only the
  // first one's (the conductor's). Not after a takeover of rings (the crash
  // paths): this thread would take over the oldest exited one. Its calls
  // fill its ring to an edge, or wrap it: the report keeps exactly what the
  // ring holds (the kept-events check below), the last call among them.
  const bool second_thread = check.reuse_page == 0 && flight_recorder::on();
  if (second_thread) {
    std::thread([calls = check.second_thread_calls] {
      for (std::size_t i = 0; i < calls; ++i) {
        flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kSecondThreadPage, 0, 0, nullptr);
      }
    }).join();
  }
  const bool room = flight_recorder::reports_written() < flight_recorder::kMaxReportsPerProcess;
  const std::string path = check.final_form ? flight_recorder::write_final_report(kEndReason, check.final_message)
                                             : flight_recorder::write_report(kEndReason);
  // write_final_report stops the recording (its report or not): the recorder is off.
  if (check.final_form && flight_recorder::on()) recorder_fail(stack, "the recorder is on after write_final_report()");
  if (path.empty() == room) {
    recorder_fail(stack, fmt::format("write_report() {} with {} of {} reports written", room ? "failed" : "wrote one",
                                     flight_recorder::reports_written(), flight_recorder::kMaxReportsPerProcess));
  }
  if (room) {
    const CrashReport report = read_recorder_report(stack, path);
    const std::pair<std::size_t, std::size_t> named{report.region_bytes, report.budget_bytes};
    if (report.kind != kEndReason || std::find(allocators.begin(), allocators.end(), named) == allocators.end()) {
      recorder_fail(stack, fmt::format("the final report says kind '{}', region {} B, budget {} B: not '{}' with "
                                       "the region and budget of one of the run's {} allocators",
                                       report.kind, report.region_bytes, report.budget_bytes, kEndReason, allocators.size()));
    }
    const std::string due_message = check.final_message.substr(0, flight_recorder::kMaxMessageBytes);
    if (check.final_form && report.message != due_message) {
      recorder_fail(stack, fmt::format("the final report's message has {} bytes; the {} given, cut at {}, are {}",
                                       report.message.size(), check.final_message.size(),
                                       flight_recorder::kMaxMessageBytes, due_message.size()));
    }
    if (check.page_id != 0) {  // the page layer's last operations: borrow and give-back of that page
      bool borrowed = false, given_back = false;
      for (const CrashThread& thread : report.threads) {
        for (const CrashEvent& event : thread.events) {
          if (event.page != check.page_id || event.error) continue;
          borrowed |= event.op == flight_recorder::Op::PoolBorrow;
          given_back |= event.op == flight_recorder::Op::PoolGiveBack;
        }
      }
      if (!borrowed || !given_back) {
        recorder_fail(stack, fmt::format("the final report keeps {} of page {:#x}'s borrow and give-back",
                                         borrowed || given_back ? "one" : "neither", check.page_id));
      }
    }
    if (check.reuse_page != 0) {
      check_ring_taken_over(stack, check, report);
    } else {
      check_thread_numbers(stack, report, "the final report");
    }
    if (second_thread) {
      const auto second_call = [](const CrashThread& thread) {
        return std::any_of(thread.events.begin(), thread.events.end(), [](const CrashEvent& event) {
          return event.op == flight_recorder::Op::PageClear && event.page == kSecondThreadPage;
        });
      };
      if (std::none_of(report.threads.begin(), report.threads.end(), second_call)) {
        recorder_fail(stack, fmt::format("the final report's {} thread(s) lost the call of a second thread (page {:#x})",
                                         report.threads.size(), kSecondThreadPage));
      }
    }
    for (const CrashThread& thread : report.threads) {
      for (const CrashEvent& event : thread.events) {
        if (event.op != flight_recorder::Op::PageClear) continue;
        if (check.ring_alloc_failed_page != 0 &&
            (event.page == check.ring_alloc_failed_page || event.page == check.ring_alloc_failed_page + 1)) {
          recorder_fail(stack, fmt::format("the final report keeps a call (page {:#x}) of a thread whose ring could "
                                           "not be allocated", event.page));
        }
        if (check.after_exit_page != 0 && event.page == check.after_exit_page) {
          recorder_fail(stack, fmt::format("the final report keeps a call (page {:#x}) a thread made after its exit "
                                           "marked its ring", event.page));
        }
      }
    }
    if (report.threads_not_recorded != check.rings_refused) {
      recorder_fail(stack, fmt::format("the final report counts {} threads not recorded; {} were refused a ring",
                                       report.threads_not_recorded, check.rings_refused));
    }
    stack.oracles.check_recorded_addresses(report);  // the stack allocator's events
    for (const CrashThread& thread : report.threads) {  // sequence order is checked by the reader
      const std::uint64_t kept = std::min<std::uint64_t>(thread.recorded, check.ring_events);
      if (thread.events.size() != kept) {
        recorder_fail(stack, fmt::format("thread {} kept {} events of {} recorded; a ring of {} keeps {}",
                                         thread.thread, thread.events.size(), thread.recorded, check.ring_events, kept));
      }
    }
  }
  flight_recorder::disable();
  if (flight_recorder::on()) recorder_fail(stack, "the recorder is on after disable()");
  // Off, neither form writes: an empty path and the count unchanged.
  const std::size_t written_before_off = flight_recorder::reports_written();
  if (!flight_recorder::write_report(kEndReason).empty()) recorder_fail(stack, "write_report() wrote a report while off");
  if (!flight_recorder::write_final_report(kEndReason, check.final_message).empty() ||
      flight_recorder::reports_written() != written_before_off || flight_recorder::on()) {
    recorder_fail(stack, "write_final_report() while off wrote a report or turned the recorder on");
  }
}

}  // namespace segsim::scenarios
