// audit-detects: see audit_detection.h.
#include "scenarios/oracles/audit_detection.h"

#include <fmt/format.h>

namespace segsim::scenarios {

void check_audit_detects(Oracles& hub, std::string_view layer, std::string_view corruption, std::string_view phrase,
                         const std::vector<std::string>& broken, const std::vector<std::string>& restored) {
  bool named = false;
  for (const std::string& line : broken) named |= line.find(phrase) != std::string::npos;
  if (!named) {
    hub.fail("audit-detects", fmt::format("{} audit with {} reports {} line(s), none naming '{}'{}{}", layer, corruption,
                                          broken.size(), phrase, broken.empty() ? "" : "; the first: ",
                                          broken.empty() ? std::string() : broken.front()));
  }
  if (!restored.empty()) {
    hub.fail("audit-detects", fmt::format("{} audit still reports '{}' after {} was restored ({} line(s))", layer,
                                          restored.front(), corruption, restored.size()));
  }
}

}  // namespace segsim::scenarios
