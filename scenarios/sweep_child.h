// The child-process protocol of a sweep: a forked child runs one seed and
// writes one JSON line on a pipe ({"outcome": "passed"|"failed"|"invalid"|
// "environment"|"crashed", "detail", "trace_hash", "steps", "probes",
// "repro" | "repro_error"}); the parent reads it (bounded) and turns it — or
// the child's death, its silence, its hang — into the seed's result, writing
// a repro from the spec alone when the child could not.
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

// The child side: runs one seed and reports on `fd`. Never returns.
[[noreturn]] void run_child(const SweepSpec& spec, std::uint64_t seed, int fd);

// The parent side: one running child.
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

// Reads what the child has written so far (its pipe is non-blocking).
void read_available(Child& child);

// What a child's line adds to the sweep besides its seed's result.
struct ChildExtras {
  std::vector<std::uint64_t>& probe_totals;  // indexed like probes::kProbes
  std::string& setup_error;                  // the child could not set its run up
};

// nullopt when the seed did not run for a reason of the sweep's own (its
// spec was refused, the harness could not set up): then `extras.setup_error`.
std::optional<SeedResult> finish_child(const SweepSpec& spec, const Child& child, int status, ChildExtras extras);

// The system under test never ran: recorded (so the seed is not lost), but
// there is nothing to reproduce.
SeedResult start_failure(std::uint64_t seed, std::string why);

}  // namespace segsim::scenarios::sweep_detail
