#include "scenarios/sweep.h"
#include "scenarios/xml.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "faults/fault_plan.h"
#include "core/probe.h"
#include "scenarios/repro.h"
#include "scenarios/safe_file.h"
#include "scenarios/values.h"

namespace segsim::scenarios {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

// A sweep's seeds are materialised (shard_seeds returns a vector): 10 M seeds
// is 80 MB and, at ~100 seeds/s, more than a day of work — split it instead.
constexpr std::uint64_t kMaxSeedsPerRange = 10'000'000;
constexpr std::uint32_t kMaxShards = 100'000;
constexpr std::uint32_t kMaxJobs = 64;
// What a child sends back is one short JSON line; anything longer is truncated
// so a runaway child cannot exhaust the parent's memory.
constexpr std::size_t kMaxChildOutputBytes = 1 << 20;
constexpr std::size_t kMaxDetailBytes = 4096;
// A parent wakes at least this often while children run: to reap children
// whose pipe closed, enforce time limits and refresh the progress line.
constexpr int kMaxPollMillis = 200;
constexpr int kReapPollMillis = 5;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

bool parse_decimal_u64(std::string_view text, std::uint64_t& out) {
  auto value = parse_whole(text, 0, UINT64_MAX, "", nullptr);
  if (value.ok()) out = value.value();
  return value.ok();
}

std::string truncate_line(std::string text, std::size_t max_bytes) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';  // details are one line
  }
  if (text.size() > max_bytes) {
    text.resize(max_bytes);
    text += "...";
  }
  return text;
}

std::string file_safe(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
    out += safe ? c : '_';
  }
  return out.empty() ? std::string("scenario") : out;
}

std::string repro_path_for(const SweepSpec& spec, std::uint64_t seed) {
  return (std::filesystem::path(spec.failures_dir) /
          fmt::format("{}-seed{}.json", file_safe(spec.base.scenario), seed))
      .string();
}



std::string signal_text(int signal_number) {
  const char* abbrev = sigabbrev_np(signal_number);
  const char* description = strsignal(signal_number);
  if (abbrev == nullptr) return fmt::format("killed by signal {}", signal_number);
  return fmt::format("killed by SIG{} ({})", abbrev, description != nullptr ? description : "?");
}

// ---------------------------------------------------------------------------
// the child

void write_all(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone: nothing to tell anyone
    written += static_cast<std::size_t>(n);
  }
}

// Runs one seed and reports on `fd`: one JSON line. Never returns.
[[noreturn]] void run_child(const SweepSpec& spec, std::uint64_t seed, int fd) {
  Json line;
  try {
    RunSpec run = spec.base;
    run.seed = seed;
    std::string error;
    Result<RunReport> report = run_scenario(run, {}, &error);
    if (!report.ok()) {
      line["outcome"] = report.error().code == Errc::OutOfMemory ? "environment" : "invalid";
      line["detail"] = truncate_line(error.empty() ? report.error().describe() : error,
                                     kMaxDetailBytes);
    } else {
      line["outcome"] = report->passed ? "passed" : "failed";
      line["trace_hash"] = report->trace_hash;
      line["steps"] = report->steps;
      line["probes"] = report->probe_hits;
      if (!report->passed) {
        line["detail"] = truncate_line(
            report->failure ? report->failure->signature() : std::string("failed (no failure recorded)"),
            kMaxDetailBytes);
        const std::string path = repro_path_for(spec, seed);
        std::string write_error;
        if (write_repro(repro_from_report(*report), path, &write_error).ok()) {
          line["repro"] = path;
        } else {
          line["repro_error"] = truncate_line(write_error, kMaxDetailBytes);
        }
      }
    }
  } catch (const std::exception& e) {
    line = Json::object();
    line["outcome"] = "crashed";
    line["detail"] = truncate_line(fmt::format("uncaught exception: {}", e.what()), kMaxDetailBytes);
  } catch (...) {
    line = Json::object();
    line["outcome"] = "crashed";
    line["detail"] = "uncaught exception of unknown type";
  }
  write_all(fd, line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
  ::close(fd);
  // _exit: no static destructors or atexit handlers of the parent's world
  // (gtest, open streams) may run twice.
  ::_exit(0);
}

// ---------------------------------------------------------------------------
// the parent

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::size_t index = 0;  // into the shard's seeds
  std::uint64_t seed = 0;
  Clock::time_point started;
  Clock::time_point deadline;
  std::string output;
  bool eof = false;
  bool killed = false;
};

