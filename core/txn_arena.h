// TxnArenaManager: per-transaction bump arenas with size profiles, nested
// child arenas (savepoints) and bulk release (seed 004 M003).
//
// What it promises:
//  * begin(txn, profile) opens a root arena whose first chunk is the profile's
//    initial size; its tree (root and live children) never reserves more than
//    the profile's limit. Profiles (seed): tiny 4 KiB / 64 KiB, small 32 KiB /
//    512 KiB, medium 256 KiB / 4 MiB, large 2 MiB / 32 MiB, huge 16 MiB /
//    256 MiB (initial chunk / limit).
//  * TxnArena::allocate(bytes, alignment) bumps inside the current chunk; when
//    it does not fit, a new chunk doubles the last (up to 256 KiB, at least
//    the request; near the limit, the least segment class holding the
//    request). An allocation that even so would take the tree past its limit
//    is OutOfBudget and changes nothing; so is any segment-allocator refusal.
//    Objects are at most 256 KiB (the large-object path, part 2, lifts that).
//  * Chunks are segments of the SegmentAllocator (≤ 256 KiB each; an initial
//    size above that is several 256 KiB chunks, filled one after the other
//    before the arena grows), so the segment oracles cover arena memory.
//  * begin_child(parent) opens a savepoint. commit(child) hands the child's
//    chunks to its parent (its objects stay valid until the root ends);
//    rollback(child) returns its chunks at once. A root's commit or rollback
//    returns every chunk of the transaction in bulk, no per-object frees.
//  * An arena with a live child cannot end: InUse, nothing changes. Ending an
//    arena twice is DoubleFree; an id never issued is InvalidPointer.
//  * suggest_profile() picks the profile that covers 90 % of the recent
//    transactions' sizes; profile_for(bytes) maps an estimate by the seed's
//    bands: below 10,000 bytes tiny, below 100,000 small, below 1,000,000
//    medium, below 10,000,000 large, else huge.
//
// Thread-safety: the manager is thread-safe. One arena tree (a transaction
// and its savepoints) is used by one thread at a time; allocate() takes no
// lock (the bump) unless it grows.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/segment_allocator.h"

namespace segsim {

// The detail of an OutOfBudget refused by a transaction's profile limit (the
// segment allocator's own OutOfBudget carries another).
inline constexpr const char* kArenaLimitDetail = "the transaction's profile limit";
// The detail of an OutOfBudget refused because max_live_arenas are open.
inline constexpr const char* kArenaTooManyDetail = "max_live_arenas arenas are open";

enum class ArenaProfile : std::uint8_t { Tiny, Small, Medium, Large, Huge };
inline constexpr std::size_t kArenaProfileCount = 5;

struct ArenaProfileSpec {
  std::string_view name;
  std::size_t initial_bytes;   // the root's first chunk(s)
  std::size_t limit_bytes;     // the most a transaction tree reserves
  std::size_t expected_bytes;  // upper bound of the seed's size band (profile_for)
};
const ArenaProfileSpec& profile_spec(ArenaProfile profile) noexcept;
// The seed's bands: < 10 KB tiny, < 100 KB small, < 1 MB medium, < 10 MB large, else huge.
ArenaProfile profile_for(std::size_t estimated_bytes) noexcept;

inline constexpr std::size_t kArenaMaxObjectBytes = kLargestClassBytes;
inline constexpr std::size_t kArenaMaxAlignment = kSmallestClassBytes;

class TxnArenaManager;

// One arena (a transaction or a savepoint). Owned by its manager; valid from
// begin / begin_child until its commit or rollback.
class TxnArena {
 public:
  // `bytes` in 1..256 KiB, `alignment` a power of two ≤ 4 KiB, else InvalidSize.
  Result<std::byte*> allocate(std::size_t bytes, std::size_t alignment = 16);

  std::uint64_t id() const noexcept { return id_; }
  std::uint64_t txn() const noexcept { return txn_; }
  std::uint64_t parent_id() const noexcept;  // 0 for a root
  ArenaProfile profile() const noexcept { return profile_; }
  std::uint32_t depth() const noexcept { return depth_; }
  std::size_t used_bytes() const noexcept { return used_bytes_; }      // handed out (with alignment padding)
  std::size_t reserved_bytes() const noexcept;                        // its chunks' bytes
  std::size_t tree_reserved_bytes() const noexcept;                   // the whole transaction's
  std::size_t chunk_count() const noexcept { return chunks_.size() + spare_.size(); }
  std::size_t live_children() const noexcept { return live_children_; }
  // Whether [data, data + bytes) lies in one of this arena's chunks.
  bool contains(const std::byte* data, std::size_t bytes = 1) const noexcept;

  TxnArena(const TxnArena&) = delete;
  TxnArena& operator=(const TxnArena&) = delete;

