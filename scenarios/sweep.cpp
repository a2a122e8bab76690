// run_sweep: the parent's loop over a shard's seeds — keep up to `jobs`
// worker processes (sweep_child.h), hand each idle one the next seed, wait
// for their lines, deaths or deadlines, record each seed, replace workers
// that died or retired, checkpoint the results so far, stop on a signal.
#include "scenarios/sweep.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/flight_recorder.h"
#include "core/probe.h"
#include "scenarios/in_child.h"
#include "scenarios/safe_file.h"
#include "scenarios/sweep_child.h"
#include "scenarios/sweep_progress.h"

namespace segsim::scenarios {

namespace {

using sweep_detail::Child;
using sweep_detail::Clock;

constexpr std::uint32_t kMaxJobs = 64;
// A parent wakes at least this often while workers run: to reap workers
// whose socket closed, enforce time limits and refresh the progress line.
constexpr int kMaxPollMillis = 200;
constexpr int kReapPollMillis = 5;

Clock::duration to_clock(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// The results so far, in seed order: the done seeds of a resumed sweep and
// this run's. Probe and fault point totals by name, zeros included.
SweepResult collect(const SweepSpec& spec, const std::vector<std::optional<SeedResult>>& results,
                    const sweep_detail::CountTotals& totals, Clock::time_point started) {
  SweepResult result = sweep_settings(spec.base);
  for (std::size_t i = 0; i < totals.probes.size(); ++i) {
    result.probes.push_back(ProbeCount{std::string(probes::kProbes[i].name), totals.probes[i]});
  }
  for (std::size_t i = 0; i < totals.fault_asks.size(); ++i) {
    const std::string name(fault_points::kFaultPoints[i].name);
    result.fault_point_asks.push_back(ProbeCount{name, totals.fault_asks[i]});
    result.fault_point_fires.push_back(ProbeCount{name, totals.fault_fires[i]});
  }
  double earlier_seconds = 0;
  if (spec.done != nullptr) {
    result.seeds = spec.done->seeds;
    earlier_seconds = spec.done->wall_seconds;
    add_counts_by_name(result.probes, spec.done->probes);
    add_counts_by_name(result.fault_point_asks, spec.done->fault_point_asks);
    add_counts_by_name(result.fault_point_fires, spec.done->fault_point_fires);
  }
  for (const std::optional<SeedResult>& seed_result : results) {
    if (seed_result) result.seeds.push_back(*seed_result);
  }
  std::sort(result.seeds.begin(), result.seeds.end(),
            [](const SeedResult& a, const SeedResult& b) { return a.seed < b.seed; });
  result.wall_seconds = earlier_seconds + std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

// The shard's seeds less those a resumed sweep already has.
std::vector<std::uint64_t> seeds_to_run(const SweepSpec& spec) {
  std::vector<std::uint64_t> seeds = shard_seeds(spec.seeds, spec.shard);
  if (spec.done == nullptr || spec.done->seeds.empty()) return seeds;
  std::set<std::uint64_t> done;
  for (const SeedResult& s : spec.done->seeds) done.insert(s.seed);
  std::erase_if(seeds, [&](std::uint64_t seed) { return done.count(seed) > 0; });
  return seeds;
}

class SweepRun {
 public:
  SweepRun(const SweepSpec& spec, std::ostream& progress, bool terminal)
      : spec_(spec),
        progress_(progress),
        seeds_(seeds_to_run(spec)),
        jobs_(std::clamp<std::uint32_t>(spec.jobs, 1, kMaxJobs)),
        // The recorder's crash reports are numbered per process: one seed each.
        seeds_per_worker_(flight_recorder::on() ? 1 : std::clamp<std::uint32_t>(spec.seeds_per_worker, 1,
                                                                                  kMaxSeedsPerWorker)),
        timeout_(to_clock(spec.seed_timeout_seconds)),
        checkpoint_every_(to_clock(std::max(0.0, spec.checkpoint_seconds))),
        checkpoint_every_now_(checkpoint_every_),
        bar_(progress, terminal, spec.base.scenario, seeds_.size()),
        results_(seeds_.size()),
        totals_{std::vector<std::uint64_t>(probes::kProbes.size(), 0),
                std::vector<std::uint64_t>(fault_points::kFaultPoints.size(), 0),
                std::vector<std::uint64_t>(fault_points::kFaultPoints.size(), 0)} {
    running_.reserve(jobs_ + 1);
  }

  SweepResult run() {
    while (true) {
      if (stop_requested() || !setup_error_.empty()) stopping_ = true;
      assign_seeds();
      if (stopping_ || next_ >= seeds_.size()) retire_idle_workers();
      if (running_.empty()) {
        if (stopping_ || next_ >= seeds_.size()) break;
        continue;  // a start failed with nothing running: try the next seed
      }
      if (stop_requested()) {
        kill_all();
        break;
      }
      wait_for_children();
      if (stop_requested()) continue;  // the kill above, before anything is reaped
      for (Child& child : running_) {
        sweep_detail::relay_stderr(child);  // before the answer: what the seed wrote is its own
        if (!child.eof) sweep_detail::read_available(child);
        take_answer(child);
      }
      reap_children();
    }
    bar_.finish();
    SweepResult result = collect(spec_, results_, totals_, started_);
    result.interrupted = stop_requested() ? static_cast<int>(*spec_.stop_signal) : 0;
    result.environment_error = setup_error_;
    return result;
  }

 private:
  bool stop_requested() const { return spec_.stop_signal != nullptr && *spec_.stop_signal != 0; }

  void record(std::size_t index, SeedResult seed_result) {
    if (seed_result.outcome != SeedOutcome::Passed && spec_.stop_on_failure) stopping_ = true;
    bar_.seed_done(seed_result);
    results_[index] = std::move(seed_result);
    if (spec_.checkpoint && Clock::now() - last_checkpoint_ >= checkpoint_every_now_) {
      const auto before = Clock::now();
      spec_.checkpoint(collect(spec_, results_, totals_, started_));
      last_checkpoint_ = Clock::now();
      // A huge sweep's file takes long to write: spend at most ~10 % on it.
      checkpoint_every_now_ = std::max(checkpoint_every_, 10 * (last_checkpoint_ - before));
    }
  }

  // Workers that run or may run seeds: a retiring idle one is only exiting.
  std::size_t working_workers() const {
    return static_cast<std::size_t>(std::count_if(running_.begin(), running_.end(), [](const Child& child) {
      return child.busy || !child.retiring;
    }));
  }

  // Every idle worker gets the next seed; workers are forked while fewer
  // than `jobs` work and seeds are left.
  void assign_seeds() {
    while (!stopping_ && next_ < seeds_.size()) {
      auto idle = std::find_if(running_.begin(), running_.end(), [](const Child& child) {
        return !child.busy && !child.retiring && !child.eof;
      });
      if (idle == running_.end()) {
        if (working_workers() >= jobs_) return;
        const std::optional<std::size_t> started = start_worker();
        if (!started) {
          if (working_workers() > 0) return;  // out of processes or descriptors: wait for a worker
          continue;                           // recorded as a start failure: next seed
        }
        idle = running_.begin() + static_cast<std::ptrdiff_t>(*started);
      }
      if (!send_seed(*idle)) retire(*idle);  // it is gone: reaped soon, the seed goes to another
    }
  }

  // A worker that could not be started: with none working, the next seed is
  // recorded as not started (so a sweep that can start nothing still ends).
  std::nullopt_t not_started(const char* call, int error_number) {
    if (working_workers() == 0) {
      record(next_, sweep_detail::start_failure(seeds_[next_], fmt::format("{}: {}", call, std::strerror(error_number))));
      ++next_;
    }
    return std::nullopt;
  }

  // Forks a worker; its index in running_, or nullopt when it could not
  // (with nothing running, the next seed is then recorded as not started).
  std::optional<std::size_t> start_worker() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return not_started("socketpair", errno);
    // The worker's stderr comes through the parent, which copies it on and
    // keeps its last line for a seed that crashes (SeedResult::worker_stderr).
    int err_fds[2];
    if (::pipe2(err_fds, O_CLOEXEC) != 0) {
      const int pipe_errno = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      return not_started("pipe", pipe_errno);
    }
    const pid_t pid = fork_worker(fds, err_fds);
    ::close(fds[1]);
    ::close(err_fds[1]);
    if (pid < 0) {
      const int fork_errno = errno;
      ::close(fds[0]);
      ::close(err_fds[0]);
      return not_started("fork", fork_errno);
    }
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    ::fcntl(err_fds[0], F_SETFL, ::fcntl(err_fds[0], F_GETFL) | O_NONBLOCK);
    Child child;
    child.pid = pid;
    child.fd = fds[0];
    child.stderr_fd = err_fds[0];
    running_.push_back(std::move(child));
    return running_.size() - 1;
  }

  // The worker's pid in the parent, or -1 with errno; the worker never returns.
  pid_t fork_worker(const int (&fds)[2], const int (&err_fds)[2]) {
    // The worker gets copies of these buffers: unflushed text would be printed twice.
    progress_.flush();
    flush_standard_streams();
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    ::close(fds[0]);
    for (const Child& other : running_) {
      ::close(other.fd);
      if (other.stderr_fd >= 0) ::close(other.stderr_fd);
    }
    if (::dup2(err_fds[1], STDERR_FILENO) < 0) ::_exit(1);  // the parent then records the seed as crashed
    ::close(err_fds[0]);
    ::close(err_fds[1]);
    // A worker never outlives an interrupted sweep.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // An interrupt stops the sweep, not a seed: the parent kills its
    // workers then, and none of their seeds is recorded as crashed by it.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    if (::getppid() != parent_pid_) ::_exit(1);
    sweep_detail::run_worker(spec_, seeds_per_worker_, fds[1]);
  }

  // The next seed to an idle worker; false when the worker is gone.
  bool send_seed(Child& child) {
    const std::string text = fmt::format("{}\n", seeds_[next_]);
    ssize_t sent = -1;
    do {
      sent = ::send(child.fd, text.data(), text.size(), MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    // One short line into an empty socket: all of it fits, or the worker is gone.
    if (sent != static_cast<ssize_t>(text.size())) return false;
    child.busy = true;
    child.index = next_;
    child.seed = seeds_[next_++];
    child.started = Clock::now();
    child.deadline = child.started + timeout_;
    child.killed = false;
    child.stderr_last.clear();
    child.stderr_last_is_summary = false;
    ++child.seeds_sent;
    return true;
  }

  // No more seeds for this worker: it reads EOF when idle and exits.
  static void retire(Child& child) {
    if (child.retiring) return;
    child.retiring = true;
    ::shutdown(child.fd, SHUT_WR);
  }

  void retire_idle_workers() {
    for (Child& child : running_) {
      if (!child.busy) retire(child);
    }
  }

  // A busy worker's answer: its seed's result; the worker is idle again
  // (or retiring, when its line says so).
  void take_answer(Child& child) {
    if (!child.busy) {
      child.output.clear();  // a worker only ever answers a seed
      return;
    }
    if (child.killed) return;  // past its deadline: a hang, whatever it says now
    const std::optional<std::string> line = sweep_detail::take_line(child);
    if (!line) return;
    child.busy = false;
    if (sweep_detail::line_says_retiring(*line)) retire(child);
    std::optional<SeedResult> seed_result =
        sweep_detail::finish_child(spec_, child, *line, /*status: alive*/ 0, {totals_, setup_error_});
    if (seed_result) record(child.index, std::move(*seed_result));
  }

  // Interrupted: what runs now is not done. Kill, reap, record nothing.
  void kill_all() {
    for (Child& child : running_) {
      ::kill(child.pid, SIGKILL);
      int status = 0;
      while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
      }
      sweep_detail::relay_stderr(child);  // what it said before it was killed is not lost
      ::close(child.fd);
      if (child.stderr_fd >= 0) ::close(child.stderr_fd);
    }
    running_.clear();
  }

  // Sleeps until output arrives, a socket closes or the nearest deadline.
  void wait_for_children() {
    std::vector<pollfd> polled;
    bool awaiting_reap = false;
    auto wait = std::chrono::milliseconds(kMaxPollMillis);
    const auto now = Clock::now();
    for (const Child& child : running_) {
      if (!child.eof) {
        polled.push_back(pollfd{child.fd, POLLIN, 0});
      } else {
        awaiting_reap = true;
      }
      // A worker blocked on a full stderr pipe would look hung.
      if (child.stderr_fd >= 0) polled.push_back(pollfd{child.stderr_fd, POLLIN, 0});
      if (child.busy && !child.killed) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(child.deadline - now);
        wait = std::min(wait, std::max(left, std::chrono::milliseconds(1)));
      }
    }
    if (awaiting_reap) wait = std::min(wait, std::chrono::milliseconds(kReapPollMillis));
    const int ready = ::poll(polled.data(), polled.size(), static_cast<int>(wait.count()));
    SEGSIM_ASSERT(ready >= 0 || errno == EINTR, "poll on worker sockets failed");
  }

  // Records the seeds of workers that died running them; kills the seeds
  // past their deadline. A worker that ends idle (retired) costs no seed.
  void reap_children() {
    for (std::size_t i = 0; i < running_.size();) {
      Child& child = running_[i];
      int status = 0;
      const pid_t reaped = ::waitpid(child.pid, &status, WNOHANG);
      SEGSIM_ASSERT(reaped == 0 || reaped == child.pid, "waitpid on our own worker");
      if (reaped == child.pid) {
        if (!child.eof) sweep_detail::read_available(child);  // what it wrote before exiting
        sweep_detail::relay_stderr(child);                     // to its EOF: the worker is gone
        ::close(child.fd);
        if (child.stderr_fd >= 0) ::close(child.stderr_fd);
        std::optional<SeedResult> seed_result;
        if (child.busy) {
          const std::string line = sweep_detail::take_line(child).value_or(std::string());
          seed_result = sweep_detail::finish_child(spec_, child, line, status, {totals_, setup_error_});
        }
        const std::size_t index = child.index;
        running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
        if (seed_result) record(index, std::move(*seed_result));
        continue;
      }
      if (child.busy && !child.killed && Clock::now() >= child.deadline) {
        ::kill(child.pid, SIGKILL);
        child.killed = true;
      }
      ++i;
    }
  }

  const SweepSpec& spec_;
  std::ostream& progress_;
  const Clock::time_point started_ = Clock::now();
  const std::vector<std::uint64_t> seeds_;
  const std::uint32_t jobs_;
  const std::uint32_t seeds_per_worker_;
  const Clock::duration timeout_;
  const Clock::duration checkpoint_every_;
  Clock::duration checkpoint_every_now_;
  Progress bar_;
  std::vector<std::optional<SeedResult>> results_;
  sweep_detail::CountTotals totals_;
  std::string setup_error_;
  std::vector<Child> running_;  // worker processes, busy or idle
  std::size_t next_ = 0;
  bool stopping_ = false;
  Clock::time_point last_checkpoint_ = Clock::now();
  const pid_t parent_pid_ = ::getpid();
};

}  // namespace

SweepResult run_sweep(const SweepSpec& spec, std::ostream& progress, bool terminal) {
  SEGSIM_ASSERT(std::isfinite(spec.seed_timeout_seconds) && spec.seed_timeout_seconds >= kMinSeedTimeoutSeconds &&
                    spec.seed_timeout_seconds <= kMaxSeedTimeoutSeconds,
                "the seed timeout is checked by the caller");
  std::error_code dir_error;
  std::filesystem::create_directories(spec.failures_dir, dir_error);
  if (dir_error) {
    progress << fmt::format("cannot create failures directory {}: {} (repros will be missing)\n",
                            quoted_text(spec.failures_dir), dir_error.message());
  }
  SweepRun run(spec, progress, terminal);
  return run.run();
}

}  // namespace segsim::scenarios
