// The seed run once more in a fresh process of this binary, under another
// heap: what `segsim run --check-determinism` compares its own runs with.
//
// Two runs in one process share its address space layout, its statics and
// a heap whose history only grew; a run whose decisions depend on any of
// them (a raw address, a static left over, where malloc put a block) still
// agrees with itself there. DESIGN.md promises more: the same trace hash in
// every process, on every machine, under any ASLR. So the third run is a new
// process (/proc/self/exe: a new layout, no statics) whose heap reuses freed
// memory in another order — glibc's malloc with tcache bins of 100 chunks and
// no fastbins, ASan's allocator with no quarantine (the settings of
// ci/other_heap.sh, which the campaign's pass 4 uses for whole sweeps).
//
// What it promises:
//  * The child runs `segsim run` with the spec's scenario, seed, strategy,
//    PCT knobs, faults, step limit, threads, size, test hook and bug; its
//    output goes to /dev/null, its summary to a private temporary folder,
//    removed afterwards (with any repro the child wrote there).
//  * It is waited for at most `time_limit_s` seconds, then killed.
//  * Every outcome is told: the trace hash and pass / fail of the child, or
//    one line saying why there is none (could not start, killed by a signal,
//    timed out, exit 2, an unreadable summary).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/run.h"

namespace segsim::scenarios::cli {

// The environment assignments of the other heap (NAME=VALUE), given the
// ASAN_OPTIONS already set (null: none).
std::vector<std::string> other_heap_environment(const char* asan_options);

// The `segsim run` arguments (after "run") that repeat `spec`.
std::vector<std::string> run_arguments(const RunSpec& spec);

struct FreshRun {
  bool started = false;  // false: the child could not be made (`error` says why): nothing compared
  bool ran = false;      // started, ended by exit 0 or 1 and left a summary; else `error` says how it ended
  std::string error;     // one line
  std::uint64_t trace_hash = 0;
  bool passed = false;
};

FreshRun run_in_fresh_process(const RunSpec& spec, double time_limit_s);

}  // namespace segsim::scenarios::cli
