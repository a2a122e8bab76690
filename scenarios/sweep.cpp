// run_sweep: the parent's loop over a shard's seeds — fork up to `jobs`
// children (sweep_child.h), wait for their lines, deaths or deadlines, record
// each seed, checkpoint the results so far, stop on a signal.
#include "scenarios/sweep.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
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
#include "core/probe.h"
#include "scenarios/safe_file.h"
#include "scenarios/sweep_child.h"
#include "scenarios/sweep_progress.h"

namespace segsim::scenarios {

namespace {

using sweep_detail::Child;
using sweep_detail::Clock;

constexpr std::uint32_t kMaxJobs = 64;
// A parent wakes at least this often while children run: to reap children
// whose pipe closed, enforce time limits and refresh the progress line.
constexpr int kMaxPollMillis = 200;
constexpr int kReapPollMillis = 5;

Clock::duration to_clock(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// The results so far, in seed order: the done seeds of a resumed sweep and
// this run's. Probe totals by name, zeros included.
SweepResult collect(const SweepSpec& spec, const std::vector<std::optional<SeedResult>>& results,
                    const std::vector<std::uint64_t>& probe_totals, Clock::time_point started) {
  SweepResult result = sweep_settings(spec.base);
  for (std::size_t i = 0; i < probe_totals.size(); ++i) {
    result.probes.push_back(ProbeCount{std::string(probes::kProbes[i].name), probe_totals[i]});
  }
  double earlier_seconds = 0;
  if (spec.done != nullptr) {
    result.seeds = spec.done->seeds;
    earlier_seconds = spec.done->wall_seconds;
    for (const ProbeCount& earlier : spec.done->probes) {
      auto it = std::find_if(result.probes.begin(), result.probes.end(),
                             [&](const ProbeCount& p) { return p.name == earlier.name; });
      if (it == result.probes.end()) {
        result.probes.push_back(earlier);
      } else {
        it->hits = it->hits > UINT64_MAX - earlier.hits ? UINT64_MAX : it->hits + earlier.hits;
      }
    }
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
        timeout_(to_clock(spec.seed_timeout_seconds)),
        checkpoint_every_(to_clock(std::max(0.0, spec.checkpoint_seconds))),
        checkpoint_every_now_(checkpoint_every_),
        bar_(progress, terminal, spec.base.scenario, seeds_.size()),
        results_(seeds_.size()),
        probe_totals_(probes::kProbes.size(), 0) {
    running_.reserve(jobs_);
  }

  SweepResult run() {
    while (true) {
      if (stop_requested() || !setup_error_.empty()) stopping_ = true;
      start_children();
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
        if (!child.eof) sweep_detail::read_available(child);
      }
      reap_children();
    }
    bar_.finish();
    SweepResult result = collect(spec_, results_, probe_totals_, started_);
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
      spec_.checkpoint(collect(spec_, results_, probe_totals_, started_));
      last_checkpoint_ = Clock::now();
      // A huge sweep's file takes long to write: spend at most ~10 % on it.
      checkpoint_every_now_ = std::max(checkpoint_every_, 10 * (last_checkpoint_ - before));
    }
  }

  void start_children() {
    while (!stopping_ && next_ < seeds_.size() && running_.size() < jobs_) {
      const std::uint64_t seed = seeds_[next_];
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0) {
        if (!running_.empty()) return;  // out of descriptors: wait for a child to finish
        record(next_++, sweep_detail::start_failure(seed, fmt::format("pipe: {}", std::strerror(errno))));
        continue;
      }
      const pid_t pid = fork_child(seed, fds);
      ::close(fds[1]);
      if (pid < 0) {
        const int fork_errno = errno;
        ::close(fds[0]);
        if (!running_.empty()) return;
        record(next_++, sweep_detail::start_failure(seed, fmt::format("fork: {}", std::strerror(fork_errno))));
        continue;
      }
      ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
      Child child;
      child.pid = pid;
      child.fd = fds[0];
      child.index = next_++;
      child.seed = seed;
      child.started = Clock::now();
      child.deadline = child.started + timeout_;
      running_.push_back(std::move(child));
    }
  }

  // The parent's pid, or -1 with errno; the child runs the seed and never returns.
  pid_t fork_child(std::uint64_t seed, const int (&fds)[2]) {
    // The child gets copies of these buffers: unflushed text would be printed twice.
    progress_.flush();
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    ::close(fds[0]);
    for (const Child& other : running_) ::close(other.fd);
    // A child never outlives an interrupted sweep.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // An interrupt stops the sweep, not a seed: the parent kills its
    // children then, and none of them is recorded as crashed by it.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    if (::getppid() != parent_pid_) ::_exit(1);
    sweep_detail::run_child(spec_, seed, fds[1]);
  }

  // Interrupted: what runs now is not done. Kill, reap, record nothing.
  void kill_all() {
    for (Child& child : running_) {
      ::kill(child.pid, SIGKILL);
      int status = 0;
      while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
      }
      ::close(child.fd);
    }
    running_.clear();
  }

  // Sleeps until output arrives, a pipe closes or the nearest deadline.
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
      if (!child.killed) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(child.deadline - now);
        wait = std::min(wait, std::max(left, std::chrono::milliseconds(1)));
      }
    }
    if (awaiting_reap) wait = std::min(wait, std::chrono::milliseconds(kReapPollMillis));
    const int ready = ::poll(polled.data(), polled.size(), static_cast<int>(wait.count()));
    SEGSIM_ASSERT(ready >= 0 || errno == EINTR, "poll on child pipes failed");
  }

  // Records the children that ended; kills those past their deadline.
  void reap_children() {
    for (std::size_t i = 0; i < running_.size();) {
      Child& child = running_[i];
      int status = 0;
      const pid_t reaped = ::waitpid(child.pid, &status, WNOHANG);
      SEGSIM_ASSERT(reaped == 0 || reaped == child.pid, "waitpid on our own child");
      if (reaped == child.pid) {
        if (!child.eof) sweep_detail::read_available(child);  // what it wrote before exiting
        ::close(child.fd);
        std::optional<SeedResult> seed_result =
            sweep_detail::finish_child(spec_, child, status, {probe_totals_, setup_error_});
        const std::size_t index = child.index;
        running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
        if (seed_result) record(index, std::move(*seed_result));
        continue;
      }
      if (!child.killed && Clock::now() >= child.deadline) {
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
  const Clock::duration timeout_;
  const Clock::duration checkpoint_every_;
  Clock::duration checkpoint_every_now_;
  Progress bar_;
  std::vector<std::optional<SeedResult>> results_;
  std::vector<std::uint64_t> probe_totals_;
  std::string setup_error_;
  std::vector<Child> running_;
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