void read_available(Child& child) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(child.fd, buffer, sizeof buffer);
    if (n > 0) {
      const std::size_t room = kMaxChildOutputBytes - std::min(kMaxChildOutputBytes, child.output.size());
      child.output.append(buffer, std::min(room, static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) child.eof = true;
    return;
  }
}

// A repro for a seed whose child could not report: built from the spec
// alone, so the seed is never lost. No expected hash: the run never finished.
std::string write_parent_repro(const SweepSpec& spec, std::uint64_t seed, const std::string& oracle,
                               const std::string& detail, std::string& note) {
  Repro repro;
  repro.spec = resolved_spec(spec.base);
  repro.spec.seed = seed;
  // Repro files name the concrete plan, never "swarm".
  std::string fault_error;
  Result<faults::FaultPlan> plan = faults::make_fault_plan(spec.base.faults, seed, &fault_error);
  if (plan.ok()) repro.spec.faults = plan->describe();
  repro.build_id = build_id();
  repro.expected_trace_hash = 0;
  Failure failure;
  failure.oracle = oracle;
  failure.message = detail;
  repro.failure = failure;
  const std::string path = repro_path_for(spec, seed);
  std::string error;
  if (!write_repro(repro, path, &error).ok()) {
    note = error;
    return {};
  }
  return path;
}

// What a child's line adds to the sweep besides its seed's result.
struct ChildExtras {
  std::vector<std::uint64_t>& probe_totals;  // indexed like probes::kProbes
  std::string& setup_error;                  // the child could not set its run up
};

void add_probe_hits(const Json& line, std::vector<std::uint64_t>& totals) {
  if (!line.contains("probes") || !line["probes"].is_array() || line["probes"].size() != totals.size()) return;
  for (std::size_t i = 0; i < totals.size(); ++i) {
    const Json& hits = line["probes"][i];
    if (!hits.is_number_unsigned()) continue;
    const std::uint64_t n = hits.get<std::uint64_t>();
    totals[i] = totals[i] > UINT64_MAX - n ? UINT64_MAX : totals[i] + n;
  }
}

// nullopt when the seed did not run for a reason of the sweep's own (its
// spec was refused, the harness could not set up): then `extras.setup_error`.
std::optional<SeedResult> finish_child(const SweepSpec& spec, const Child& child, int status, ChildExtras extras) {
  SeedResult result;
  result.seed = child.seed;
  result.seconds = std::chrono::duration<double>(Clock::now() - child.started).count();

  Json line;
  bool have_line = false;
  const std::size_t newline = child.output.find('\n');
  if (newline != std::string::npos) {
    line = Json::parse(child.output.substr(0, newline), nullptr, false);
    have_line = line.is_object() && line.contains("outcome") && line["outcome"].is_string();
  }

  std::string crash_oracle;
  if (child.killed) {
    result.outcome = SeedOutcome::TimedOut;
    result.detail = fmt::format("timed out after {} s", spec.seed_timeout_seconds);
    crash_oracle = "hang";
  } else if (WIFSIGNALED(status)) {
    result.outcome = SeedOutcome::Crashed;
    result.detail = signal_text(WTERMSIG(status));
    crash_oracle = "crash";
  } else if (!have_line) {
    result.outcome = SeedOutcome::Crashed;
    result.detail = WIFEXITED(status) ? fmt::format("exited with status {} without a result",
                                                    WEXITSTATUS(status))
                                      : std::string("ended without a result");
    crash_oracle = "crash";
  } else {
    const std::string outcome = line["outcome"].get<std::string>();
    const auto text = [&](const char* key) {
      return line.contains(key) && line[key].is_string() ? line[key].get<std::string>()
                                                         : std::string();
    };
    const auto number = [&](const char* key) {
      return line.contains(key) && line[key].is_number_unsigned() ? line[key].get<std::uint64_t>()
                                                                  : std::uint64_t{0};
    };
    add_probe_hits(line, extras.probe_totals);
    result.trace_hash = number("trace_hash");
    result.steps = number("steps");
    result.detail = text("detail");
    if (outcome == "passed") {
      result.outcome = SeedOutcome::Passed;
      result.detail.clear();
    } else if (outcome == "failed") {
      result.outcome = SeedOutcome::Failed;
      result.repro_path = text("repro");
      if (result.repro_path.empty()) {
        result.detail += fmt::format(" (repro not written: {})", text("repro_error"));
      }
    } else if (outcome == "invalid" || outcome == "environment") {
      // Not a finding about the stack: the same for every seed. The sweep stops.
      extras.setup_error = result.detail.empty() ? std::string("the run could not be set up") : result.detail;
      return std::nullopt;
    } else {
      result.outcome = SeedOutcome::Crashed;
      if (result.detail.empty()) result.detail = fmt::format("child reported '{}'", outcome);
      crash_oracle = "crash";
    }
  }
  if (!crash_oracle.empty()) {
    std::string note;
    result.repro_path = write_parent_repro(spec, child.seed, crash_oracle, result.detail, note);
    if (result.repro_path.empty()) result.detail += fmt::format(" (repro not written: {})", note);
  }
  return result;
}

