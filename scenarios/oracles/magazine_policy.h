// magazine-policy: a slab thread cache's magazines move when the header says
// they must (core/slab_allocator.h, "Fast path" and "Magazine capacity"), not
// merely correctly.
//
// A thread cache that exchanges with the depot when its own magazines could
// have served, loads the wrong magazine, keeps the wrong one in the depot or
// adapts its capacity to the wrong traffic returns right objects to every
// caller: only speed is lost, and no other oracle sees it. This model follows
// one fiber's magazines on an allocator only it uses, with no fault point able
// to fire and room for every slab, and predicts each call exactly:
//  * allocate: the previous magazine is swapped in when the loaded one is
//    empty and it is not; a non-empty loaded magazine serves (fast) its top
//    object — the one freed last; else one exchange: the depot's newest full
//    magazine is loaded (the loaded one becomes the previous, the previous goes
//    back empty), or without one the loaded magazine is filled from the slabs
//    to the class's capacity;
//  * free: a full loaded magazine is swapped for an empty previous one; a
//    loaded magazine with room takes the object (fast); else one exchange: the
//    previous goes to the depot as full (beyond depot_full_magazines_max the
//    depot's oldest drains to the slabs), the loaded becomes the previous and
//    an empty magazine of the class's capacity is loaded;
//  * flush_thread_cache: each non-empty magazine goes to the depot (oldest
//    drained beyond the limit), an empty one of the class's capacity is loaded;
//  * capacity: every operation counts toward the caller's next exchange; every
//    16 exchanges of a class compare the operations per exchange with the
//    capacity: at most twice it grows by max(1, capacity / 2) (up to twice the
//    initial), more than 16 times it shrinks by max(1, capacity / 4) (down to
//    max(1, initial / 2)) — when adaptive_magazines is set.
// Checked after every call against stats(), class by class: cached and depot
// objects, capacity, allocations, frees, fast paths, exchanges, live objects;
// and the object a fast allocation hands out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/slab_allocator.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

// Exchanges of a class per capacity decision (core/slab_allocator.h's).
inline constexpr std::uint64_t kMagazineAdaptWindow = 16;

class MagazinePolicyModel {
 public:
  MagazinePolicyModel(Oracles& oracles, const SlabAllocatorConfig& config);

  // An allocation of class `size_class` that returned `got`.
  void allocated(int size_class, const SlabObject& got, const SlabStats& after);
  // A free of a live object of the caller's (by handle or by address).
  void freed(int size_class, const std::byte* data, const SlabStats& after);
  // A free or allocation the allocator refused: nothing may change.
  void refused(const char* call, const SlabStats& after);
  void flushed(const SlabStats& after);  // flush_thread_cache()

  std::uint32_t capacity(int size_class) const noexcept {
    return classes_[static_cast<std::size_t>(size_class)].capacity;
  }
  // The class's adaptation window as it stands, for a workload that steers
  // a window's end onto the policy's edges: its exchanges so far, and the
  // operations its next exchange would judge with (those of the window's
  // exchanges so far plus those since the last).
  bool adaptive() const noexcept { return adaptive_; }
  std::uint64_t window_exchanges(int size_class) const noexcept {
    return classes_[static_cast<std::size_t>(size_class)].window_exchanges;
  }
  std::uint64_t window_ops(int size_class) const noexcept {
    const Class& k = classes_[static_cast<std::size_t>(size_class)];
    return k.window_ops + k.ops_since_exchange;
  }

 private:
  struct Magazine {
    std::vector<std::optional<const std::byte*>> objects;  // unknown identity after a fill from the slabs
    std::uint32_t capacity = 0;
    bool placeholder = false;  // "no previous magazine": empty, no room
    bool full() const noexcept { return objects.size() >= capacity; }
  };
  struct Class {
    Magazine loaded;
    Magazine previous;
    std::deque<Magazine> depot_full;  // oldest first
    std::uint32_t capacity = 0, min_capacity = 0, max_capacity = 0;
    std::uint64_t ops_since_exchange = 0, window_exchanges = 0, window_ops = 0;
    std::uint64_t allocations = 0, frees = 0, fast_allocations = 0, fast_frees = 0, exchanges = 0;
  };

  void exchange(Class& k);
  void drain_beyond_limit(Class& k);
  void check(const char* call, const SlabStats& after);
  [[noreturn]] void fail(const char* call, const std::string& what);

  Oracles& oracles_;
  bool adaptive_;
  std::size_t depot_full_max_;
  std::array<Class, kSlabClassCount> classes_{};
  std::uint64_t calls_ = 0;
};

}  // namespace segsim::scenarios
