// rule-texts: one text per refusal rule (issue 10: errors precise enough to
// check). An Error's detail says which rule refused the call; a caller that
// logs it, and every failure report, tells two refusals apart by it. So when
// a workload's model knows which rule was due — a lookup inside a slice, a
// forged handle of a given kind — the detail must be the text that rule gave
// before in the run, and no other rule may have given that text: a mistake
// that refuses by the wrong rule (or drops the rule's own text) gives one
// text to two rules, or two texts to one.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace segsim::scenarios {

class Oracles;

// The size rules' texts (an InvalidSize refusal's detail): a request of
// zero bytes, and one past the largest class (each allocator names its
// class). Both rules give the same code, so the detail alone tells a caller
// which rule refused — and a refusal by the other rule (the tests swapped).
inline constexpr std::string_view kZeroBytesRuleText = "zero bytes requested";
inline constexpr std::string_view kPastSegmentClassRuleText = "larger than the 256 KiB class";
inline constexpr std::string_view kPastSlabClassRuleText = "larger than the 4 KiB slab class";
// The problem with an InvalidSize refusal of `bytes` whose detail is
// `detail`, when `past_largest_text` is the component's text for a request
// past its largest class; nothing when the detail names the due rule.
std::optional<std::string> size_rule_problem(std::size_t bytes, std::string_view detail,
                                             std::string_view past_largest_text);
// Fails "rule-texts", naming `call`, when size_rule_problem() has one.
void check_size_rule(Oracles& oracles, std::string_view call, std::size_t bytes, std::string_view detail,
                     std::string_view past_largest_text);

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