// The system under test never ran: recorded (so the seed is not lost), but
// there is nothing to reproduce.
SeedResult start_failure(std::uint64_t seed, std::string why) {
  SeedResult result;
  result.seed = seed;
  result.outcome = SeedOutcome::Crashed;
  result.detail = "could not start: " + why;
  return result;
}

class Progress {
 public:
  Progress(std::ostream& out, bool terminal, const std::string& scenario, std::size_t total)
      : out_(out), terminal_(terminal), scenario_(scenario), total_(total), started_(Clock::now()) {
    // Plain output: a line every 10 % or every 50 seeds, whichever comes first.
    plain_every_ = std::max<std::size_t>(1, std::min<std::size_t>(50, (total + 9) / 10));
  }

  void seed_done(const SeedResult& result) {
    ++done_;
    if (result.outcome != SeedOutcome::Passed) {
      ++failures_;
      if (terminal_) out_ << '\r' << std::string(last_width_, ' ') << '\r';
      out_ << fmt::format("seed {}: {}: {}", result.seed, seed_outcome_name(result.outcome),
                          result.detail);
      if (!result.repro_path.empty()) out_ << fmt::format(" (repro {})", result.repro_path);
      out_ << '\n';
      last_width_ = 0;
    }
    if (terminal_) {
      const auto now = Clock::now();
      if (done_ == total_ || now - last_redraw_ >= kRedrawInterval) {
        last_redraw_ = now;
        redraw();
      }
    } else if (done_ % plain_every_ == 0 || done_ == total_) {
      out_ << line() << '\n';
    }
    out_.flush();
  }

  // After the sweep: the final state, whatever the throttling skipped.
  void finish() {
    if (terminal_) {
      redraw();
      out_ << '\n';
    } else if (done_ % plain_every_ != 0 && done_ != total_) {
      out_ << line() << '\n';
    }
    out_.flush();
  }

 private:
  std::string line() const {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
    return fmt::format("sweep {}: {}/{} seeds, {:.1f} seeds/s, {} failure{}", scenario_, done_,
                       total_, rate, failures_, failures_ == 1 ? "" : "s");
  }
  void redraw() {
    const std::string text = line();
    out_ << '\r' << text;
    if (text.size() < last_width_) out_ << std::string(last_width_ - text.size(), ' ');
    last_width_ = text.size();
  }

  std::ostream& out_;
  const bool terminal_;
  const std::string scenario_;
  const std::size_t total_;
  const Clock::time_point started_;
  Clock::time_point last_redraw_{};
  std::size_t plain_every_ = 1;
  std::size_t done_ = 0;
  std::size_t failures_ = 0;
  std::size_t last_width_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------
// seeds and shards

Result<SeedRange> parse_seed_range(const std::string& text, std::string* error_line) {
  const auto fail = [&](std::string line) -> Result<SeedRange> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "seed range");
  };
  const std::size_t dots = text.find("..");
  if (dots == std::string::npos) {
    return fail(fmt::format("bad seed range '{}': expected A..B (e.g. 1..1000)", text));
  }
  SeedRange range;
  if (!parse_decimal_u64(std::string_view(text).substr(0, dots), range.first) ||
      !parse_decimal_u64(std::string_view(text).substr(dots + 2), range.last)) {
    return fail(fmt::format("bad seed range '{}': A and B must be decimal numbers below 2^64", text));
  }
  if (range.first > range.last) {
    return fail(fmt::format("bad seed range '{}': the first seed is after the last", text));
  }
  if (range.last - range.first >= kMaxSeedsPerRange) {
    return fail(fmt::format("seed range '{}' has more than {} seeds: split it into several sweeps",
                            text, kMaxSeedsPerRange));
  }
  return range;
}

