// The scheduling strategies by kind: a name from outside (the command line, a
// repro file) is parsed once into a StrategyKind, and a kind is named once
// here — code compares kinds, never names.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace segsim::sim {

enum class StrategyKind : std::uint8_t { Random, Pct, Pos, Rr, Replay, Fuzz };

inline constexpr std::array<StrategyKind, 6> kStrategyKinds = {StrategyKind::Random, StrategyKind::Pct,
                                                               StrategyKind::Pos,    StrategyKind::Rr,
                                                               StrategyKind::Replay, StrategyKind::Fuzz};

constexpr std::string_view strategy_name(StrategyKind kind) noexcept {
  switch (kind) {
    case StrategyKind::Random: return "random";
    case StrategyKind::Pct: return "pct";
    case StrategyKind::Pos: return "pos";
    case StrategyKind::Rr: return "rr";
    case StrategyKind::Replay: return "replay";
    case StrategyKind::Fuzz: return "fuzz";
  }
  return "?";
}

// nullopt for a name that is none of strategy_name's.
constexpr std::optional<StrategyKind> parse_strategy(std::string_view name) noexcept {
  for (StrategyKind kind : kStrategyKinds) {
    if (strategy_name(kind) == name) return kind;
  }
  return std::nullopt;
}

// For messages: every name, as "random, pct, pos, rr, replay, fuzz".
inline constexpr std::string_view kStrategyNames = "random, pct, pos, rr, replay, fuzz";

}  // namespace segsim::sim
