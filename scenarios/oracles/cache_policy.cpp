// cache-policy: see cache_policy.h.
#include "scenarios/oracles/cache_policy.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "core/segment_allocator_impl.h"
#include "core/size_class.h"

namespace segsim::scenarios {

CachePolicyModel::CachePolicyModel(Oracles& oracles, const SegmentAllocatorConfig& config)
    : oracles_(oracles), caches_max_bytes_(config.thread_caches_max_bytes) {
  SEGSIM_ASSERT(config.thread_cache_bytes != 0, "the cache-policy model of an allocator without caches");
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    // core/segment_allocator.h: thread_cache_bytes per class, at least one slice, at most 32.
    capacity_[c] = static_cast<std::uint32_t>(
        std::clamp<std::size_t>(config.thread_cache_bytes / class_bytes(c), 1, detail::kMaxCachedSlices));
  }
}

std::size_t CachePolicyModel::held_bytes() const {
  std::size_t bytes = 0;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) bytes += cached_[c].size() * class_bytes(c);
  return bytes;
}

void CachePolicyModel::asked(std::size_t bytes) {
  SEGSIM_ASSERT(bytes <= caches_max_bytes_, "a grant the model knows the limit refuses");
  most_asked_bytes_ = std::max(most_asked_bytes_, bytes);
}

void CachePolicyModel::fail(const char* call, const std::string& what) {
  oracles_.fail("cache-policy", fmt::format("call {} ({}): {}", calls_, call, what));
}

void CachePolicyModel::allocated(int size_class, const Segment& got, const AllocatorStats& after) {
  ++calls_;
  ++live_;
  has_cache_ = true;
  const auto c = static_cast<std::size_t>(size_class);
  const std::size_t slice_bytes = class_bytes(c);
  ClassCache& cache = cached_[c];
  std::uint32_t& generations = generations_left_[c];
  if (!cache.empty()) {
    // A hit: the top slice (a cache out of generations reserves a block first, no refill).
    if (generations == 0) generations = detail::kCacheGenerationBlock;
    const std::optional<Slot> top = cache.back();
    cache.pop_back();
    --generations;
    ++hits_;
    if (top && (got.region_id() != top->region || got.slice_index() != top->slice)) {
      fail("allocate", fmt::format("a {} KiB hit handed out region {} slice {}; the top of the class cache is region "
                                   "{} slice {} (the slice cached last)",
                                   slice_bytes / 1024, got.region_id(), got.slice_index(), top->region, top->slice));
    }
  } else {
    if (generations == 0) generations = detail::kCacheGenerationBlock;  // reserved before the grant is asked
    const std::size_t held = held_bytes();
    std::uint32_t want = std::max<std::uint32_t>(1, capacity_[c] / 2);
    if (held + want * slice_bytes > caches_max_bytes_) want = held + slice_bytes <= caches_max_bytes_ ? 1 : 0;
    if (want != 0) {
      asked(held + want * slice_bytes);
      ++refills_;
      ++hits_;
      --generations;
      const std::size_t kept = after.classes[c].cached_slices;
      if (kept + 1 > want) {
        fail("allocate", fmt::format("an empty {} KiB class cache refilled with at most {} slice(s) (capacity {}, "
                                     "{} of {} limit bytes held) keeps {} after handing one out",
                                     slice_bytes / 1024, want, capacity_[c], held, caches_max_bytes_, kept));
      }
      cache.assign(kept, std::nullopt);
    }
  }
  check("allocate", after);
}

void CachePolicyModel::released(const Segment& segment, bool other_cache, const AllocatorStats& after) {
  ++calls_;
  SEGSIM_ASSERT(live_ > 0, "a release the model holds no live slice for");
  --live_;
  has_cache_ = true;
  const auto c = static_cast<std::size_t>(segment.size_class());
  const std::size_t slice_bytes = class_bytes(c);
  ClassCache& cache = cached_[c];
  const std::size_t spill = cache.size() >= capacity_[c] ? cache.size() - cache.size() / 2 : 0;
  if (held_bytes() - spill * slice_bytes + slice_bytes <= caches_max_bytes_) {
    asked(held_bytes() - spill * slice_bytes + slice_bytes);
    cache.erase(cache.begin(), cache.begin() + static_cast<std::ptrdiff_t>(spill));  // the older half
    cache.push_back(Slot{segment.region_id(), segment.slice_index()});
    if (other_cache) ++remote_;
  }
  check("release", after);
}

