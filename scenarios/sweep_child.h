// The worker-process protocol of a sweep. A forked worker runs seeds one at a
// time over a socket pair: the parent writes a seed number ("N\n"), the
// worker runs it and answers one JSON line ({"outcome": "passed"|"failed"|
// "invalid"|"environment"|"crashed", "detail", "trace_hash", "steps",
// "probes", "repro" | "repro_error", "retiring"}), then waits for the next.
// A seed that dies of a failure the simulator still named (an assertion in a
// noexcept destructor or in teardown: sim/fatal_failure.h) answers
// {"outcome": "failed", "oracle", "detail", "aborted", "retiring": true}
// just before the worker aborts; the parent counts the seed as failed by
// that oracle and writes its repro.
// Only one seed is ever in flight per worker, so a worker's death or hang
// costs exactly that seed: the parent turns the line — or the death, the
// silence, the hang — into the seed's result, writing a repro from the spec
// alone when the worker could not, and forks a replacement. A worker ends
// when the parent shuts its side down (EOF), or after a seed it answered
// with "retiring": true (its seed quota or memory growth limit was reached).
// Between seeds a worker resets the process-wide state a seed leaves behind
// (reset_between_seeds), so a seed gives the same line in a reused worker as
// in a fresh process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/sweep.h"

namespace segsim::scenarios::sweep_detail {

using Clock = std::chrono::steady_clock;

// The worker side: answers seeds read from `fd` until EOF or retirement
// (after `seeds_per_worker` seeds, or memory growth: worker_life.h). Never returns.
[[noreturn]] void run_worker(const SweepSpec& spec, std::uint32_t seeds_per_worker, int fd);

// The parent side: one worker process and the seed it runs, if any.
struct Child {
  pid_t pid = -1;
  int fd = -1;                // the parent's end of the socket pair (non-blocking)
  bool busy = false;          // a seed is in flight: index, seed, started, deadline
  std::size_t index = 0;      // into the shard's seeds
  std::uint64_t seed = 0;
  Clock::time_point started;
  Clock::time_point deadline;
  std::uint32_t seeds_sent = 0;
  std::string output;
  bool eof = false;
  int stderr_fd = -1;         // the parent's end of the worker's stderr pipe (non-blocking); -1 once closed
  std::string stderr_line;    // the stderr line being read (bounded)
  std::string stderr_last;    // the last whole stderr line since the seed was sent
  bool stderr_last_is_summary = false;
  bool killed = false;        // past its seed's deadline: SIGKILL sent
  bool retiring = false;      // no more seeds: its side is shut down, it exits
};

// Reads what the worker has written so far.
void read_available(Child& child);

// Copies what the worker wrote to its stderr since the last call to the
// parent's stderr as it came, and keeps its last line in `stderr_last` (a
// sanitizer's "SUMMARY: " line over any later one); closes `stderr_fd` at
// EOF. Call before taking a seed's answer so nothing is attributed late.
void relay_stderr(Child& child);

// The first complete line of `child.output`, taken out of it; nullopt while
// the line is still incomplete.
std::optional<std::string> take_line(Child& child);

// Whether a worker's line says it exits after this seed.
bool line_says_retiring(const std::string& line);

// What a child's line adds to the sweep besides its seed's result.
struct CountTotals {
  std::vector<std::uint64_t> probes;       // indexed like probes::kProbes
  std::vector<std::uint64_t> fault_asks;   // indexed like fault_points::kFaultPoints
  std::vector<std::uint64_t> fault_fires;  // likewise
};
struct ChildExtras {
  CountTotals& totals;
  std::string& setup_error;  // the child could not set its run up
};

// The result of the child's seed: from its `line` (a living worker answered;
// `status` is then 0), or from how the worker ended (`status` from waitpid,
// `line` what it wrote before, if anything). nullopt when the seed did not
// run for a reason of the sweep's own (its spec was refused, the harness
// could not set up): then `extras.setup_error`.
std::optional<SeedResult> finish_child(const SweepSpec& spec, const Child& child, const std::string& line,
                                       int status, ChildExtras extras);

// The system under test never ran: recorded (so the seed is not lost), but
// there is nothing to reproduce.
SeedResult start_failure(std::uint64_t seed, std::string why);

}  // namespace segsim::scenarios::sweep_detail
