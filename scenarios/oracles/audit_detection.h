// The "audit-detects" oracle (audit_detection.cpp): an allocator's audit() is
// the harness's last word on accounting at quiescence, so it must name every
// invariant that is broken, and nothing once it holds again. The audit
// episode (workloads/audit_episode.h) breaks one invariant of a private
// instance at a time through the test-only seam (AuditSeam), audits, restores
// it and audits again; this checks both answers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

// `broken`: audit() with the invariant broken — some line must contain
// `phrase` (the rule the corruption breaks); `restored`: audit() after the
// restore — it must be empty. `layer` and `corruption` name the case.
void check_audit_detects(Oracles& hub, std::string_view layer, std::string_view corruption, std::string_view phrase,
                         const std::vector<std::string>& broken, const std::vector<std::string>& restored);

}  // namespace segsim::scenarios