Result<Shard> parse_shard(const std::string& text, std::string* error_line) {
  const auto fail = [&](std::string line) -> Result<Shard> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "shard");
  };
  const std::size_t slash = text.find('/');
  std::uint64_t index = 0;
  std::uint64_t count = 0;
  if (slash == std::string::npos ||
      !parse_decimal_u64(std::string_view(text).substr(0, slash), index) ||
      !parse_decimal_u64(std::string_view(text).substr(slash + 1), count)) {
    return fail(fmt::format("bad shard '{}': expected K/N with 0 <= K < N (e.g. 0/4)", text));
  }
  if (count == 0 || count > kMaxShards) {
    return fail(fmt::format("bad shard '{}': N must be 1..{}", text, kMaxShards));
  }
  if (index >= count) {
    return fail(fmt::format("bad shard '{}': K is 0-based, so it must be below N", text));
  }
  return Shard{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(count)};
}

std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard) {
  SEGSIM_ASSERT(range.first <= range.last, "a seed range runs forwards");
  SEGSIM_ASSERT(shard.count >= 1 && shard.index < shard.count, "a shard is K/N with K < N");
  const std::uint64_t span = range.last - range.first;  // seeds - 1: no overflow at 2^64 - 1
  SEGSIM_ASSERT(span < kMaxSeedsPerRange, "seed ranges are bounded by parse_seed_range");
  std::vector<std::uint64_t> seeds;
  if (shard.index > span) return seeds;
  seeds.reserve(static_cast<std::size_t>((span - shard.index) / shard.count + 1));
  for (std::uint64_t offset = shard.index;; offset += shard.count) {
    seeds.push_back(range.first + offset);
    if (span - offset < shard.count) break;
  }
  return seeds;
}

std::string_view seed_outcome_name(SeedOutcome outcome) {
  switch (outcome) {
    case SeedOutcome::Passed: return "passed";
    case SeedOutcome::Failed: return "failed";
    case SeedOutcome::Crashed: return "crashed";
    case SeedOutcome::TimedOut: return "timed-out";
  }
  return "?";
}

std::size_t SweepResult::failures() const {
  return static_cast<std::size_t>(std::count_if(seeds.begin(), seeds.end(), [](const SeedResult& s) {
    return s.outcome != SeedOutcome::Passed;
  }));
}

// ---------------------------------------------------------------------------
// the sweep

namespace {

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

}  // namespace

