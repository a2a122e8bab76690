// A libFuzzer input as a run: what fuzz_scenario (fuzz/scenario.cpp) runs and
// what `segsim fuzz-artifact` turns into a repro. Every byte string decodes
// to a valid RunSpec (reads past the end yield 0), and the same bytes always
// decode to the same spec, so a crash artifact names its run exactly.
//
// Layout:
//   byte 0       scenario: index into scenario_catalogue(), modulo its size
//   bytes 1..8   seed, little endian: the workload's per-seed operation mix
//                and sizes, swarm's fault mix, the fallback schedule stream
//   byte 9       client fibers: 1 + byte % min(4, the scenario's default)
//   byte 10      faults: byte % 4 = 0 none, 1 swarm, 2 or 3 from the bytes:
//   [byte 11     which rules, a bit each (kFuzzFaultRules, in order; bit 7:
//                fault points one by one, as swarm draws them)
//    a byte per  rule on: its probability, kFuzzFaultRates[byte % 8]
//    if bit 7:   two bytes, little endian: which fault points, a bit each
//                (fault_points::kFaultPoints, in order), then a byte per
//                point on: its probability, kFuzzFaultRates[byte % 8]]
//   the rest     the schedule: strategy fuzz's bytes (sim/fuzz_strategy.cpp)
// Size knob 1 (every scenario's default) and the default step limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scenarios/run.h"

namespace segsim::scenarios {

inline constexpr std::uint32_t kFuzzMaxThreads = 4;

// The fault rules a fuzz input switches on, each "<rule>@p=<rate>".
inline constexpr std::string_view kFuzzFaultRules[] = {
    "mmap:ENOMEM", "madvise:EAGAIN", "madvise:EINVAL", "munmap:ENOMEM",
    "async:delay", "async:reorder",  "point:*",
};
// Rules byte bit 7: the fault points are chosen one by one (a subset, as
// swarm's plans have: one point's window may need another point off).
inline constexpr std::uint8_t kFuzzFaultPointsBit = 1u << 7;
inline constexpr std::string_view kFuzzFaultRates[] = {"0.001", "0.002", "0.005", "0.01",
                                                       "0.02",  "0.05",  "0.1",   "0.25"};

// The run `bytes` stand for: strategy fuzz, fuzz_bytes = the schedule part.
RunSpec fuzz_run_spec(std::string_view bytes);

}  // namespace segsim::scenarios
