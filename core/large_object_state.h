// LargeObjectAllocator's internal state: spans, the two free-range indexes,
// live objects and ranges being decommitted. Internal to core/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "core/generation.h"
#include "core/id_counter.h"
#include "core/large_object_allocator.h"
#include "core/platform/mutex.h"

namespace segsim::large_objects {

// Ranges and objects are named by (span id, offset): never by address.
using Key = std::pair<std::uint32_t, std::size_t>;
using SizeKey = std::tuple<std::size_t, std::uint32_t, std::size_t>;  // bytes, span, offset

struct FreeRange {
  std::size_t bytes = 0;
  bool clean = false;           // reads zero (fresh or decommitted): no memset on allocate
  std::int64_t freed_at_ns = 0; // idle since
};

struct Live {
  std::size_t bytes = 0;
  std::uint32_t generation = 0;
};

struct Span {
  std::byte* base = nullptr;
  std::size_t bytes = 0;
  std::size_t live_objects = 0;
  std::size_t in_flight_bytes = 0;  // being decommitted (out of the free index)
};

struct InFlight {
  std::size_t bytes = 0;
  std::int64_t freed_at_ns = 0;
};

}  // namespace segsim::large_objects

namespace segsim::detail {
// The process's LargeObjectAllocator ids (its tests skip them forward to the end).
IdCounter& large_allocator_ids() noexcept;
}  // namespace segsim::detail

namespace segsim {

struct LargeObjectAllocator::State {
  mutable platform::Mutex mu;
  std::map<std::uint32_t, large_objects::Span> spans;
  std::map<large_objects::Key, large_objects::FreeRange> free_by_address;
  std::set<large_objects::SizeKey> free_by_size;
  std::map<large_objects::Key, large_objects::Live> live;
  std::map<large_objects::Key, large_objects::InFlight> in_flight;
  std::uint32_t next_span = 1;
  detail::GenerationCounter generations;
  std::size_t live_bytes = 0;
  std::size_t free_bytes = 0;  // free index plus in flight
  std::int64_t next_decommit_check_ns = 0;
  LargeObjectStats counters;  // cumulative counters and mapped / peak bytes

  // Free-index maintenance (lock held).
  void add_free(const large_objects::Key& key, const large_objects::FreeRange& range);
  void remove_free(std::map<large_objects::Key, large_objects::FreeRange>::iterator it);
  // Adds a free range and merges it with adjacent free neighbours.
  void insert_coalescing(large_objects::Key key, large_objects::FreeRange range);
};

}  // namespace segsim