SweepResult run_sweep(const SweepSpec& spec, std::ostream& progress, bool terminal) {
  const auto sweep_started = Clock::now();
  const std::vector<std::uint64_t> seeds = seeds_to_run(spec);
  const std::uint32_t jobs = std::clamp<std::uint32_t>(spec.jobs, 1, kMaxJobs);
  SEGSIM_ASSERT(std::isfinite(spec.seed_timeout_seconds) && spec.seed_timeout_seconds >= kMinSeedTimeoutSeconds &&
                    spec.seed_timeout_seconds <= kMaxSeedTimeoutSeconds,
                "the seed timeout is checked by the caller");
  const auto timeout = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(spec.seed_timeout_seconds));
  const auto checkpoint_every = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(0.0, spec.checkpoint_seconds)));

  std::error_code dir_error;
  std::filesystem::create_directories(spec.failures_dir, dir_error);
  if (dir_error) {
    progress << fmt::format("cannot create failures directory {}: {} (repros will be missing)\n",
                            quoted_text(spec.failures_dir), dir_error.message());
  }

  Progress bar(progress, terminal, spec.base.scenario, seeds.size());
  std::vector<std::optional<SeedResult>> results(seeds.size());
  std::vector<std::uint64_t> probe_totals(probes::kProbes.size(), 0);
  std::string setup_error;
  std::vector<Child> running;
  running.reserve(jobs);
  std::size_t next = 0;
  bool stopping = false;
  auto last_checkpoint = Clock::now();
  auto checkpoint_every_now = checkpoint_every;
  const pid_t parent_pid = ::getpid();
  const auto stop_requested = [&] { return spec.stop_signal != nullptr && *spec.stop_signal != 0; };

  const auto record = [&](std::size_t index, SeedResult seed_result) {
    if (seed_result.outcome != SeedOutcome::Passed && spec.stop_on_failure) stopping = true;
    bar.seed_done(seed_result);
    results[index] = std::move(seed_result);
    if (spec.checkpoint && Clock::now() - last_checkpoint >= checkpoint_every_now) {
      const auto before = Clock::now();
      spec.checkpoint(collect(spec, results, probe_totals, sweep_started));
      last_checkpoint = Clock::now();
      // A huge sweep's file takes long to write: spend at most ~10 % on it.
      checkpoint_every_now = std::max(checkpoint_every, 10 * (last_checkpoint - before));
    }
  };

  while (true) {
    if (stop_requested() || !setup_error.empty()) stopping = true;
    while (!stopping && next < seeds.size() && running.size() < jobs) {
      const std::uint64_t seed = seeds[next];
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0) {
        if (!running.empty()) break;  // out of descriptors: wait for a child to finish
        record(next++, start_failure(seed, fmt::format("pipe: {}", std::strerror(errno))));
        continue;
      }
      // The child gets copies of these buffers: unflushed text would be printed twice.
      progress.flush();
      std::cout.flush();
      std::cerr.flush();
      std::fflush(nullptr);
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::close(fds[0]);
        for (const Child& other : running) ::close(other.fd);
        // A child never outlives an interrupted sweep.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        // An interrupt stops the sweep, not a seed: the parent kills its
        // children then, and none of them is recorded as crashed by it.
        ::signal(SIGINT, SIG_IGN);
        ::signal(SIGTERM, SIG_IGN);
        if (::getppid() != parent_pid) ::_exit(1);
        run_child(spec, seed, fds[1]);
      }
      ::close(fds[1]);
      if (pid < 0) {
        const int fork_errno = errno;
        ::close(fds[0]);
        if (!running.empty()) break;
        record(next++, start_failure(seed, fmt::format("fork: {}", std::strerror(fork_errno))));
        continue;
      }
      ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
      Child child;
      child.pid = pid;
      child.fd = fds[0];
      child.index = next++;
      child.seed = seed;
      child.started = Clock::now();
      child.deadline = child.started + timeout;
      running.push_back(std::move(child));
    }
    if (running.empty()) {
      if (stopping || next >= seeds.size()) break;
      continue;  // a start failed with nothing running: try the next seed
    }
    if (stop_requested()) {
      // Interrupted: what runs now is not done. Kill, reap, record nothing.
      for (Child& child : running) {
        ::kill(child.pid, SIGKILL);
        int status = 0;
        while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
        }
        ::close(child.fd);
      }
      running.clear();
      break;
    }

    // Sleep until output arrives, a pipe closes or the nearest deadline.
    std::vector<pollfd> polled;
    bool awaiting_reap = false;
    auto wait = std::chrono::milliseconds(kMaxPollMillis);
    const auto now = Clock::now();
    for (const Child& child : running) {
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
    if (stop_requested()) continue;  // the kill above, before anything is reaped
    for (Child& child : running) {
      if (!child.eof) read_available(child);
    }

    for (std::size_t i = 0; i < running.size();) {
      Child& child = running[i];
      int status = 0;
      const pid_t reaped = ::waitpid(child.pid, &status, WNOHANG);
      SEGSIM_ASSERT(reaped == 0 || reaped == child.pid, "waitpid on our own child");
      if (reaped == child.pid) {
        if (!child.eof) read_available(child);  // what it wrote before exiting
        ::close(child.fd);
        std::optional<SeedResult> seed_result = finish_child(spec, child, status, {probe_totals, setup_error});
        const std::size_t index = child.index;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
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
  bar.finish();

  SweepResult result = collect(spec, results, probe_totals, sweep_started);
  result.interrupted = stop_requested() ? static_cast<int>(*spec.stop_signal) : 0;
  result.environment_error = setup_error;
  return result;
}

}  // namespace segsim::scenarios
