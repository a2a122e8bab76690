// TxnArenaManager::stats() and audit().
#include <set>

#include <fmt/format.h>

#include "core/txn_arena_state.h"

namespace segsim {

TxnArenaStats TxnArenaManager::stats() const {
  TxnArenaStats stats;
  platform::LockGuard guard(state_->mu);
  const State& s = *state_;
  stats.begun = s.begun;
  stats.children_begun = s.children_begun;
  stats.commits = s.commits;
  stats.rollbacks = s.rollbacks;
  stats.chunks_taken = s.chunks_taken;
  stats.chunks_returned = s.chunks_returned;
  stats.refused_ends = s.refused_ends;
  stats.over_limit = s.over_limit.load(std::memory_order_relaxed);
  stats.segment_refusals = s.segment_refusals.load(std::memory_order_relaxed);
  stats.live_arenas = s.live.size();
  stats.reserved_bytes = s.reserved_bytes;
  stats.peak_reserved_bytes = s.peak_reserved_bytes;
  stats.begun_by_profile = s.begun_by_profile;
  // Bookkeeping per live arena: the arena, its map node, its chunk list.
  constexpr std::size_t kMapNodeBytes = 48;
  for (const auto& [id, arena] : s.live) {
    stats.metadata_bytes += sizeof(TxnArena) + kMapNodeBytes + (arena->chunks_.capacity() + arena->spare_.capacity()) * sizeof(TxnArena::Chunk);
  }
  return stats;
}

std::vector<std::string> TxnArenaManager::audit() const {
  std::vector<std::string> violations;
  platform::LockGuard guard(state_->mu);
  const State& s = *state_;
  std::map<std::uint64_t, std::size_t> tree_bytes;  // root id → reserved over its live tree
  std::map<std::uint64_t, std::size_t> children;    // arena id → live children counted
  std::set<const std::byte*> chunk_starts;
  std::size_t reserved = 0;
  for (const auto& [id, arena] : s.live) {
    const std::size_t bytes = arena->reserved_bytes();
    reserved += bytes;
    tree_bytes[arena->root_->id_] += bytes;
    if (arena->parent_ != nullptr) {
      ++children[arena->parent_->id_];
      if (s.live.count(arena->parent_->id_) == 0) {
        violations.push_back(fmt::format("arena {}: its parent {} has ended", id, arena->parent_->id_));
      }
    }
    if (arena->used_bytes_ > bytes) {
      violations.push_back(fmt::format("arena {}: {} bytes used but only {} reserved", id, arena->used_bytes_, bytes));
    }
    std::vector<TxnArena::Chunk> all = arena->chunks_;
    all.insert(all.end(), arena->spare_.begin(), arena->spare_.end());
    for (const auto& chunk : all) {
      if (!chunk_starts.insert(chunk.segment.data()).second) {
        violations.push_back(fmt::format("arena {}: a chunk is listed twice", id));
      }
      if (chunk.used > chunk.segment.size()) {
        violations.push_back(fmt::format("arena {}: a chunk is used past its end", id));
      }
      if (!segments_.lookup(chunk.segment.data()).ok()) {
        violations.push_back(fmt::format("arena {}: a chunk is not a live segment", id));
      }
    }
  }
  for (const auto& [id, arena] : s.live) {
    if (arena->live_children_ != children[id]) {
      violations.push_back(fmt::format("arena {}: records {} live children, {} found", id, arena->live_children_, children[id]));
    }
    if (arena->parent_ != nullptr) continue;
    const std::size_t limit = profile_spec(arena->profile_).limit_bytes;
    if (arena->tree_reserved_ != tree_bytes[id]) {
      violations.push_back(fmt::format("transaction arena {}: tree reserves {} bytes by its chunks, {} recorded", id,
                                       tree_bytes[id], arena->tree_reserved_));
    }
    if (arena->tree_reserved_ > limit) {
      violations.push_back(fmt::format("transaction arena {}: {} bytes reserved over its profile's limit {}", id,
                                       arena->tree_reserved_, limit));
    }
  }
  if (reserved != s.reserved_bytes) {
    violations.push_back(fmt::format("live arenas hold {} chunk bytes, {} recorded", reserved, s.reserved_bytes));
  }
  if (s.chunks_taken - s.chunks_returned != [&] {
        std::size_t n = 0;
        for (const auto& [id, arena] : s.live) n += arena->chunk_count();
        return n;
      }()) {
    violations.push_back(fmt::format("{} chunks taken and {} returned disagree with the live arenas' chunks", s.chunks_taken,
                                     s.chunks_returned));
  }
  return violations;
}

std::uint64_t TxnArenaManager::owner_of(const std::byte* data) const {
  platform::LockGuard guard(state_->mu);
  for (const auto& [id, arena] : state_->live) {
    if (arena->contains(data)) return id;
  }
  return 0;
}

}  // namespace segsim
