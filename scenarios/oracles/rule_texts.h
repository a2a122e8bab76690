// rule-texts: one text per refusal rule (issue 10: errors precise enough to
// check). An Error's detail says which rule refused the call; a caller that
// logs it, and every failure report, tells two refusals apart by it. So when
// a workload's model knows which rule was due — a lookup inside a slice, a
// forged handle of a given kind — the detail must be the text that rule gave
// before in the run, and no other rule may have given that text: a mistake
// that refuses by the wrong rule (or drops the rule's own text) gives one
// text to two rules, or two texts to one.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace segsim::scenarios {

class Oracles;

class RuleTexts {
 public:
  // Bounds the rules one run may name (a workload names a handful).
  static constexpr std::size_t kMaxRules = 64;

  // The problem with `detail` as the text of `rule`, if any; pure but for
  // learning the pair, so a unit test can show it fire.
  std::optional<std::string> problem(std::string_view rule, std::string_view detail);
  // Fails "rule-texts" (at `where`, if given) when problem() has one.
  void check(Oracles& oracles, std::string_view rule, std::string_view detail, const std::byte* where = nullptr);

 private:
  std::map<std::string, std::string, std::less<>> text_of_rule_;
  std::map<std::string, std::string, std::less<>> rule_of_text_;
};

}  // namespace segsim::scenarios
