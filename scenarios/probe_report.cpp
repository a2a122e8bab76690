#include "scenarios/probe_report.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/probe.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kMaxProbeListBytes = 1 << 20;
constexpr std::size_t kNamesShown = 12;

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool known_probe(std::string_view name) {
  return std::any_of(probes::kProbes.begin(), probes::kProbes.end(),
                     [&](const probes::Probe& p) { return p.name == name; });
}

}  // namespace

Result<std::vector<std::string>> parse_probe_list(std::string_view text, std::string* error_line) {
  std::vector<std::string> names;
  std::set<std::string, std::less<>> seen;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trimmed(line);
    if (line.empty()) continue;
    if (!known_probe(line)) {
      if (error_line != nullptr) {
        *error_line = fmt::format("probe list line {}: unknown probe {} (see segsim list)", line_number, quoted_text(line));
      }
      return make_error(Errc::InvalidConfig, "unknown probe");
    }
    if (seen.insert(std::string(line)).second) names.emplace_back(line);
  }
  return names;
}

Result<std::vector<std::string>> read_probe_list(const std::string& path, std::string* error_line) {
  auto text = read_text_file(path, kMaxProbeListBytes, "probe list", error_line);
  if (!text.ok()) return text.error();
  auto names = parse_probe_list(text.value(), error_line);
  if (!names.ok() && error_line != nullptr) *error_line = fmt::format("{}: {}", quoted_text(path, 200), *error_line);
  return names;
}

namespace {
// `line`, then "; <what>: a, b, c (and K more)" of the names counted 0.
std::string with_uncounted(std::string line, const char* what, const std::vector<ProbeCount>& counts) {
  std::vector<std::string_view> never;
  for (const ProbeCount& p : counts) {
    if (p.hits == 0) never.push_back(p.name);
  }
  if (never.empty()) return line;
  line += fmt::format("; {}: ", what);
  for (std::size_t i = 0; i < never.size() && i < kNamesShown; ++i) {
    if (i > 0) line += ", ";
    line += never[i];
  }
  if (never.size() > kNamesShown) line += fmt::format(" (and {} more)", never.size() - kNamesShown);
  return line;
}

std::size_t names_counted(const std::vector<ProbeCount>& counts) {
  return static_cast<std::size_t>(std::count_if(counts.begin(), counts.end(), [](const ProbeCount& p) { return p.hits > 0; }));
}
}  // namespace

std::string probe_summary(const std::vector<ProbeCount>& probes) {
  return with_uncounted(fmt::format("probes: {} of {} fired", names_counted(probes), probes.size()), "never fired", probes);
}

std::string fault_point_summary(const std::vector<ProbeCount>& asks, const std::vector<ProbeCount>& fires) {
  return with_uncounted(
      fmt::format("fault points: {} of {} asked, {} fired", names_counted(asks), asks.size(), names_counted(fires)),
      "never asked", asks);
}

std::vector<std::string> missing_probes(const std::vector<ProbeCount>& probes,
                                        const std::vector<std::string>& required) {
  std::vector<std::string> missing;
  for (const std::string& name : required) {
    const auto it = std::find_if(probes.begin(), probes.end(), [&](const ProbeCount& p) { return p.name == name; });
    if (it == probes.end() || it->hits == 0) missing.push_back(name);
  }
  return missing;
}

}  // namespace segsim::scenarios
