// Probe accounting for sweeps and merges (DESIGN.md, "Probes"): the summary
// line, and the list of probes a campaign must reach (--require-probes FILE).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "scenarios/sweep.h"

namespace segsim::scenarios {

// A probe list: one probe name per line; '#' starts a comment; blank lines
// and surrounding spaces are ignored. A name that is not a probe of this
// build (core/probe_list.h) is refused with one line naming it and its line.
Result<std::vector<std::string>> parse_probe_list(std::string_view text, std::string* error_line);
Result<std::vector<std::string>> read_probe_list(const std::string& path, std::string* error_line);

// "probes: N of M fired; never fired: a, b, c (and K more)".
std::string probe_summary(const std::vector<ProbeCount>& probes);

// "fault points: N of M asked, K fired; never asked: a, b (and J more)".
std::string fault_point_summary(const std::vector<ProbeCount>& asks, const std::vector<ProbeCount>& fires);

// Those of `required` with no hits in `probes` (a probe absent counts as none).
std::vector<std::string> missing_probes(const std::vector<ProbeCount>& probes,
                                        const std::vector<std::string>& required);

}  // namespace segsim::scenarios
