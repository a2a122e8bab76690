// rule-texts (rule_texts.h): one text per refusal rule.
#include "scenarios/oracles/rule_texts.h"

#include <fmt/format.h>

#include "core/assert.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

std::optional<std::string> RuleTexts::problem(std::string_view rule, std::string_view detail) {
  const auto known = text_of_rule_.find(rule);
  if (known != text_of_rule_.end() && known->second != detail) {
    return fmt::format("the rule '{}' was given as '{}' and now as '{}': two texts for one rule", rule, known->second,
                       detail);
  }
  const auto taken = rule_of_text_.find(detail);
  if (taken != rule_of_text_.end() && taken->second != rule) {
    return fmt::format("the text '{}' was given for the rule '{}' and now for '{}': one text for two rules", detail,
                       taken->second, rule);
  }
  if (known == text_of_rule_.end()) {
    SEGSIM_ASSERT(text_of_rule_.size() < kMaxRules, "a workload names more refusal rules than RuleTexts bounds");
    text_of_rule_.emplace(rule, detail);
    rule_of_text_.emplace(detail, rule);
  }
  return std::nullopt;
}

void RuleTexts::check(Oracles& oracles, std::string_view rule, std::string_view detail, const std::byte* where) {
  if (auto found = problem(rule, detail)) oracles.fail("rule-texts", *found, where);
}

std::optional<std::string> size_rule_problem(std::size_t bytes, std::string_view detail,
                                             std::string_view past_largest_text) {
  const std::string_view due = bytes == 0 ? kZeroBytesRuleText : past_largest_text;
  if (detail == due) return std::nullopt;
  return fmt::format("a request of {} bytes was refused as '{}'; its rule's text is '{}'", bytes, detail, due);
}

void check_size_rule(Oracles& oracles, std::string_view call, std::size_t bytes, std::string_view detail,
                     std::string_view past_largest_text) {
  if (auto problem = size_rule_problem(bytes, detail, past_largest_text)) {
    oracles.fail("rule-texts", fmt::format("{}: {}", call, *problem));
  }
}

}  // namespace segsim::scenarios
