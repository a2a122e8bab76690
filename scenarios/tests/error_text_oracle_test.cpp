// The error-text and names oracles (scenarios/oracles/error_text.h): they
// accept what core says today and fire on a line or a name table that drops
// what the error carries.
#include <array>
#include <cerrno>
#include <string_view>

#include <gtest/gtest.h>

#include "core/error.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/rule_texts.h"

namespace segsim::scenarios {
namespace {

Error full_double_free() {
  Error error = make_error(Errc::DoubleFree, "slice is free");
  error.address = 0x7f0000001000;
  error.size_class = 4;
  error.generation = 7;
  error.live_generation = 9;
  return error;
}

TEST(ErrorTextOracle, AcceptsCoreDescriptions) {
  EXPECT_EQ(error_text_problem(full_double_free(), full_double_free().describe()), std::nullopt);
  Error os = make_error(Errc::OsFailure, "open for writing failed");
  os.os_errno = ENOTDIR;
  EXPECT_EQ(error_text_problem(os, os.describe()), std::nullopt);
  EXPECT_EQ(error_text_problem(make_error(Errc::InUse), make_error(Errc::InUse).describe()), std::nullopt);
}

TEST(ErrorTextOracle, FiresOnALineThatDropsWhatTheErrorCarries) {
  const Error error = full_double_free();
  EXPECT_TRUE(error_text_problem(error, "invalid pointer: segment 0x7f0000001000"));  // wrong code
  EXPECT_TRUE(error_text_problem(error, "double free: segment 0x7f0000001000 (class 64 KiB, generation 7, "
                                        "slice generation now 9)"));  // no detail
  EXPECT_TRUE(error_text_problem(error, "double free (class 64 KiB, slice generation now 9): slice is free"));
  EXPECT_TRUE(error_text_problem(error, "double free: segment 0x7f0000001000 (class 64 KiB): slice is free"));
  Error os = make_error(Errc::OsFailure, "map failed");
  os.os_errno = ENOMEM;
  EXPECT_TRUE(error_text_problem(os, "os failure: map failed"));  // no errno
}

TEST(NamesOracle, FiresOnEmptyFallbackOrSharedNames) {
  constexpr std::array<std::string_view, 3> good = {"a", "b", "c"};
  constexpr std::array<std::string_view, 3> shared = {"a", "b", "a"};
  constexpr std::array<std::string_view, 2> empty = {"a", ""};
  constexpr std::array<std::string_view, 2> fallback = {"a", "unknown"};
  EXPECT_EQ(names_problem("E", good, "unknown"), std::nullopt);
  EXPECT_TRUE(names_problem("E", shared, "unknown"));
  EXPECT_TRUE(names_problem("E", empty, "unknown"));
  EXPECT_TRUE(names_problem("E", fallback, "unknown"));
}

TEST(NamesOracle, CoreEnumsAllHaveTheirOwnNames) {
  auto os = faults::SimOs::create(faults::SimOsConfig{});
  ASSERT_TRUE(os.ok());
  Oracles oracles(*os.value());
  EXPECT_NO_THROW(check_names(oracles));
  EXPECT_FALSE(oracles.failure().has_value());
}

TEST(ErrorTextOracle, CheckFailsTheRunWithItsName) {
  auto os = faults::SimOs::create(faults::SimOsConfig{});
  ASSERT_TRUE(os.ok());
  Oracles oracles(*os.value());
  Error unnamed = make_error(static_cast<Errc>(200));  // a code core has no name for
  EXPECT_THROW(check_error_text(oracles, unnamed), OracleTripped);
  ASSERT_TRUE(oracles.failure().has_value());
  EXPECT_EQ(oracles.failure()->oracle, "error-text");
}

TEST(RuleTextsOracle, OneTextPerRule) {
  RuleTexts rules;
  EXPECT_EQ(rules.problem("inside a slice", "points inside a slice"), std::nullopt);
  EXPECT_EQ(rules.problem("free slice", "slice is free"), std::nullopt);
  EXPECT_EQ(rules.problem("inside a slice", "points inside a slice"), std::nullopt);  // again: the same text
  const auto two_texts = rules.problem("free slice", "not inside any region");
  ASSERT_TRUE(two_texts.has_value());
  EXPECT_NE(two_texts->find("two texts for one rule"), std::string::npos) << *two_texts;
  const auto one_text = rules.problem("outside", "slice is free");
  ASSERT_TRUE(one_text.has_value());
  EXPECT_NE(one_text->find("one text for two rules"), std::string::npos) << *one_text;
}

TEST(RuleTextsOracle, ASizeRefusalNamesItsRule) {
  EXPECT_EQ(size_rule_problem(0, kZeroBytesRuleText, kPastSlabClassRuleText), std::nullopt);
  EXPECT_EQ(size_rule_problem(4097, kPastSlabClassRuleText, kPastSlabClassRuleText), std::nullopt);
  const auto swapped = size_rule_problem(0, kPastSlabClassRuleText, kPastSlabClassRuleText);
  ASSERT_TRUE(swapped.has_value());
  EXPECT_NE(swapped->find("its rule's text is 'zero bytes requested'"), std::string::npos) << *swapped;
  const auto other_class = size_rule_problem(262145, kPastSlabClassRuleText, kPastSegmentClassRuleText);
  ASSERT_TRUE(other_class.has_value());
  EXPECT_NE(other_class->find("256 KiB"), std::string::npos) << *other_class;
}

TEST(RuleTextsOracle, CheckFailsTheRunWithItsName) {
  auto os = faults::SimOs::create(faults::SimOsConfig{});
  ASSERT_TRUE(os.ok());
  Oracles oracles(*os.value());
  RuleTexts rules;
  rules.check(oracles, "a", "text");
  EXPECT_THROW(rules.check(oracles, "b", "text"), OracleTripped);
  ASSERT_TRUE(oracles.failure().has_value());
  EXPECT_EQ(oracles.failure()->oracle, "rule-texts");
}

}  // namespace
}  // namespace segsim::scenarios
