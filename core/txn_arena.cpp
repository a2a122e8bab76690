// TxnArena (the bump and its growth) and TxnArenaManager (arena lifetimes,
// bulk release, profile suggestion). Stats and audit are in txn_arena_audit.cpp.
#include "core/txn_arena.h"

#include <algorithm>
#include <atomic>

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/flight_recorder.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"
#include "core/txn_arena_state.h"
#include "core/units.h"

namespace segsim {

namespace {

std::atomic<std::uint32_t> g_next_arena_manager_id{1};

// The flight recorder's event of an arena operation (docs/flight-recorder.md).
void record_arena(flight_recorder::Op op, std::uint32_t manager, std::uint64_t arena, std::uint64_t second,
                  std::uint64_t third, std::uint64_t bytes, const Error* error) noexcept {
  flight_recorder::record_object_operation(op, manager, arena, second, third, 0, bytes, -1, error);
}

constexpr std::size_t kMaxLiveArenas = std::size_t{1} << 20;

constexpr std::array<ArenaProfileSpec, kArenaProfileCount> kProfiles = {{
    {"tiny", 4 * KiB, 64 * KiB, 10 * 1000},
    {"small", 32 * KiB, 512 * KiB, 100 * 1000},
    {"medium", 256 * KiB, 4 * MiB, 1000 * 1000},
    {"large", 2 * MiB, 32 * MiB, 10 * 1000 * 1000},
    {"huge", 16 * MiB, 256 * MiB, SIZE_MAX},
}};

// A root's first chunks: its profile's initial bytes in segments of at most
// the largest class.
constexpr std::size_t initial_chunk_bytes(const ArenaProfileSpec& spec) noexcept {
  return std::min(spec.initial_bytes, kLargestClassBytes);
}
static_assert(std::all_of(kProfiles.begin(), kProfiles.end(),
                          [](const ArenaProfileSpec& spec) {
                            return spec.initial_bytes > 0 && spec.initial_bytes % initial_chunk_bytes(spec) == 0;
                          }),
              "every profile's initial bytes are a whole number of its chunks");

std::size_t align_up(std::size_t value, std::size_t alignment) noexcept {
  return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace

const ArenaProfileSpec& profile_spec(ArenaProfile profile) noexcept {
  return kProfiles[static_cast<std::size_t>(profile)];
}

ArenaProfile profile_for(std::size_t estimated_bytes) noexcept {
  for (std::size_t p = 0; p + 1 < kArenaProfileCount; ++p) {
    if (estimated_bytes < kProfiles[p].expected_bytes) return static_cast<ArenaProfile>(p);
  }
  return ArenaProfile::Huge;
}

// ---------------------------------------------------------------------------
// TxnArena

TxnArena::TxnArena(TxnArenaManager& manager, std::uint64_t id, std::uint64_t txn, TxnArena* parent,
                   ArenaProfile profile)
    : manager_(manager),
      id_(id),
      txn_(txn),
      parent_(parent),
      root_(parent == nullptr ? this : parent->root_),
      profile_(profile),
      depth_(parent == nullptr ? 0 : parent->depth_ + 1),
      next_chunk_bytes_(kSmallestClassBytes) {}

std::uint64_t TxnArena::parent_id() const noexcept { return parent_ == nullptr ? 0 : parent_->id_; }

std::size_t TxnArena::reserved_bytes() const noexcept {
  std::size_t n = 0;
  for (const Chunk& chunk : chunks_) n += chunk.segment.size();
  for (const Chunk& chunk : spare_) n += chunk.segment.size();
  return n;
}

std::size_t TxnArena::tree_reserved_bytes() const noexcept { return root_->tree_reserved_; }

bool TxnArena::contains(const std::byte* data, std::size_t bytes) const noexcept {
  for (const Chunk& chunk : chunks_) {
    const std::byte* base = chunk.segment.data();
    if (data >= base && data < base + chunk.segment.size() &&
        bytes <= static_cast<std::size_t>(base + chunk.segment.size() - data)) {
      return true;
    }
  }
  return false;
}

Result<std::byte*> TxnArena::allocate(std::size_t bytes, std::size_t alignment) {
  flight_recorder::Scope scope;
  Result<std::byte*> got = allocate_unrecorded(bytes, alignment);
  if (flight_recorder::on()) [[unlikely]] {
    record_arena(flight_recorder::Op::ArenaAllocate, manager_.state_->recorder_id, id_, alignment, 0, bytes,
                 got.ok() ? nullptr : &got.error());
  }
  return got;
}

Result<std::byte*> TxnArena::allocate_unrecorded(std::size_t bytes, std::size_t alignment) {
  if (bytes == 0 || bytes > kArenaMaxObjectBytes) {
    SEGSIM_PROBE("arena.alloc.invalid_size");
    return make_error(Errc::InvalidSize, bytes == 0 ? "zero bytes requested" : "larger than 256 KiB (large-object path)");
  }
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > kArenaMaxAlignment) {
    SEGSIM_PROBE("arena.alloc.invalid_alignment");
    return make_error(Errc::InvalidSize, "alignment must be a power of two of at most 4 KiB");
  }
  if (!chunks_.empty()) {
    Chunk& chunk = chunks_.back();
    const std::size_t start = align_up(chunk.used, alignment);
    SEGSIM_ASSERT(chunk.used <= chunk.segment.size() && start >= chunk.used, "a chunk used past its end");
    if (start + bytes <= chunk.segment.size()) {
      used_bytes_ += start + bytes - chunk.used;
      chunk.used = start + bytes;
      return chunk.segment.data() + start;
    }
  }
  if (!spare_.empty() && spare_.back().segment.size() >= bytes) {
    SEGSIM_PROBE("arena.alloc.next_initial_chunk");
    chunks_.push_back(spare_.back());
    spare_.pop_back();
  } else if (Status grown = grow(bytes, alignment); !grown.ok()) {
    return grown.error();
  }
  SEGSIM_ASSERT(!chunks_.empty(), "no chunk after growth");
  Chunk& chunk = chunks_.back();  // a fresh chunk starts 4 KiB-aligned
  SEGSIM_ASSERT(chunk.used == 0 && chunk.segment.size() >= bytes, "a fresh chunk used or smaller than the request");
  SEGSIM_ASSERT(reinterpret_cast<std::uintptr_t>(chunk.segment.data()) % alignment == 0, "a fresh chunk misaligned");
  chunk.used = bytes;
  used_bytes_ += bytes;
  return chunk.segment.data();
}

// A new chunk: at least the request, doubling the last, at most 256 KiB —
// near the limit the least chunk that holds the request; refused (nothing
// changed) when even that passes the profile's limit, or by the segment allocator.
Status TxnArena::grow(std::size_t bytes, std::size_t alignment) {
  (void)alignment;  // chunk starts are aligned to 4 KiB (the smallest segment class)
  SEGSIM_ASSERT(bytes > 0 && class_of(std::max(next_chunk_bytes_, bytes)) >= 0, "a chunk larger than the largest class");
  std::size_t chunk_bytes = class_bytes(static_cast<std::size_t>(class_of(std::max(next_chunk_bytes_, bytes))));
  const std::size_t limit = profile_spec(root_->profile_).limit_bytes;
  if (root_->tree_reserved_ + chunk_bytes > limit) {
    SEGSIM_PROBE("arena.grow.smaller_chunk");  // near the limit: the least chunk that fits the request
    chunk_bytes = class_bytes(static_cast<std::size_t>(class_of(bytes)));
  }
  SEGSIM_ASSERT(chunk_bytes >= bytes, "a chunk smaller than the request");
  const bool over = root_->tree_reserved_ + chunk_bytes > limit;
  if (over && !SEGSIM_MUTANT(ArenaLimitAfterGrowth)) {
    SEGSIM_PROBE("arena.grow.over_limit");
    manager_.state_->over_limit.fetch_add(1, std::memory_order_relaxed);
    return make_error(Errc::OutOfBudget, kArenaLimitDetail);
  }
  if (SEGSIM_FAULT_POINT("arena.chunk.grow")) platform::yield();
  Result<Segment> segment = manager_.segments_.allocate_uninitialized(chunk_bytes);
  if (!segment.ok()) {
    SEGSIM_PROBE("arena.grow.segment_refused");
    manager_.state_->segment_refusals.fetch_add(1, std::memory_order_relaxed);
    return segment.error();
  }
  chunks_.push_back(Chunk{segment.value(), 0});
  root_->tree_reserved_ += chunk_bytes;
  next_chunk_bytes_ = std::min(kLargestClassBytes, chunk_bytes * 2);
  manager_.note_chunk(chunk_bytes, true);
  if (over) {  // the mutant: the limit checked after growth, the chunk kept
    manager_.state_->over_limit.fetch_add(1, std::memory_order_relaxed);
    return make_error(Errc::OutOfBudget, kArenaLimitDetail);
  }
  return {};
}

// ---------------------------------------------------------------------------
// TxnArenaManager

TxnArenaManager::TxnArenaManager(SegmentAllocator& segments, TxnArenaConfig config)
    : segments_(segments), config_(config), state_(std::make_unique<State>()) {
  state_->recorder_id = g_next_arena_manager_id.fetch_add(1, std::memory_order_relaxed);
}

Result<std::unique_ptr<TxnArenaManager>> TxnArenaManager::create(SegmentAllocator& segments, TxnArenaConfig config) {
  if (config.history_size == 0 || config.max_live_arenas == 0 || config.max_live_arenas > kMaxLiveArenas) {
    SEGSIM_PROBE("arena.config.invalid");
    return make_error(Errc::InvalidConfig, "history_size must be > 0 and max_live_arenas in 1..2^20");
  }
  return std::unique_ptr<TxnArenaManager>(new TxnArenaManager(segments, config));
}

TxnArenaManager::~TxnArenaManager() {
  std::vector<TxnArena::Chunk> chunks;
  for (auto& [id, arena] : state_->live) {
    for (auto& chunk : arena->chunks_) chunks.push_back(chunk);
    for (auto& chunk : arena->spare_) chunks.push_back(chunk);
  }
  state_->live.clear();  // the arenas and their chunk lists go; the chunks go back below
  return_chunks(chunks);
}

void TxnArenaManager::note_chunk(std::size_t bytes, bool taken) {
  platform::LockGuard guard(state_->mu);
  if (taken) {
    ++state_->chunks_taken;
    state_->reserved_bytes += bytes;
    state_->peak_reserved_bytes = std::max(state_->peak_reserved_bytes, state_->reserved_bytes);
  } else {
    SEGSIM_ASSERT(state_->reserved_bytes >= bytes && state_->chunks_returned < state_->chunks_taken,
                  "a chunk returned that was never counted taken");
    ++state_->chunks_returned;
    state_->reserved_bytes -= bytes;
  }
}

void TxnArenaManager::return_chunks(std::vector<TxnArena::Chunk>& chunks) {
  for (const TxnArena::Chunk& chunk : chunks) {
    Status released = segments_.release(chunk.segment);
    SEGSIM_ASSERT(released.ok(), "the segment allocator refused an arena chunk it handed out");
    note_chunk(chunk.segment.size(), false);
  }
  chunks.clear();
}

Result<TxnArena*> TxnArenaManager::begin(std::uint64_t txn, ArenaProfile profile) {
  flight_recorder::Scope scope;
  Result<TxnArena*> got = begin_unrecorded(txn, profile);
  if (flight_recorder::on()) [[unlikely]] {
    record_arena(flight_recorder::Op::ArenaBegin, state_->recorder_id, got.ok() ? got.value()->id() : 0, txn,
                 static_cast<std::uint64_t>(profile), 0, got.ok() ? nullptr : &got.error());
  }
  return got;
}

Result<TxnArena*> TxnArenaManager::begin_unrecorded(std::uint64_t txn, ArenaProfile profile) {
  const ArenaProfileSpec& spec = profile_spec(profile);
  const std::size_t chunk_bytes = initial_chunk_bytes(spec);
  SEGSIM_ASSERT(chunk_bytes > 0 && class_of(chunk_bytes) >= 0, "a profile's initial chunk is not a segment size");
  const std::size_t chunk_count = spec.initial_bytes / chunk_bytes;  // whole: kProfiles' static_assert
  std::vector<TxnArena::Chunk> chunks;
  for (std::size_t n = 0; n < chunk_count; ++n) {
    Result<Segment> segment = segments_.allocate_uninitialized(chunk_bytes);
    if (!segment.ok()) {
      SEGSIM_PROBE("arena.begin.segment_refused");
      state_->segment_refusals.fetch_add(1, std::memory_order_relaxed);
      for (const auto& chunk : chunks) (void)segments_.release(chunk.segment);
      return segment.error();
    }
    chunks.push_back(TxnArena::Chunk{segment.value(), 0});
  }
  platform::UniqueLock lock(state_->mu);
  if (state_->live.size() >= config_.max_live_arenas) {
    SEGSIM_PROBE("arena.begin.too_many");
    lock.unlock();
    for (const auto& chunk : chunks) (void)segments_.release(chunk.segment);
    return make_error(Errc::OutOfBudget, kArenaTooManyDetail);
  }
  SEGSIM_ASSERT(!chunks.empty(), "an arena begun without a chunk");
  const std::uint64_t id = state_->next_id++;
  auto arena = std::unique_ptr<TxnArena>(new TxnArena(*this, id, txn, nullptr, profile));
  state_->chunks_taken += chunks.size();
  arena->chunks_.push_back(chunks.front());
  arena->spare_.assign(chunks.rbegin(), chunks.rend() - 1);  // used front to back
  arena->tree_reserved_ = spec.initial_bytes;
  arena->next_chunk_bytes_ = std::min(kLargestClassBytes, chunk_bytes * 2);
  state_->reserved_bytes += spec.initial_bytes;
  state_->peak_reserved_bytes = std::max(state_->peak_reserved_bytes, state_->reserved_bytes);
  ++state_->begun;
  ++state_->begun_by_profile[static_cast<std::size_t>(profile)];
  TxnArena* raw = arena.get();
  const bool fresh = state_->live.emplace(id, std::move(arena)).second;
  SEGSIM_ASSERT(fresh, "an arena id issued twice");
  return raw;
}

Result<TxnArena*> TxnArenaManager::begin_estimated(std::uint64_t txn, std::optional<std::size_t> estimated_bytes) {
  return begin(txn, estimated_bytes ? profile_for(*estimated_bytes) : suggest_profile());
}

Error TxnArenaManager::arena_error(std::uint64_t arena_id) const {
  if (arena_id == 0 || arena_id >= state_->next_id) {
    SEGSIM_PROBE("arena.id.never_issued");
    return make_error(Errc::InvalidPointer, "no arena was ever issued this id");
  }
  SEGSIM_PROBE("arena.id.ended");
  return make_error(Errc::DoubleFree, "the arena has ended (committed or rolled back)");
}

Result<TxnArena*> TxnArenaManager::find(std::uint64_t arena_id) const {
  platform::LockGuard guard(state_->mu);
  auto it = state_->live.find(arena_id);
  if (it == state_->live.end()) return arena_error(arena_id);
  return it->second.get();
}

Result<TxnArena*> TxnArenaManager::begin_child(std::uint64_t parent_id) {
  flight_recorder::Scope scope;
  Result<TxnArena*> got = begin_child_unrecorded(parent_id);
  if (flight_recorder::on()) [[unlikely]] {
    record_arena(flight_recorder::Op::ArenaBeginChild, state_->recorder_id, got.ok() ? got.value()->id() : 0,
                 parent_id, 0, 0, got.ok() ? nullptr : &got.error());
  }
  return got;
}

Result<TxnArena*> TxnArenaManager::begin_child_unrecorded(std::uint64_t parent_id) {
  platform::LockGuard guard(state_->mu);
  auto it = state_->live.find(parent_id);
  if (it == state_->live.end()) return arena_error(parent_id);
  if (state_->live.size() >= config_.max_live_arenas) {
    SEGSIM_PROBE("arena.begin.too_many");
    return make_error(Errc::OutOfBudget, kArenaTooManyDetail);
  }
  TxnArena* parent = it->second.get();
  SEGSIM_ASSERT(parent != nullptr && parent->id_ == parent_id, "the live map holds another arena under this id");
  const std::uint64_t id = state_->next_id++;
  auto child = std::unique_ptr<TxnArena>(new TxnArena(*this, id, parent->txn_, parent, parent->profile_));
  ++parent->live_children_;
  ++state_->children_begun;
  TxnArena* raw = child.get();
  const bool fresh = state_->live.emplace(id, std::move(child)).second;
  SEGSIM_ASSERT(fresh, "an arena id issued twice");
  return raw;
}

Status TxnArenaManager::commit(std::uint64_t arena_id) {
  flight_recorder::Scope scope;
  Status ended = end(arena_id, true);
  if (flight_recorder::on()) [[unlikely]] {
    record_arena(flight_recorder::Op::ArenaCommit, state_->recorder_id, arena_id, 0, 0, 0,
                 ended.ok() ? nullptr : &ended.error());
  }
  return ended;
}
Status TxnArenaManager::rollback(std::uint64_t arena_id) {
  flight_recorder::Scope scope;
  Status ended = end(arena_id, false);
  if (flight_recorder::on()) [[unlikely]] {
    record_arena(flight_recorder::Op::ArenaRollback, state_->recorder_id, arena_id, 0, 0, 0,
                 ended.ok() ? nullptr : &ended.error());
  }
  return ended;
}

// Ends an arena: a committed child's chunks go to its parent; everything
// else goes back to the segment allocator in bulk, outside the lock.
Status TxnArenaManager::end(std::uint64_t arena_id, bool commit) {
  std::vector<TxnArena::Chunk> to_return;
  {
    platform::LockGuard guard(state_->mu);
    auto it = state_->live.find(arena_id);
    if (it == state_->live.end()) {
      ++state_->refused_ends;
      return arena_error(arena_id);
    }
    SEGSIM_ASSERT(it->second != nullptr && it->second->id_ == arena_id, "the live map holds another arena under this id");
    TxnArena& arena = *it->second;
    if (arena.live_children_ > 0) {
      SEGSIM_PROBE("arena.end.live_child");
      ++state_->refused_ends;
      return make_error(Errc::InUse, "the arena has a live child (commit or roll back the savepoint first)");
    }
    TxnArena* parent = arena.parent_;
    if (commit && parent != nullptr) {
      SEGSIM_PROBE("arena.commit.into_parent");
      if (!SEGSIM_MUTANT(ArenaChildChunksForgotten)) {
        const auto at = parent->chunks_.empty() ? parent->chunks_.end() : parent->chunks_.end() - 1;
        parent->chunks_.insert(at, arena.chunks_.begin(), arena.chunks_.end());
      }
      parent->used_bytes_ += arena.used_bytes_;
    } else {
      if (parent != nullptr) {
        SEGSIM_PROBE("arena.rollback.child");
        SEGSIM_ASSERT(arena.root_->tree_reserved_ >= arena.reserved_bytes(), "tree reserved bytes underflow");
        arena.root_->tree_reserved_ -= arena.reserved_bytes();
      } else {
        state_->history.push_back(arena.used_bytes_);
        if (state_->history.size() > config_.history_size) state_->history.pop_front();
      }
      to_return = std::move(arena.chunks_);
      to_return.insert(to_return.end(), arena.spare_.begin(), arena.spare_.end());
    }
    // The arena's chunk lists die with it (the erase below).
    if (parent != nullptr) {
      SEGSIM_ASSERT(parent->live_children_ > 0, "a child ended under a parent that counts none");
      --parent->live_children_;
    }
    ++(commit ? state_->commits : state_->rollbacks);
    state_->live.erase(it);
  }
  return_chunks(to_return);
  return {};
}

ArenaProfile TxnArenaManager::suggest_profile() const {
  std::vector<std::size_t> sizes;
  {
    platform::LockGuard guard(state_->mu);
    sizes.assign(state_->history.begin(), state_->history.end());
  }
  if (sizes.empty()) return ArenaProfile::Tiny;
  // The 90th percentile, nearest rank: the ceil(0.9 n)-th smallest.
  const std::size_t at = (sizes.size() * 9 + 9) / 10 - 1;
  SEGSIM_ASSERT(at < sizes.size(), "the 90th percentile's rank past the history");
  std::nth_element(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(at), sizes.end());
  return profile_for(sizes[at]);
}

}  // namespace segsim
