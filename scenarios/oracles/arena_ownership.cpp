// arena-ownership: an arena object lies inside one of its arena's chunks (and
// in no other open arena's of its transaction, by contains()), is aligned as
// asked, and shares no byte with any other live arena object (of any
// transaction). arena-content: it reads back what its owner wrote.
#include <fmt/format.h>

#include "scenarios/oracles/arena_oracles.h"

namespace segsim::scenarios {

std::string ArenaOracles::name(const std::byte* data) const {
  auto offset = os_.offset_of(data);
  return offset ? fmt::format("arena object at SimOs offset {:#x}", *offset) : "an arena object outside SimOs";
}

void ArenaOracles::object_allocated(const TxnArena& arena, const ArenaObject& object, std::size_t alignment) {
  if (reinterpret_cast<std::uintptr_t>(object.data) % alignment != 0 || !arena.contains(object.data, object.bytes)) {
    hub_.fail("arena-ownership", fmt::format("{} ({} B, align {}) is misaligned or outside arena {}'s chunks",
                                             name(object.data), object.bytes, alignment, arena.id()));
  }
  // contains() judges the whole range: one longer than all the arena's
  // chunks together lies in none of them.
  if (arena.contains(object.data, arena.tree_reserved_bytes() + 1)) {
    hub_.fail("arena-ownership", fmt::format("arena {} says it contains {} bytes from {}, more than its transaction's "
                                             "{} reserved",
                                             arena.id(), arena.tree_reserved_bytes() + 1, name(object.data),
                                             arena.tree_reserved_bytes()));
  }
  const auto offset = os_.offset_of(object.data);
  if (!offset) hub_.fail("arena-ownership", "an arena object outside the simulated address space");
  const std::uint64_t end = *offset + object.bytes;
  auto next = live_.lower_bound(*offset);
  auto overlap = [&](const std::pair<const std::uint64_t, std::uint64_t>& other) {
    hub_.fail("arena-ownership",
              fmt::format("{} ({} B, arena {}) overlaps the live arena object at [{:#x}, {:#x})", name(object.data),
                          object.bytes, arena.id(), other.first, other.second),
              object.data);
  };
  if (next != live_.end() && next->first < end) overlap(*next);
  if (next != live_.begin() && std::prev(next)->second > *offset) overlap(*std::prev(next));
  live_.emplace(*offset, end);
}

void ArenaOracles::objects_gone(const std::vector<ArenaObject>& objects) {
  for (const ArenaObject& object : objects) {
    if (auto offset = os_.offset_of(object.data)) live_.erase(*offset);
  }
}

void ArenaOracles::check_content(const ArenaObject& object) {
  for (std::size_t i = 0; i < object.bytes; ++i) {
    if (object.data[i] != std::byte{object.fill}) {
      hub_.fail("arena-content", fmt::format("{} byte {} of {} reads {:#04x}, its owner wrote {:#04x}", name(object.data),
                                             i, object.bytes, static_cast<unsigned>(object.data[i]), object.fill),
                object.data);
    }
  }
}

}  // namespace segsim::scenarios
