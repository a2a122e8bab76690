// Grouping a sweep's failures by stable signature (failure_groups.h).
#include "scenarios/failure_groups.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scenarios/failure_signature.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios {

namespace {

using Json = nlohmann::ordered_json;

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The end of the number that starts at `at` (a digit not inside a word).
std::size_t number_end(std::string_view text, std::size_t at) {
  if (const std::size_t hex_end = hex_token_end(text, at); hex_end != at) return hex_end;
  std::size_t end = at;
  while (end < text.size() && is_digit(text[end])) ++end;
  if (end + 1 < text.size() && text[end] == '.' && is_digit(text[end + 1])) {
    ++end;
    while (end < text.size() && is_digit(text[end])) ++end;
  }
  return end;
}

std::string repro_line(const FailureGroup& group) {
  if (group.repro_path.empty()) return fmt::format("seed {}: no repro was written", group.repro_seed);
  return fmt::format("seed {}: segsim replay {}", group.repro_seed, group.repro_path);
}

}  // namespace

std::string mask_numbers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const bool starts_number = is_digit(text[at]) && (at == 0 || !is_word(text[at - 1]));
    if (!starts_number) {
      out += text[at++];
      continue;
    }
    out += 'N';
    at = number_end(text, at);
  }
  return out;
}

std::string failure_signature(const SeedResult& seed) {
  return fmt::format("{}: {}", seed_outcome_name(seed.outcome), mask_numbers(seed.detail));
}

std::vector<FailureGroup> group_failures(const SweepResult& result) {
  std::map<std::string, FailureGroup> by_signature;
  // Seeds in ascending order, whatever order the result holds them in, so the
  // first seed and the representative do not depend on how shards were merged.
  std::vector<const SeedResult*> failing;
  for (const SeedResult& seed : result.seeds) {
    if (seed.outcome != SeedOutcome::Passed) failing.push_back(&seed);
  }
  std::sort(failing.begin(), failing.end(), [](const SeedResult* a, const SeedResult* b) { return a->seed < b->seed; });
  for (const SeedResult* seed : failing) {
    std::string signature = failure_signature(*seed);
    auto [it, inserted] = by_signature.try_emplace(signature);
    FailureGroup& group = it->second;
    if (inserted) {
      group.signature = std::move(signature);
      group.outcome = seed->outcome;
      group.first_seed = seed->seed;
      group.repro_seed = seed->seed;
      group.repro_path = seed->repro_path;
      group.detail = seed->detail;
    } else if (group.repro_path.empty() && !seed->repro_path.empty()) {
      group.repro_seed = seed->seed;
      group.repro_path = seed->repro_path;
      group.detail = seed->detail;
    }
    ++group.count;
    if (group.example_seeds.size() < kExampleSeeds) group.example_seeds.push_back(seed->seed);
  }
  std::vector<FailureGroup> groups;
  groups.reserve(by_signature.size());
  for (auto& [signature, group] : by_signature) groups.push_back(std::move(group));
  std::sort(groups.begin(), groups.end(), [](const FailureGroup& a, const FailureGroup& b) {
    return a.count != b.count ? a.count > b.count : a.first_seed < b.first_seed;
  });
  return groups;
}

std::string failure_groups_summary(const SweepResult& result, const std::vector<FailureGroup>& groups,
                                   std::size_t max_groups) {
  if (groups.empty()) return {};
  std::uint64_t failures = 0;
  for (const FailureGroup& group : groups) failures += group.count;
  std::string out = fmt::format("failures: {} of {} seeds, {} signature(s) (numbers in a signature read N)\n",
                                failures, result.seeds.size(), groups.size());
  out += "   seeds  first seed  signature / representative repro\n";
  const std::size_t shown = std::min(max_groups, groups.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const FailureGroup& group = groups[i];
    out += fmt::format("{:>8}  {:>10}  {}\n", group.count, group.first_seed, one_line(group.signature, 160));
    out += fmt::format("{:>8}  {:>10}  {}\n", "", "", one_line(repro_line(group), 300));
  }
  if (shown < groups.size()) {
    std::uint64_t hidden_seeds = 0;
    for (std::size_t i = shown; i < groups.size(); ++i) hidden_seeds += groups[i].count;
    out += fmt::format("  ... {} more signature(s) on {} seed(s): merge --groups F.json lists every one\n",
                       groups.size() - shown, hidden_seeds);
  }
  return out;
}

std::string failure_groups_to_json(const SweepResult& result, const std::vector<FailureGroup>& groups) {
  Json root;
  root["format"] = "segsim-failure-groups";
  root["version"] = 1;
  root["scenario"] = result.scenario;
  root["strategy"] = result.strategy;
  root["faults"] = result.faults;
  root["bug"] = result.bug;
  root["build_id"] = result.build_id;
  root["seeds"] = result.seeds.size();
  root["failures"] = result.failures();
  Json items = Json::array();
  for (const FailureGroup& group : groups) {
    Json item;
    item["signature"] = group.signature;
    item["outcome"] = seed_outcome_name(group.outcome);
    item["count"] = group.count;
    item["first_seed"] = group.first_seed;
    item["repro_seed"] = group.repro_seed;
    item["repro"] = group.repro_path;
    item["detail"] = group.detail;
    item["example_seeds"] = group.example_seeds;
    items.push_back(std::move(item));
  }
  root["groups"] = std::move(items);
  return root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace segsim::scenarios
