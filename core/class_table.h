// ClassTable: a per-size-class table whose index is asserted in range.
//
// A walk of the classes that runs one past the end (`c <= kSlabClassCount`)
// or a class computed wrongly is then an assertion naming the table, under
// the simulator a named failure, instead of a write past an array that
// corrupts whatever lies behind it and crashes later. The check is one
// compare of a loop index or a class already at hand.
#pragma once

#include <array>
#include <cstddef>

#include "core/assert.h"

namespace segsim {

template <typename T, std::size_t N>
struct ClassTable {
  std::array<T, N> items{};

  // Not noexcept: under the simulator a failed assertion throws to fail the run.
  T& operator[](std::size_t c) {
    SEGSIM_ASSERT(c < N, "a size class past its class table");
    return items[c];
  }
  const T& operator[](std::size_t c) const {
    SEGSIM_ASSERT(c < N, "a size class past its class table");
    return items[c];
  }
  static constexpr std::size_t size() noexcept { return N; }
  auto begin() noexcept { return items.begin(); }
  auto end() noexcept { return items.end(); }
  auto begin() const noexcept { return items.begin(); }
  auto end() const noexcept { return items.end(); }
};

}  // namespace segsim
