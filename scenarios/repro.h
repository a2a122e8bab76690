// Repro files: a failing run, written so `segsim replay FILE` re-runs it.
//
// Versioned, human-readable JSON:
// {
//   "format": "segsim-repro", "version": 2,
//   "scenario": "chicago", "seed": 42, "strategy": "random", "pct_depth": 3,
//   "pct_steps": 0,                           // PCT's k as used (0: not pct); optional
//   "faults": "mmap:ENOMEM@p=0.01",           // concrete: never "swarm"
//   "knobs": {"threads": 4, "size": 1, "max_steps": 2000000},
//   "test_hook": "",
//   "build_id": "...",
//   "expected_trace_hash": "0x0123456789abcdef",
//   "failure": {"oracle": "content", "message": "...", "fiber": 2, "step": 1234},
//   "recording": {"follow_recorded_order": true, "report": {crash report}}
//                       // scenario "recorded" only: the crash report its workload
//                       // is rebuilt from (docs/flight-recorder.md), embedded whole
//   "fuzz_artifact": {"target": "alloc_ops", "bytes": "base64"}
//                       // scenario "fuzz-alloc-ops" only: the libFuzzer artifact it runs
//   "decisions": {"encoding": "varint-deflate-base64", "count": N, "data": "eJz..."}
//                       // optional: replayed exactly when present (sim/decision_log.h);
//                       // version 1 wrote a list [0, 1, 1, 2, ...], still read
// }
// Parsing is strict: unknown versions, missing or mistyped fields, and
// truncated files are refused with one line (the CLI exits 2).
#pragma once

#include <optional>
#include <string>

#include "core/result.h"
#include "scenarios/run.h"

namespace segsim::scenarios {

struct Repro {
  RunSpec spec;                 // strategy "replay" when decisions are present
  std::string build_id;
  std::uint64_t expected_trace_hash = 0;
  std::optional<Failure> failure;  // what the recorded run found
};

// Version 2 stores decisions compactly; version 1 files (a JSON list) are still read.
inline constexpr int kReproVersion = 2;

Repro repro_from_report(const RunReport& report);
Repro repro_from_report(RunReport&& report);  // takes the decisions without a copy
std::string repro_to_json(const Repro& repro);
Result<Repro> repro_from_json(const std::string& text, std::string* error_line);
Result<Repro> read_repro(const std::string& path, std::string* error_line);
Status write_repro(const Repro& repro, const std::string& path, std::string* error_line);

}  // namespace segsim::scenarios
