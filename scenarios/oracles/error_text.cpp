// error-text and names (error_text.h): every error a workload observes is
// described once and the line is checked against what the error carries.
#include "scenarios/oracles/error_text.h"

#include <array>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "core/large_object_allocator.h"
#include "core/os.h"
#include "core/pressure_forecaster.h"
#include "core/size_class.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

namespace {

constexpr std::array kErrcs = {Errc::InvalidSize,    Errc::OutOfBudget,    Errc::OutOfMemory,   Errc::DoubleFree,
                               Errc::InvalidPointer, Errc::OsFailure,      Errc::InvalidConfig, Errc::InvalidPageFile,
                               Errc::SlotOutOfRange, Errc::ValueTooLarge,  Errc::PageFull,      Errc::PageReturned,
                               Errc::InUse};

bool contains(std::string_view line, std::string_view part) { return line.find(part) != std::string_view::npos; }

template <class Enum, std::size_t N>
std::optional<std::string> enum_names_problem(std::string_view what, const std::array<Enum, N>& values,
                                              std::string_view (*name)(Enum) noexcept, std::string_view fallback) {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) names[i] = name(values[i]);
  return names_problem(what, names, fallback);
}

}  // namespace

std::optional<std::string> error_text_problem(const Error& error, std::string_view line) {
  const std::string_view name = errc_name(error.code);
  if (name.empty() || name == "unknown error") return fmt::format("code {} has no name", static_cast<int>(error.code));
  if (line.substr(0, name.size()) != name) return fmt::format("'{}' does not start with the code's name '{}'", line, name);
  if (error.detail != nullptr && error.detail[0] != '\0' && !contains(line, error.detail)) {
    return fmt::format("'{}' drops the detail '{}'", line, error.detail);
  }
  if (error.os_errno != 0 && !contains(line, fmt::format("errno {}", error.os_errno))) {
    return fmt::format("'{}' drops errno {}", line, error.os_errno);
  }
  if (error.address != 0 && !contains(line, fmt::format("{:#x}", error.address))) {
    return fmt::format("'{}' drops the address {:#x}", line, error.address);
  }
  const bool has_class = error.size_class >= 0 && error.size_class < static_cast<int>(kSizeClassCount);
  if (has_class && !contains(line, fmt::format("class {} KiB", class_bytes(error.size_class) / 1024))) {
    return fmt::format("'{}' drops the size class {}", line, error.size_class);
  }
  if (!has_class && contains(line, "(class ")) {
    return fmt::format("'{}' names a size class; the error has none ({})", line, error.size_class);
  }
  if (has_class && error.code == Errc::DoubleFree &&
      !contains(line, fmt::format("slice generation now {}", error.live_generation))) {
    return fmt::format("'{}' drops the slice's generation now ({})", line, error.live_generation);
  }
  return std::nullopt;
}

void check_error_text(Oracles& oracles, const Error& error) {
  const std::string line = error.describe();
  if (auto problem = error_text_problem(error, line)) oracles.fail("error-text", *problem);
}

std::optional<std::string> names_problem(std::string_view what, std::span<const std::string_view> names,
                                         std::string_view fallback) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty() || names[i] == fallback) return fmt::format("{} value {} has no name", what, i);
    if (!seen.insert(names[i]).second) return fmt::format("{} name '{}' is given to two values", what, names[i]);
  }
  return std::nullopt;
}

void check_names(Oracles& oracles) {
  std::array<std::string_view, kErrcs.size()> errcs{};
  for (std::size_t i = 0; i < kErrcs.size(); ++i) errcs[i] = errc_name(kErrcs[i]);
  std::optional<std::string> problem = names_problem("Errc", errcs, "unknown error");
  constexpr std::array kAdvice = {Advice::DontNeed, Advice::Free, Advice::WillNeed, Advice::Sequential, Advice::HugePage};
  constexpr std::array kCalls = {OsCall::Map,      OsCall::Unmap,      OsCall::Advise,    OsCall::MapFile,
                                 OsCall::StatFile, OsCall::CreateFile, OsCall::WriteFile, OsCall::CloseFile};
  static_assert(kCalls.size() == kOsCallCount);
  constexpr std::array kPolicies = {FitPolicy::BestFit, FitPolicy::FirstFit, FitPolicy::WorstFit};
  constexpr std::array kTrends = {PressureTrend::Decreasing, PressureTrend::Stable, PressureTrend::Increasing,
                                  PressureTrend::Critical};
  constexpr std::array kLevels = {PressureLevel::Normal, PressureLevel::Warning, PressureLevel::High,
                                  PressureLevel::Critical, PressureLevel::Emergency};
  constexpr std::array kActions = {PressureAction::None, PressureAction::Monitor, PressureAction::GentleEviction,
                                   PressureAction::AggressiveEviction, PressureAction::EmergencyCleanup};
  if (!problem) problem = enum_names_problem("Advice", kAdvice, &advice_name, "unknown");
  if (!problem) problem = enum_names_problem("OsCall", kCalls, &os_call_name, "unknown");
  if (!problem) problem = enum_names_problem("FitPolicy", kPolicies, &fit_policy_name, "unknown");
  if (!problem) problem = enum_names_problem("PressureTrend", kTrends, &pressure_trend_name, "unknown");
  if (!problem) problem = enum_names_problem("PressureLevel", kLevels, &pressure_level_name, "unknown");
  if (!problem) problem = enum_names_problem("PressureAction", kActions, &pressure_action_name, "unknown");
  if (problem) oracles.fail("names", *problem);
}

}  // namespace segsim::scenarios
