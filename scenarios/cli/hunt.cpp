// segsim hunt: find the catalogued bugs (mutants builds; scenarios/hunt.h).
#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/mutants.h"
#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/hunt.h"
#include "scenarios/probe_report.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

namespace {

struct HuntCommand {
  std::string bug = "all", strategy = "swarm";
  HuntSpec spec;
  std::string md_out, json_out, probes_json_out;
};

#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
// Writes the requested files; the last error line, or "".
std::string write_hunt_files(const HuntCommand& command, const std::string& table, const std::vector<HuntRow>& rows,
                             const std::vector<ProbeCount>& probes) {
  std::string error;
  if (!command.probes_json_out.empty()) {
    nlohmann::ordered_json doc = {{"probes", nlohmann::ordered_json::object()}};
    for (const ProbeCount& p : probes) doc["probes"][p.name] = p.hits;
    if (!write_text_file(command.probes_json_out, doc.dump(2) + "\n", &error).ok()) {
      std::cerr << "segsim: " << one_line(error) << "\n";
    }
  }
  if (!command.md_out.empty() && !write_text_file(command.md_out, table, &error).ok()) {
    std::cerr << "segsim: " << one_line(error) << "\n";
  }
  if (!command.json_out.empty() && !write_text_file(command.json_out, hunt_json(rows), &error).ok()) {
    std::cerr << "segsim: " << one_line(error) << "\n";
  }
  return error;
}

// Per bug: found by at least one strategy in at least one hunt.
bool all_found(const std::vector<HuntRow>& rows) {
  std::map<std::string, bool> found;
  for (const HuntRow& row : rows) found[row.bug] = found[row.bug] || row.found > 0;
  bool every_bug_found = true;
  for (const auto& [bug, ok] : found) {
    if (!ok) {
      std::cout << "NOT FOUND: " << bug << "\n";
      every_bug_found = false;
    }
  }
  return every_bug_found;
}

int command_hunt(HuntCommand& command) {
  require_mutants_for(command.bug);
  check_outputs({command.md_out, command.json_out, command.probes_json_out});
  HuntSpec& spec = command.spec;
  if (command.bug == "all") {
    for (const auto& bug : segsim::mutants::kCatalogue) spec.bugs.emplace_back(bug.name);
  } else if (segsim::mutants::find(command.bug) == nullptr) {
    bad_input(fmt::format("unknown bug {} (see segsim list)", quoted_text(command.bug)));
  } else {
    spec.bugs.push_back(command.bug);
  }
  spec.strategies = command.strategy == "all" ? std::vector<std::string>{"random", "pct", "pos", "swarm"}
                                              : std::vector<std::string>{command.strategy};
  std::vector<ProbeCount> probes;
  std::vector<HuntRow> rows = run_hunt(spec, std::cerr, &probes);
  const std::string table = hunt_markdown(rows);
  std::cout << table;
  std::cout << probe_summary(probes) << "\n";
  const std::string error = write_hunt_files(command, table, rows, probes);
  return all_found(rows) && error.empty() ? kExitPassed : kExitFailure;
}
#else
int command_hunt(HuntCommand& command) {
  require_mutants_for(command.bug);
  return kExitBadInput;
}
#endif

}  // namespace

Subcommand add_hunt_command(CLI::App& app) {
  auto command = std::make_shared<HuntCommand>();
  auto* hunt = app.add_subcommand("hunt", "find the catalogued bugs (mutants builds)");
  hunt->add_option("--bug", command->bug, "a bug name, or all")->capture_default_str();
  hunt->add_option("--strategy", command->strategy, "random | pct | pos | swarm | all")
      ->check(CLI::IsMember({"random", "pct", "pos", "swarm", "all"}))->capture_default_str();
  add_seconds(hunt, "--budget-seconds", command->spec.budget_seconds, 0.1, 3600.0, "per hunt");
  add_whole(hunt, "--budget-seeds", command->spec.budget_seeds, 1, 100000,
            "per hunt: at most this many seeds (deterministic, unlike --budget-seconds)");
  add_whole(hunt, "--repeats", command->spec.repeats, 1, 100, "independent hunts per bug and strategy");
  add_whole(hunt, "--jobs", command->spec.jobs, 1, 64, "sweep workers at once");
  hunt->add_option("--md", command->md_out, "the table as Markdown");
  hunt->add_option("--json", command->json_out, "the table as JSON");
  hunt->add_option("--probes-json", command->probes_json_out, "probe hits over every seed run, as JSON");
  return {hunt, [command](const std::vector<std::string>&) { return command_hunt(*command); }};
}

}  // namespace segsim::scenarios::cli
