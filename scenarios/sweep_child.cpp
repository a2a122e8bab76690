// The worker-process protocol of a sweep (sweep_child.h).
#include "scenarios/sweep_child.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "faults/fault_plan.h"
#include "scenarios/repro.h"
#include "scenarios/worker_life.h"
#include "sim/fatal_failure.h"

namespace segsim::scenarios::sweep_detail {

namespace {

using Json = nlohmann::ordered_json;

// What a child sends back is one short JSON line; anything longer is truncated
// so a runaway child cannot exhaust the parent's memory.
constexpr std::size_t kMaxChildOutputBytes = 1 << 20;
constexpr std::size_t kMaxDetailBytes = 4096;
// A worker's stderr line is kept up to this long (the relay copies all of it).
constexpr std::size_t kMaxStderrLineBytes = 1024;

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

void write_all(int fd, std::string_view text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone: nothing to tell anyone
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace

namespace {

// One seed, run in this process: its line (without "retiring").
Json seed_line(const SweepSpec& spec, std::uint64_t seed) {
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
      line["fault_asks"] = report->fault_point_asks;
      line["fault_fires"] = report->fault_point_fires;
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
  return line;
}

// The worker's end of the socket: where a seed's last words go when an
// assertion kills the process (sim/fatal_failure.h) instead of failing the run.
int g_result_fd = -1;

// The seed's answer when it dies of a failure the simulator named: "failed",
// with the oracle and where it fired, "aborted" (the parent writes the repro
// the worker no longer can) and "retiring" (the worker is about to die: the
// parent must send it no other seed, whether it reads this line before or
// after it reaps the worker).
void report_fatal_failure(const sim::FatalFailure& failure) {
  if (g_result_fd < 0) return;
  const Failure named = named_death_failure(failure);
  Json line;
  line["outcome"] = "failed";
  line["oracle"] = named.oracle;
  line["detail"] = named.message;
  if (failure.step > 0) line["steps"] = failure.step;
  line["aborted"] = truncate_line(failure.where, kMaxDetailBytes);
  line["retiring"] = true;
  write_all(g_result_fd, line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

// The next seed the parent sent, or nullopt at EOF (or a line that is not a
// seed: the parent never sends one, so the worker just ends).
std::optional<std::uint64_t> read_seed(int fd) {
  std::string text;
  char c = 0;
  while (text.size() < 32) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    if (c == '\n') break;
    text += c;
  }
  std::uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return seed;
}

}  // namespace

[[noreturn]] void run_worker(const SweepSpec& spec, std::uint32_t seeds_per_worker, int fd) {
  WorkerLife life(seeds_per_worker, spec.worker_rss_growth_bytes);
  g_result_fd = fd;
  sim::set_fatal_failure_reporter(&report_fatal_failure);
  while (const std::optional<std::uint64_t> seed = read_seed(fd)) {
    reset_between_seeds();
    Json line = seed_line(spec, *seed);
    const bool retiring = life.seed_done();
    if (retiring) line["retiring"] = true;
    write_all(fd, line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
    if (retiring) break;
  }
  ::close(fd);
  // _exit: no static destructors or atexit handlers of the parent's world
  // (gtest, open streams) may run twice.
  ::_exit(0);
}

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

namespace {

// The line read so far becomes the last one, unless it is blank or a
// sanitizer's summary came before it.
void keep_stderr_line(Child& child) {
  std::string line = truncate_line(std::exchange(child.stderr_line, std::string()), kMaxStderrLineBytes);
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!line.empty() && blank(line.back())) line.pop_back();
  line.erase(0, static_cast<std::size_t>(std::find_if_not(line.begin(), line.end(), blank) - line.begin()));
  if (line.empty()) return;
  const bool summary = line.starts_with("SUMMARY: ");
  if (child.stderr_last_is_summary && !summary) return;
  child.stderr_last = std::move(line);
  child.stderr_last_is_summary = summary;
}

}  // namespace

void relay_stderr(Child& child) {
  char buffer[4096];
  while (child.stderr_fd >= 0) {
    const ssize_t n = ::read(child.stderr_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {  // EOF (the worker is gone) or a broken pipe: a last line without its newline counts
      ::close(child.stderr_fd);
      child.stderr_fd = -1;
      keep_stderr_line(child);
      return;
    }
    const std::string_view text(buffer, static_cast<std::size_t>(n));
    write_all(STDERR_FILENO, text);
    for (const char c : text) {
      if (c == '\n') {
        keep_stderr_line(child);
      } else if (child.stderr_line.size() < kMaxStderrLineBytes) {
        child.stderr_line += c;
      }
    }
  }
}

std::optional<std::string> take_line(Child& child) {
  const std::size_t newline = child.output.find('\n');
  if (newline == std::string::npos) return std::nullopt;
  std::string line = child.output.substr(0, newline);
  child.output.erase(0, newline + 1);
  return line;
}

bool line_says_retiring(const std::string& text) {
  const Json line = Json::parse(text, nullptr, false);
  return line.is_object() && line.contains("retiring") && line["retiring"].is_boolean() &&
         line["retiring"].get<bool>();
}

namespace {

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

// The counts under `key` (an array indexed like `totals`) added to `totals`.
void add_line_counts(const Json& line, const char* key, std::vector<std::uint64_t>& totals) {
  if (!line.contains(key) || !line[key].is_array() || line[key].size() != totals.size()) return;
  for (std::size_t i = 0; i < totals.size(); ++i) {
    const Json& hits = line[key][i];
    if (!hits.is_number_unsigned()) continue;
    const std::uint64_t n = hits.get<std::uint64_t>();
    totals[i] = totals[i] > UINT64_MAX - n ? UINT64_MAX : totals[i] + n;
  }
}

}  // namespace

std::optional<SeedResult> finish_child(const SweepSpec& spec, const Child& child, const std::string& line_text,
                                       int status, ChildExtras extras) {
  SeedResult result;
  result.seed = child.seed;
  result.seconds = std::chrono::duration<double>(Clock::now() - child.started).count();

  const Json line = Json::parse(line_text, nullptr, false);
  const bool have_line = line.is_object() && line.contains("outcome") && line["outcome"].is_string();
  const auto text = [&](const char* key) {
    return line.contains(key) && line[key].is_string() ? line[key].get<std::string>() : std::string();
  };
  // A failure the simulator named as the worker died of it (its "aborted"
  // line): the seed failed by that oracle; the worker's death is its consequence.
  const bool named_death = have_line && text("outcome") == "failed" && !text("aborted").empty();

  // The oracle of the repro the parent writes for the seed ("" : the worker wrote one).
  std::string parent_repro_oracle;
  if (child.killed) {
    result.outcome = SeedOutcome::TimedOut;
    result.detail = fmt::format("timed out after {} s", spec.seed_timeout_seconds);
    parent_repro_oracle = "hang";
  } else if (WIFSIGNALED(status) && !named_death) {
    result.outcome = SeedOutcome::Crashed;
    result.detail = signal_text(WTERMSIG(status));
    parent_repro_oracle = "crash";
  } else if (!have_line) {
    result.outcome = SeedOutcome::Crashed;
    result.detail = WIFEXITED(status) ? fmt::format("exited with status {} without a result",
                                                    WEXITSTATUS(status))
                                      : std::string("ended without a result");
    parent_repro_oracle = "crash";
  } else {
    const std::string outcome = line["outcome"].get<std::string>();
    const auto number = [&](const char* key) {
      return line.contains(key) && line[key].is_number_unsigned() ? line[key].get<std::uint64_t>()
                                                                  : std::uint64_t{0};
    };
    add_line_counts(line, "probes", extras.totals.probes);
    add_line_counts(line, "fault_asks", extras.totals.fault_asks);
    add_line_counts(line, "fault_fires", extras.totals.fault_fires);
    result.trace_hash = number("trace_hash");
    result.steps = number("steps");
    result.detail = text("detail");
    if (outcome == "passed") {
      result.outcome = SeedOutcome::Passed;
      result.detail.clear();
    } else if (outcome == "failed") {
      result.outcome = SeedOutcome::Failed;
      result.repro_path = text("repro");
      if (named_death) {
        parent_repro_oracle = text("oracle").empty() ? std::string("assertion") : text("oracle");
      } else if (result.repro_path.empty()) {
        result.detail += fmt::format(" (repro not written: {})", text("repro_error"));
      }
    } else if (outcome == "invalid" || outcome == "environment") {
      // Not a finding about the stack: the same for every seed. The sweep stops.
      extras.setup_error = result.detail.empty() ? std::string("the run could not be set up") : result.detail;
      return std::nullopt;
    } else {
      result.outcome = SeedOutcome::Crashed;
      if (result.detail.empty()) result.detail = fmt::format("child reported '{}'", outcome);
      parent_repro_oracle = "crash";
    }
  }
  if (result.outcome == SeedOutcome::Crashed || result.outcome == SeedOutcome::TimedOut) {
    result.worker_stderr = child.stderr_last;
  }
  if (!parent_repro_oracle.empty()) {
    std::string note;
    result.repro_path = write_parent_repro(spec, child.seed, parent_repro_oracle, result.detail, note);
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

}  // namespace segsim::scenarios::sweep_detail

namespace segsim::scenarios {

Failure named_death_failure(const sim::FatalFailure& fatal) {
  Failure failure;
  failure.oracle = fatal.oracle.empty() ? std::string("assertion") : fatal.oracle;
  failure.message = sweep_detail::truncate_line(fatal.describe(), sweep_detail::kMaxDetailBytes);
  return failure;
}

}  // namespace segsim::scenarios
