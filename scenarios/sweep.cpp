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
#include "scenarios/repro.h"

namespace segsim::scenarios {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

// A sweep's seeds are materialised (shard_seeds returns a vector): 10 M seeds
// is 80 MB and, at ~100 seeds/s, more than a day of work — split it instead.
constexpr std::uint64_t kMaxSeedsPerRange = 10'000'000;
constexpr std::uint32_t kMaxShards = 100'000;
constexpr std::uint32_t kMaxJobs = 64;
constexpr double kMinSeedTimeoutSeconds = 0.01;
constexpr double kMaxSeedTimeoutSeconds = 7 * 24 * 3600.0;
// What a child sends back is one short JSON line; anything longer is truncated
// so a runaway child cannot exhaust the parent's memory.
constexpr std::size_t kMaxChildOutputBytes = 1 << 20;
constexpr std::size_t kMaxDetailBytes = 4096;
constexpr std::size_t kMaxSweepJsonBytes = std::size_t{1} << 30;
// A parent wakes at least this often while children run: to reap children
// whose pipe closed, enforce time limits and refresh the progress line.
constexpr int kMaxPollMillis = 200;
constexpr int kReapPollMillis = 5;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

Result<SweepResult> invalid(std::string* error_line, std::string line) {
  if (error_line != nullptr) *error_line = std::move(line);
  return make_error(Errc::InvalidConfig, "sweep");
}

bool parse_decimal_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  // from_chars accepts neither '+' nor whitespace, but does accept nothing
  // else either: digits only, so "-1" and "0x10" are refused here.
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
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

std::string hex64(std::uint64_t value) { return fmt::format("0x{:016x}", value); }

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
      line["outcome"] = "invalid";
      line["detail"] = truncate_line(error.empty() ? report.error().describe() : error,
                                     kMaxDetailBytes);
    } else {
      line["outcome"] = report->passed ? "passed" : "failed";
      line["trace_hash"] = report->trace_hash;
      line["steps"] = report->steps;
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
  repro.spec = spec.base;
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

SeedResult finish_child(const SweepSpec& spec, const Child& child, int status) {
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
    } else if (outcome == "invalid") {
      // run_scenario refused the spec: the same for every seed, so no repro.
      result.outcome = SeedOutcome::Failed;
      result.detail = "invalid run: " + result.detail;
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

// ---------------------------------------------------------------------------
// JSON

Result<std::uint64_t> parse_hex64(const std::string& text) {
  std::uint64_t value = 0;
  if (text.size() != 18 || text[0] != '0' || text[1] != 'x') return make_error(Errc::InvalidConfig);
  auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), value, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return make_error(Errc::InvalidConfig);
  return value;
}

std::optional<SeedOutcome> outcome_from_name(std::string_view name) {
  for (SeedOutcome o :
       {SeedOutcome::Passed, SeedOutcome::Failed, SeedOutcome::Crashed, SeedOutcome::TimedOut}) {
    if (seed_outcome_name(o) == name) return o;
  }
  return std::nullopt;
}

// Strict field access: every read names the field in its error line.
class Fields {
 public:
  Fields(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  bool only(std::initializer_list<const char*> keys, std::string& error) const {
    for (const auto& item : object_.items()) {
      bool known = false;
      for (const char* key : keys) known = known || item.key() == key;
      if (!known) {
        error = fmt::format("{}: unknown field '{}'", where_, item.key());
        return false;
      }
    }
    return true;
  }
  bool string(const char* key, std::string& out, std::string& error) const {
    if (!present(key, error)) return false;
    if (!object_[key].is_string()) return wrong(key, "a string", error);
    out = object_[key].get<std::string>();
    return true;
  }
  bool u64(const char* key, std::uint64_t& out, std::string& error) const {
    if (!present(key, error)) return false;
    if (!object_[key].is_number_unsigned()) return wrong(key, "a non-negative integer", error);
    out = object_[key].get<std::uint64_t>();
    return true;
  }
  bool seconds(const char* key, double& out, std::string& error) const {
    if (!present(key, error)) return false;
    if (!object_[key].is_number()) return wrong(key, "a number", error);
    out = object_[key].get<double>();
    if (!std::isfinite(out) || out < 0) return wrong(key, "a non-negative number", error);
    return true;
  }

 private:
  bool present(const char* key, std::string& error) const {
    if (object_.contains(key)) return true;
    error = fmt::format("{}: missing field '{}'", where_, key);
    return false;
  }
  bool wrong(const char* key, const char* expected, std::string& error) const {
    error = fmt::format("{}: field '{}' must be {}", where_, key, expected);
    return false;
  }
  const Json& object_;
  std::string where_;
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

SweepResult run_sweep(const SweepSpec& spec, std::ostream& progress, bool terminal) {
  const auto sweep_started = Clock::now();
  const std::vector<std::uint64_t> seeds = shard_seeds(spec.seeds, spec.shard);
  const std::uint32_t jobs = std::clamp<std::uint32_t>(spec.jobs, 1, kMaxJobs);
  const double timeout_seconds =
      std::isfinite(spec.seed_timeout_seconds)
          ? std::clamp(spec.seed_timeout_seconds, kMinSeedTimeoutSeconds, kMaxSeedTimeoutSeconds)
          : kMaxSeedTimeoutSeconds;
  const auto timeout = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(timeout_seconds));

  SweepResult result;
  result.scenario = spec.base.scenario;
  result.strategy = spec.base.strategy;
  result.faults = spec.base.faults;

  std::error_code dir_error;
  std::filesystem::create_directories(spec.failures_dir, dir_error);
  if (dir_error) {
    progress << fmt::format("cannot create failures directory {}: {} (repros will be missing)\n",
                            spec.failures_dir, dir_error.message());
  }

  Progress bar(progress, terminal, spec.base.scenario, seeds.size());
  std::vector<std::optional<SeedResult>> results(seeds.size());
  std::vector<Child> running;
  running.reserve(jobs);
  std::size_t next = 0;
  bool stopping = false;
  const pid_t parent_pid = ::getpid();

  const auto record = [&](std::size_t index, SeedResult seed_result) {
    if (seed_result.outcome != SeedOutcome::Passed && spec.stop_on_failure) stopping = true;
    bar.seed_done(seed_result);
    results[index] = std::move(seed_result);
  };

  while (true) {
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
        SeedResult seed_result = finish_child(spec, child, status);
        const std::size_t index = child.index;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        record(index, std::move(seed_result));
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

  for (std::optional<SeedResult>& seed_result : results) {
    if (seed_result) result.seeds.push_back(std::move(*seed_result));
  }
  // Shards interleave seeds; results are in seed order already, which the
  // sort keeps true should shard_seeds ever change its order.
  std::sort(result.seeds.begin(), result.seeds.end(),
            [](const SeedResult& a, const SeedResult& b) { return a.seed < b.seed; });
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - sweep_started).count();
  return result;
}

// ---------------------------------------------------------------------------
// JSON and JUnit

std::string sweep_to_json(const SweepResult& result) {
  Json root;
  root["format"] = "segsim-sweep";
  root["version"] = 1;
  root["scenario"] = result.scenario;
  root["strategy"] = result.strategy;
  root["faults"] = result.faults;
  root["wall_seconds"] = result.wall_seconds;
  root["failures"] = result.failures();
  Json seeds = Json::array();
  for (const SeedResult& s : result.seeds) {
    Json item;
    item["seed"] = s.seed;
    item["outcome"] = seed_outcome_name(s.outcome);
    item["detail"] = s.detail;
    item["repro"] = s.repro_path;
    item["trace_hash"] = hex64(s.trace_hash);
    item["steps"] = s.steps;
    item["seconds"] = s.seconds;
    seeds.push_back(std::move(item));
  }
  root["seeds"] = std::move(seeds);
  return root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<SweepResult> sweep_from_json(const std::string& text, std::string* error_line) {
  if (text.size() > kMaxSweepJsonBytes) {
    return invalid(error_line, fmt::format("sweep results: {} bytes is over the {} byte limit",
                                           text.size(), kMaxSweepJsonBytes));
  }
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return invalid(error_line, fmt::format("sweep results: not valid JSON ({})", e.what()));
  }
  if (!root.is_object()) return invalid(error_line, "sweep results: expected a JSON object");

  std::string error;
  const Fields top(root, "sweep results");
  std::string format;
  std::uint64_t version = 0;
  if (!top.only({"format", "version", "scenario", "strategy", "faults", "wall_seconds", "failures",
                 "seeds"},
                error) ||
      !top.string("format", format, error)) {
    return invalid(error_line, error);
  }
  if (format != "segsim-sweep") {
    return invalid(error_line, fmt::format("sweep results: format is '{}', not 'segsim-sweep'", format));
  }
  if (!top.u64("version", version, error)) return invalid(error_line, error);
  if (version != 1) {
    return invalid(error_line, fmt::format("sweep results: version {} is not supported (only 1)", version));
  }
  SweepResult result;
  std::uint64_t failures = 0;
  if (!top.string("scenario", result.scenario, error) ||
      !top.string("strategy", result.strategy, error) || !top.string("faults", result.faults, error) ||
      !top.seconds("wall_seconds", result.wall_seconds, error) ||
      !top.u64("failures", failures, error)) {
    return invalid(error_line, error);
  }
  if (!root.contains("seeds") || !root["seeds"].is_array()) {
    return invalid(error_line, "sweep results: field 'seeds' must be an array");
  }
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < root["seeds"].size(); ++i) {
    const Json& item = root["seeds"][i];
    const std::string where = fmt::format("sweep results: seeds[{}]", i);
    if (!item.is_object()) return invalid(error_line, where + ": expected an object");
    const Fields f(item, where);
    SeedResult s;
    std::string outcome;
    std::string hash;
    if (!f.only({"seed", "outcome", "detail", "repro", "trace_hash", "steps", "seconds"}, error) ||
        !f.u64("seed", s.seed, error) || !f.string("outcome", outcome, error) ||
        !f.string("detail", s.detail, error) || !f.string("repro", s.repro_path, error) ||
        !f.string("trace_hash", hash, error) || !f.u64("steps", s.steps, error) ||
        !f.seconds("seconds", s.seconds, error)) {
      return invalid(error_line, error);
    }
    const std::optional<SeedOutcome> parsed = outcome_from_name(outcome);
    if (!parsed) {
      return invalid(error_line, fmt::format("{}: unknown outcome '{}' (passed, failed, crashed, timed-out)",
                                             where, outcome));
    }
    s.outcome = *parsed;
    Result<std::uint64_t> hash_value = parse_hex64(hash);
    if (!hash_value.ok()) {
      return invalid(error_line, fmt::format("{}: trace_hash '{}' is not 0x + 16 hex digits", where, hash));
    }
    s.trace_hash = *hash_value;
    if (!seen.insert(s.seed).second) {
      return invalid(error_line, fmt::format("{}: seed {} is listed twice", where, s.seed));
    }
    result.seeds.push_back(std::move(s));
  }
  if (failures != result.failures()) {
    return invalid(error_line, fmt::format("sweep results: 'failures' says {} but the seeds hold {} "
                                           "(file edited or truncated?)",
                                           failures, result.failures()));
  }
  std::sort(result.seeds.begin(), result.seeds.end(),
            [](const SeedResult& a, const SeedResult& b) { return a.seed < b.seed; });
  return result;
}

namespace {


}  // namespace

std::string sweep_to_junit(const SweepResult& result) {
  const std::string suite = xml_escape(result.scenario, true);
  double seconds = 0;
  for (const SeedResult& s : result.seeds) seconds += s.seconds;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"segsim sweep\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
                     "time=\"{:.3f}\">\n",
                     result.seeds.size(), result.failures(), result.wall_seconds);
  out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" "
                     "time=\"{:.3f}\">\n",
                     suite, result.seeds.size(), result.failures(), seconds);
  out += "    <properties>\n";
  out += fmt::format("      <property name=\"strategy\" value=\"{}\"/>\n", xml_escape(result.strategy, true));
  out += fmt::format("      <property name=\"faults\" value=\"{}\"/>\n", xml_escape(result.faults, true));
  out += "    </properties>\n";
  for (const SeedResult& s : result.seeds) {
    out += fmt::format("    <testcase classname=\"{}\" name=\"seed {}\" time=\"{:.3f}\"", suite, s.seed,
                       s.seconds);
    if (s.outcome == SeedOutcome::Passed) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    std::string body = s.detail;
    if (!s.repro_path.empty()) body += "\nrepro: " + s.repro_path;
    body += fmt::format("\nreproduce: segsim replay {}", s.repro_path.empty() ? "?" : s.repro_path);
    out += fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                       seed_outcome_name(s.outcome), xml_escape(s.detail, true), xml_escape(body, false));
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

