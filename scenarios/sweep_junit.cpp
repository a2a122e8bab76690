// Sweep results as JUnit XML, for CI: one testcase per seed, the settings as
// properties, a failure's detail and its replay command.
#include <fmt/format.h>

#include "scenarios/sweep_result.h"
#include "scenarios/xml.h"

namespace segsim::scenarios {

std::string sweep_to_junit(const SweepResult& result) {
  const std::string suite = xml_escape(result.scenario, true);
  double seconds = 0;
  for (const SeedResult& s : result.seeds) seconds += s.seconds;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"segsim sweep\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
                     "time=\"{:.3f}\">\n",
                     result.seeds.size(), result.failures(), result.wall_seconds);
  out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" "
                     "time=\"{:.3f}\">\n",
                     suite, result.seeds.size(), result.failures(), seconds);
  out += "    <properties>\n";
  for (const auto& [name, value] : settings_list(result)) {
    if (std::string_view(name) == "scenario") continue;
    out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, xml_escape(value, true));
  }
  out += "    </properties>\n";
  for (const SeedResult& s : result.seeds) {
    out += fmt::format("    <testcase classname=\"{}\" name=\"seed {}\" time=\"{:.3f}\"", suite, s.seed, s.seconds);
    if (s.outcome == SeedOutcome::Passed) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    std::string body = s.detail;
    if (!s.worker_stderr.empty()) body += "\nits stderr: " + s.worker_stderr;
    if (!s.repro_path.empty()) body += "\nrepro: " + s.repro_path;
    body += fmt::format("\nreproduce: segsim replay {}", s.repro_path.empty() ? "?" : s.repro_path);
    out += fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n", seed_outcome_name(s.outcome),
                       xml_escape(s.detail, true), xml_escape(body, false));
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace segsim::scenarios
