// error-text and names: what core says about an error or a state, in words.
// A caller (and every failure report of this harness) reads Error::describe()
// and the *_name() functions; a line that drops the code, the rule or the
// errno hides the diagnosis, and two values sharing a name make a trace lie.
//   error-text  describe() starts with errc_name(code), which is the code's
//               own name; it carries the detail, the errno, the address and,
//               for a double free, the slice's generation now
//   names       every value of each named enum of core/ (Errc, Advice, OsCall,
//               FitPolicy, PressureTrend / Level / Action) has its own
//               non-empty name, never the fallback for unknown values
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/result.h"

namespace segsim::scenarios {

class Oracles;

// The problem with `line` as the description of `error`, if any. Pure, so
// a unit test can show it fire on a wrong line.
std::optional<std::string> error_text_problem(const Error& error, std::string_view line);
// Fails "error-text" when error.describe() has a problem.
void check_error_text(Oracles& oracles, const Error& error);

// What a call ended with, for a failure line: `success_text` when it
// succeeded, else its error's own describe().
template <class Outcome>
std::string outcome_text(const Outcome& outcome, std::string_view success_text = "success") {
  return outcome.ok() ? std::string(success_text) : outcome.error().describe();
}

// The problem with `names` (one per enum value, in order), if any: empty,
// `fallback`, or a name given to two values.
std::optional<std::string> names_problem(std::string_view what, std::span<const std::string_view> names,
                                         std::string_view fallback);
// Fails "names" when any named enum of core/ has a problem.
void check_names(Oracles& oracles);

}  // namespace segsim::scenarios
