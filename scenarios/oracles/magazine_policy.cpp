// magazine-policy: see magazine_policy.h.
#include "scenarios/oracles/magazine_policy.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/assert.h"

namespace segsim::scenarios {

MagazinePolicyModel::MagazinePolicyModel(Oracles& oracles, const SlabAllocatorConfig& config)
    : oracles_(oracles), adaptive_(config.adaptive_magazines), depot_full_max_(config.depot_full_magazines_max) {
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    Class& k = classes_[c];
    const std::uint32_t initial = config.magazine_capacity[c];
    SEGSIM_ASSERT(initial >= 1, "a magazine capacity of zero");
    k.capacity = initial;
    k.min_capacity = adaptive_ ? std::max<std::uint32_t>(1, initial / 2) : initial;
    k.max_capacity = adaptive_ ? std::min<std::uint32_t>(1024, initial * 2) : initial;
    k.loaded.capacity = initial;
    k.previous.placeholder = true;
  }
}

void MagazinePolicyModel::fail(const char* call, const std::string& what) {
  oracles_.fail("magazine-policy", fmt::format("call {} ({}): {}", calls_, call, what));
}

void MagazinePolicyModel::exchange(Class& k) {
  ++k.exchanges;
  const std::uint64_t ops = std::exchange(k.ops_since_exchange, 0);
  if (!adaptive_) return;
  k.window_ops += ops;
  if (++k.window_exchanges < kMagazineAdaptWindow) return;
  const std::uint64_t per_exchange = k.window_ops / k.window_exchanges;
  k.window_ops = 0;
  k.window_exchanges = 0;
  if (per_exchange <= std::uint64_t{2} * k.capacity) {
    k.capacity = std::min(k.max_capacity, k.capacity + std::max<std::uint32_t>(1, k.capacity / 2));
  } else if (per_exchange > std::uint64_t{16} * k.capacity) {
    k.capacity = std::max(k.min_capacity, k.capacity - std::max<std::uint32_t>(1, k.capacity / 4));
  }
}

void MagazinePolicyModel::drain_beyond_limit(Class& k) {
  while (k.depot_full.size() > depot_full_max_) k.depot_full.pop_front();  // the oldest goes to the slabs
}

void MagazinePolicyModel::allocated(int size_class, const SlabObject& got, const SlabStats& after) {
  ++calls_;
  Class& k = classes_[static_cast<std::size_t>(size_class)];
  ++k.ops_since_exchange;
  if (k.loaded.objects.empty() && !k.previous.objects.empty()) std::swap(k.loaded, k.previous);
  if (!k.loaded.objects.empty()) {
    ++k.fast_allocations;
  } else {
    exchange(k);
    if (!k.depot_full.empty()) {
      // The previous goes back to the depot empty; the empty loaded becomes the previous.
      k.previous = std::move(k.loaded);
      k.loaded = std::move(k.depot_full.back());
      k.depot_full.pop_back();
    } else {
      k.loaded.capacity = k.capacity;
      k.loaded.objects.assign(k.capacity, std::nullopt);
    }
  }
  ++k.allocations;
  SEGSIM_ASSERT(!k.loaded.objects.empty(), "the model hands out of an empty magazine");
  const std::optional<const std::byte*> top = k.loaded.objects.back();
  k.loaded.objects.pop_back();
  if (top && *top != got.data()) {
    fail("allocate", fmt::format("a class-{} allocation handed out another object than the loaded magazine's top "
                                 "(the object freed last into it)",
                                 size_class));
  }
  check("allocate", after);
}

void MagazinePolicyModel::freed(int size_class, const std::byte* data, const SlabStats& after) {
  ++calls_;
  Class& k = classes_[static_cast<std::size_t>(size_class)];
  ++k.frees;
  ++k.ops_since_exchange;
  if (k.loaded.full() && !k.previous.placeholder && k.previous.objects.empty()) std::swap(k.loaded, k.previous);
  if (!k.loaded.full()) {
    ++k.fast_frees;
  } else {
    exchange(k);
    if (!k.previous.placeholder) k.depot_full.push_back(std::move(k.previous));
    k.previous = std::move(k.loaded);
    k.loaded = Magazine{{}, k.capacity, false};
    drain_beyond_limit(k);
  }
  k.loaded.objects.emplace_back(data);
  check("free", after);
}

void MagazinePolicyModel::refused(const char* call, const SlabStats& after) {
  ++calls_;
  check(call, after);
}

void MagazinePolicyModel::flushed(const SlabStats& after) {
  ++calls_;
  for (Class& k : classes_) {
    if (k.loaded.objects.empty() && k.previous.objects.empty()) continue;
    if (!k.loaded.objects.empty()) {
      k.depot_full.push_back(std::move(k.loaded));
      k.loaded = Magazine{{}, k.capacity, false};
    }
    if (!k.previous.objects.empty()) {
      k.depot_full.push_back(std::move(k.previous));
      k.previous = Magazine{{}, 0, true};
    }
    drain_beyond_limit(k);
  }
  check("flush_thread_cache", after);
}

void MagazinePolicyModel::check(const char* call, const SlabStats& after) {
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    const Class& k = classes_[c];
    const SlabClassStats& s = after.classes[c];
    std::size_t depot_objects = 0;
    for (const Magazine& m : k.depot_full) depot_objects += m.objects.size();
    const std::size_t cached = k.loaded.objects.size() + k.previous.objects.size();
    const auto mismatch = [&](const char* what, std::uint64_t seen, std::uint64_t due) {
      if (seen != due) {
        fail(call, fmt::format("class {} ({} B objects): {} is {}, the policy says {}", c, kSlabClassBytes[c], what,
                               seen, due));
      }
    };
    mismatch("magazine capacity", s.magazine_capacity, k.capacity);
    mismatch("depot exchanges", s.depot_exchanges, k.exchanges);
    mismatch("objects in the thread's magazines", s.cached_objects, cached);
    mismatch("objects in the depot's full magazines", s.depot_objects, depot_objects);
    mismatch("allocations", s.allocations, k.allocations);
    mismatch("allocations served by the magazines", s.fast_allocations, k.fast_allocations);
    mismatch("frees", s.frees, k.frees);
    mismatch("frees taken by the magazines", s.fast_frees, k.fast_frees);
    mismatch("live objects", s.live_objects, k.allocations - k.frees);
  }
}

}  // namespace segsim::scenarios
