// TxnArenaManager's shared state (txn_arena.cpp, txn_arena_audit.cpp). Not API.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include "core/platform/mutex.h"
#include "core/txn_arena.h"

namespace segsim {

struct TxnArenaManager::State {
  mutable platform::Mutex mu;  // guards everything but the two atomics
  std::map<std::uint64_t, std::unique_ptr<TxnArena>> live;  // by id: deterministic order
  std::uint64_t next_id = 1;
  std::uint32_t recorder_id = 0;  // the flight recorder's instance id (txn_arena.cpp)
  std::deque<std::size_t> history;  // used bytes of recently ended roots
  std::uint64_t begun = 0, children_begun = 0, commits = 0, rollbacks = 0;
  std::uint64_t chunks_taken = 0, chunks_returned = 0, refused_ends = 0;
  std::size_t reserved_bytes = 0, peak_reserved_bytes = 0;
  std::array<std::uint64_t, kArenaProfileCount> begun_by_profile{};
  // Bumped by arena growth, which holds no lock.
  std::atomic<std::uint64_t> over_limit{0};
  std::atomic<std::uint64_t> segment_refusals{0};
};

}  // namespace segsim