 private:
  friend class TxnArenaManager;
  friend struct AuditSeam;  // the harness's audit episode (TxnArenaManager's comment)
  struct Chunk {
    Segment segment;
    std::size_t used = 0;
  };
  TxnArena(TxnArenaManager& manager, std::uint64_t id, std::uint64_t txn, TxnArena* parent, ArenaProfile profile);
  Result<std::byte*> allocate_unrecorded(std::size_t bytes, std::size_t alignment);
  Status grow(std::size_t bytes, std::size_t alignment);

  TxnArenaManager& manager_;
  const std::uint64_t id_;
  const std::uint64_t txn_;
  TxnArena* const parent_;
  TxnArena* const root_;
  const ArenaProfile profile_;
  const std::uint32_t depth_;
  std::vector<Chunk> chunks_;           // the current chunk is the last
  std::vector<Chunk> spare_;            // a root's unused initial chunks (initial > 256 KiB), used before growing
  std::size_t used_bytes_ = 0;
  std::size_t next_chunk_bytes_ = 0;
  std::size_t tree_reserved_ = 0;       // root only: the tree's chunk bytes
  std::size_t live_children_ = 0;
};

struct TxnArenaStats {
  std::uint64_t begun = 0, children_begun = 0, commits = 0, rollbacks = 0;
  std::uint64_t chunks_taken = 0, chunks_returned = 0;
  std::uint64_t over_limit = 0;        // allocations refused by a profile limit
  std::uint64_t segment_refusals = 0;  // chunk growth refused by the segment allocator
  std::uint64_t refused_ends = 0;      // commit / rollback refused (InUse, DoubleFree, InvalidPointer)
  std::size_t live_arenas = 0;
  std::size_t reserved_bytes = 0;      // chunks of live arenas
  std::size_t peak_reserved_bytes = 0;
  // The manager's own bookkeeping for live arenas (an estimate): 0 with none
  // live; per live arena at least 64 bytes, at most 1 KiB plus 256 bytes per
  // chunk it holds.
  std::size_t metadata_bytes = 0;
  std::array<std::uint64_t, kArenaProfileCount> begun_by_profile{};
};

struct TxnArenaConfig {
  // Recent root transactions whose used bytes feed suggest_profile().
  std::size_t history_size = 256;
  // Arenas alive at once (roots and children), at most 2^20.
  std::size_t max_live_arenas = 65536;
};

class TxnArenaManager {
 public:
  static Result<std::unique_ptr<TxnArenaManager>> create(SegmentAllocator& segments, TxnArenaConfig config = {});
  ~TxnArenaManager();  // returns every chunk of every arena still open
  TxnArenaManager(const TxnArenaManager&) = delete;
  TxnArenaManager& operator=(const TxnArenaManager&) = delete;

  // A root arena with the profile's initial chunk(s): OutOfBudget /
  // OutOfMemory when the segment allocator refuses them, nothing kept.
  Result<TxnArena*> begin(std::uint64_t txn, ArenaProfile profile);
  // As begin(), the profile from the estimate, or suggest_profile() without one.
  Result<TxnArena*> begin_estimated(std::uint64_t txn, std::optional<std::size_t> estimated_bytes);
  // A savepoint under a live arena (no chunk until its first allocation).
  Result<TxnArena*> begin_child(std::uint64_t parent_id);
  Status commit(std::uint64_t arena_id);
  Status rollback(std::uint64_t arena_id);

  // The live arena with this id: DoubleFree if it ended, InvalidPointer if never issued.
  Result<TxnArena*> find(std::uint64_t arena_id) const;
  // The live arena one of whose chunks holds `data`, or 0.
  std::uint64_t owner_of(const std::byte* data) const;

  ArenaProfile suggest_profile() const;
  TxnArenaStats stats() const;
  std::vector<std::string> audit() const;  // exact when no arena is in use
  SegmentAllocator& segments() const noexcept { return segments_; }

 private:
  // The harness's audit episode (scenarios/workloads/audit_episode.cpp) breaks
  // one invariant of a private instance at a time, checks that audit() names
  // it, and restores it: the audit's violation reports are walked and checked
  // without a bug. Nothing in core/ uses it.
  friend struct AuditSeam;
  friend class TxnArena;
  TxnArenaManager(SegmentAllocator& segments, TxnArenaConfig config);
  Status end(std::uint64_t arena_id, bool commit);
  Result<TxnArena*> begin_unrecorded(std::uint64_t txn, ArenaProfile profile);
  Result<TxnArena*> begin_child_unrecorded(std::uint64_t parent_id);
  Error arena_error(std::uint64_t arena_id) const;  // under mu_
  void return_chunks(std::vector<TxnArena::Chunk>& chunks);
  void note_chunk(std::size_t bytes, bool taken);

  struct State;
  SegmentAllocator& segments_;
  const TxnArenaConfig config_;
  std::unique_ptr<State> state_;
};

}  // namespace segsim
