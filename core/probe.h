// Probes: named paths worth reaching (FoundationDB's CODE_PROBE, Antithesis'
// "sometimes" assertions). A probe marks an error path, a boundary case or a
// fault-handling branch of core/. It observes and never changes behaviour:
//
//   if (bytes == 0) { SEGSIM_PROBE("alloc.invalid_size.zero"); return ...; }
//
// Sweeps and hunts count which probes fired and which never did; probes marked
// `required` in core/probe_list.h are the ones the CI campaign must reach.
// Every site is listed there; naming an unlisted probe is a compile error. With
// counting off a site costs one relaxed load and one predictable branch, like
// a fault point.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

namespace segsim::probes {

struct Probe {
  std::string_view name;
  std::string_view what;  // the path it marks, for `segsim list` and docs/coverage.md
  bool required;          // the CI campaign must reach it (ci/test.sh fails otherwise)
};

}  // namespace segsim::probes

#include "core/probe_list.h"

namespace segsim::probes {

consteval std::size_t id_of(std::string_view name) {
  for (std::size_t i = 0; i < kProbes.size(); ++i) {
    if (kProbes[i].name == name) return i;
  }
  throw "unknown probe: add it to kProbes in core/probe_list.h";  // compile error in a consteval call
}

namespace detail {
inline std::atomic<bool> g_counting{false};
inline std::array<std::atomic<std::uint64_t>, kProbes.size()> g_hits{};
inline void hit(std::size_t id) noexcept { g_hits[id].fetch_add(1, std::memory_order_relaxed); }
}  // namespace detail

// Counting on for the scope's lifetime (process-wide), hits zeroed at entry.
class CountingScope {
 public:
  CountingScope() noexcept {
    for (auto& h : detail::g_hits) h.store(0, std::memory_order_relaxed);
    detail::g_counting.store(true, std::memory_order_relaxed);
  }
  ~CountingScope() { detail::g_counting.store(false, std::memory_order_relaxed); }
  CountingScope(const CountingScope&) = delete;
  CountingScope& operator=(const CountingScope&) = delete;
};

// Hits of every probe since counting started, indexed like kProbes.
inline std::vector<std::uint64_t> hits() {
  std::vector<std::uint64_t> out(kProbes.size());
  for (std::size_t i = 0; i < kProbes.size(); ++i) out[i] = detail::g_hits[i].load(std::memory_order_relaxed);
  return out;
}

}  // namespace segsim::probes

#define SEGSIM_PROBE(name)                                                                       \
  do {                                                                                           \
    if (__builtin_expect(::segsim::probes::detail::g_counting.load(std::memory_order_relaxed), 0)) \
      ::segsim::probes::detail::hit(                                                             \
          std::integral_constant<std::size_t, ::segsim::probes::id_of(name)>::value);            \
  } while (0)