void CachePolicyModel::refused(const AllocatorStats& before, const AllocatorStats& after) {
  ++calls_;
  if (after.thread_cache_granted_bytes > before.thread_cache_granted_bytes) {
    fail("refused release", fmt::format("the caches' grant of the limit grew from {} to {} bytes",
                                        before.thread_cache_granted_bytes, after.thread_cache_granted_bytes));
  }
  check("refused release", after);
}

void CachePolicyModel::flushed(const AllocatorStats& after) {
  ++calls_;
  if (has_cache_) ++flushes_;
  for (ClassCache& cache : cached_) cache.clear();
  most_asked_bytes_ = 0;  // an emptied cache gives its whole grant back
  check("flush_thread_cache", after);
}

void CachePolicyModel::reclaimed(bool emptied, const AllocatorStats& before, const AllocatorStats& after) {
  ++calls_;
  if (emptied) {
    if (after.thread_caches != before.thread_caches) {
      fail("reclaim", fmt::format("{} thread cache(s) before, {} after", before.thread_caches, after.thread_caches));
    }
    flushes_ += after.thread_caches;
    for (ClassCache& cache : cached_) cache.clear();
    most_asked_bytes_ = 0;
  }
  check(emptied ? "reclaim (every cache emptied)" : "reclaim (nothing to unmap)", after);
}

void CachePolicyModel::others_ran(const AllocatorStats& after, std::size_t handed_over) {
  ++calls_;
  if (after.cache_hits < hits_ || after.cache_refills < refills_ || after.cache_flushes < flushes_) {
    fail("other fibers' calls", fmt::format("hits {} → {}, refills {} → {}, flushes {} → {}", hits_, after.cache_hits,
                                            refills_, after.cache_refills, flushes_, after.cache_flushes));
  }
  hits_ = after.cache_hits;
  refills_ = after.cache_refills;
  flushes_ = after.cache_flushes;
  live_ += handed_over;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    // A growth of the class flushes it from every cache; nothing else touches the caller's.
    if (after.classes[c].cached_slices == 0) cached_[c].clear();
  }
  check("other fibers' calls", after);
}

void CachePolicyModel::check(const char* call, const AllocatorStats& after) {
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    if (after.classes[c].cached_slices != cached_[c].size()) {
      fail(call, fmt::format("{} KiB: {} slice(s) cached; the model holds {} (class capacity {}, limit {} bytes, "
                             "{} held by the model's cache)",
                             class_bytes(c) / 1024, after.classes[c].cached_slices, cached_[c].size(), capacity_[c],
                             caches_max_bytes_, held_bytes()));
    }
  }
  const auto count = [&](const char* what, std::uint64_t got, std::uint64_t due) {
    if (got != due) fail(call, fmt::format("stats() counts {} {}; the model {}", got, what, due));
  };
  count("cache hits", after.cache_hits, hits_);
  count("cache refills", after.cache_refills, refills_);
  count("cache flushes", after.cache_flushes, flushes_);
  count("remote releases", after.remote_releases, remote_);
  count("live slices", after.live_slices(), live_);
  // The caches' grant (allocator_stats.h): a share of the limit that covers
  // every cached slice — here the model's cache's, the only one holding any —
  // with at most the room of the grant units it was asked for since it was
  // last emptied.
  const std::size_t room_bytes =
      (most_asked_bytes_ + detail::kCacheGrantBytes - 1) / detail::kCacheGrantBytes * detail::kCacheGrantBytes;
  const std::size_t most_bytes = std::min(room_bytes, caches_max_bytes_);
  if (after.thread_cache_granted_bytes < held_bytes() || after.thread_cache_granted_bytes > most_bytes) {
    fail(call, fmt::format("stats() says the caches were granted {} bytes; they cache {}, asked for at most {} since "
                           "last emptied ({} in whole {} KiB grant units), and the limit is {}",
                           after.thread_cache_granted_bytes, held_bytes(), most_asked_bytes_, room_bytes,
                           detail::kCacheGrantBytes / 1024, caches_max_bytes_));
  }
}

}  // namespace segsim::scenarios
