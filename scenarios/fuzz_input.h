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
//    a byte per  rule on: its probability, kFuzzFaultRates[byte % 9]
//    if bit 7:   kFuzzPointMaskBytes (a byte per 8 fault points; 2 for 16),
//                little endian: which fault points, a bit each
//                (fault_points::kFaultPoints, in order), then a byte per
//                point on: its probability, kFuzzFaultRates[byte % 9]]
//   the rest     the schedule: strategy fuzz's bytes (sim/fuzz_strategy.cpp)
// Size knob 1 (every scenario's default) and the default step limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/fault_point.h"
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
// The fault points' mask: a bit per point, as many bytes as the list needs,
// so a point appended to kFaultPoints is reachable by the fuzzer at once.
using FuzzPointMask = std::uint64_t;
static_assert(fault_points::kFaultPoints.size() <= 64, "a fuzz input's fault point mask holds 64 points");
inline constexpr std::size_t kFuzzPointMaskBytes = (fault_points::kFaultPoints.size() + 7) / 8;
inline constexpr FuzzPointMask kFuzzPointMaskAll =
    fault_points::kFaultPoints.size() == 64 ? ~FuzzPointMask{0}
                                            : (FuzzPointMask{1} << fault_points::kFaultPoints.size()) - 1;
// The last, 1, makes a point fire every time it is reached: a timing window
// opened at every chance (a slow advise at every decommit) is twice as likely
// to meet the operation it needs as at 0.25. It was added after the first
// eight (the modulus was 8): rate bytes below 8 — every committed corpus
// input's — decode as before.
inline constexpr std::string_view kFuzzFaultRates[] = {"0.001", "0.002", "0.005", "0.01", "0.02",
                                                       "0.05",  "0.1",   "0.25",  "1"};

// The fixed head: scenario, seed, clients.
inline constexpr std::size_t kFuzzHeadBytes = 10;
inline constexpr std::size_t kFuzzSeedOffset = 1;
inline constexpr std::size_t kFuzzClientsOffset = 9;

// An input's fault bytes (byte 10 on) as fields, the rates as their bytes.
struct FuzzFaultBytes {
  std::uint8_t mode = 0;                   // % 4: 0 none, 1 swarm, 2 and 3 the rules below
  std::uint8_t rules = 0;                  // a bit per kFuzzFaultRules entry; kFuzzFaultPointsBit
  std::vector<std::uint8_t> rule_rates;    // one per rule bit set, in order
  FuzzPointMask points = 0;                // a bit per fault point (if kFuzzFaultPointsBit)
  std::vector<std::uint8_t> point_rates;   // one per point bit set, in order
};

// An input split along its layout; join_fuzz_input(split_fuzz_input(b))
// decodes to the run `b` decodes to (bytes past the end read as 0 and are
// written out), so a mutation can change one field and keep the others.
struct FuzzInputParts {
  std::string head;  // kFuzzHeadBytes
  FuzzFaultBytes faults;
  std::string schedule;
};
FuzzInputParts split_fuzz_input(std::string_view bytes);
std::string join_fuzz_input(const FuzzInputParts& parts);
// The fault points' mask as an input holds it: kFuzzPointMaskBytes, little endian.
std::string fuzz_point_mask_bytes(FuzzPointMask mask);

// The run `bytes` stand for: strategy fuzz, fuzz_bytes = the schedule part.
RunSpec fuzz_run_spec(std::string_view bytes);

}  // namespace segsim::scenarios
