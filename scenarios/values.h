// One validator for every number the harness takes, from the command line
// and from its own files: a value out of range is refused with one line,
// never clamped, wrapped or cut to fewer bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace segsim::scenarios {

// A whole decimal number in [min, max]: digits only (no sign, no spaces, no
// 0x), at most 20 of them. `what` names the value in the error line
// ("--seed", "repro knob threads").
Result<std::uint64_t> parse_whole(std::string_view text, std::uint64_t min, std::uint64_t max,
                                  std::string_view what, std::string* error_line);

// A finite decimal number of seconds in [min_seconds, max_seconds] (no nan, inf).
Result<double> parse_seconds(std::string_view text, double min_seconds, double max_seconds,
                             std::string_view what, std::string* error_line);

// Checks an already-typed value: one line when outside [min, max].
Status check_whole(std::uint64_t value, std::uint64_t min, std::uint64_t max, std::string_view what,
                   std::string* error_line);

}  // namespace segsim::scenarios