Result<SweepResult> merge_sweeps(const std::vector<SweepResult>& shards, std::string* error_line) {
  if (shards.empty()) return invalid(error_line, "merge: no sweep results to merge");
  SweepResult merged;
  merged.scenario = shards.front().scenario;
  merged.strategy = shards.front().strategy;
  merged.faults = shards.front().faults;
  std::map<std::uint64_t, SeedResult> by_seed;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const SweepResult& shard = shards[i];
    const auto mismatch = [&](const char* what, const std::string& a, const std::string& b) {
      return invalid(error_line, fmt::format("merge: result {} has {} '{}' but result 1 has '{}': "
                                             "not shards of one sweep",
                                             i + 1, what, b, a));
    };
    if (shard.scenario != merged.scenario) return mismatch("scenario", merged.scenario, shard.scenario);
    if (shard.strategy != merged.strategy) return mismatch("strategy", merged.strategy, shard.strategy);
    if (shard.faults != merged.faults) return mismatch("faults", merged.faults, shard.faults);
    // Shards run side by side: the merged sweep took as long as the slowest.
    merged.wall_seconds = std::max(merged.wall_seconds, shard.wall_seconds);
    for (const SeedResult& s : shard.seeds) {
      auto [it, inserted] = by_seed.emplace(s.seed, s);
      if (inserted) continue;
      const SeedResult& earlier = it->second;
      if (earlier.outcome != s.outcome) {
        return invalid(error_line, fmt::format("merge: seed {} is {} in one result and {} in another",
                                               s.seed, seed_outcome_name(earlier.outcome),
                                               seed_outcome_name(s.outcome)));
      }
      // A run is a function of its spec: a seed that passed twice with two
      // trace hashes is nondeterminism, the very thing segsim must not hide.
      if (s.outcome == SeedOutcome::Passed && earlier.trace_hash != s.trace_hash) {
        return invalid(error_line, fmt::format("merge: seed {} passed with trace hash {} in one result "
                                               "and {} in another (nondeterminism)",
                                               s.seed, hex64(earlier.trace_hash), hex64(s.trace_hash)));
      }
    }
  }
  merged.seeds.reserve(by_seed.size());
  for (auto& [seed, s] : by_seed) merged.seeds.push_back(std::move(s));
  return merged;
}

}  // namespace segsim::scenarios
