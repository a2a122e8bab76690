// fuzz_leaf_page: libFuzzer decodes its input into LeafPage / LeafPagePool /
// PageCache operations on a ScriptedOs with injected failures, and checks
// every call against the page and cache models the page-api scenario uses
// (scenarios/oracles/page_model.h): the outcome is the one the model says
// (or an allocator refusal right after an injected mmap failure), a refused
// call changed nothing, every slot reads back what was written, evictions
// reach the listener in the model's order. At the end of the input the pins
// are dropped, the cache emptied, the pages given back and the pool cleared:
// no live slice may remain (leaks), no release may have been refused, and
// the allocator's audit must be clean. A mismatch prints one line and traps,
// so libFuzzer saves the input as a crash.
//
// Input format (every read past the end yields 0, so any input is valid):
//   bytes 0, 1   configuration (see `configure`): slot count, initial and
//                largest value sizes, idle pages kept, cache bounds, reset policy
//   then ops     an opcode byte (Op, taken modulo) and its fixed arguments.
//
// The allocator runs without proactive cleanup (no thread): the page layer
// is this target's subject; fuzz_alloc_ops covers the cleanup.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/leaf_page_pool.h"
#include "core/page_cache.h"
#include "core/segment_allocator.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"
#include "faults/sim_os.h"
#include "fuzz/byte_reader.h"
#include "fuzz/input_digest.h"
#include "fuzz/recycling_os.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/page_model.h"

namespace segsim {
namespace {

constexpr std::size_t kRegionBytes = 256 * KiB;
// 16 MiB: more than the most pages one input can hold at once (6 held, 8
// cached, 6 pinned after eviction; two 256 KiB segments each, one region per
// segment at worst), so only an injected mmap failure refuses an allocation.
constexpr std::size_t kBudgetRegions = 64;
constexpr std::size_t kMaxOps = 128;
constexpr std::size_t kMaxHeld = 6;
constexpr std::size_t kMaxPins = 6;

enum class Op : std::uint8_t {
  Borrow,         // -
  GiveBack,       // held index byte
  SetSlot,        // page byte, slot byte, size byte, fill byte
  SetDewey,       // as SetSlot
  Clear,          // page byte
  Return,         // page byte (twice is fine: returns are idempotent)
  ResetForReuse,  // page byte
  ClearAll,       // - (LeafPagePool::clear_all: every page returns its segments)
  Put,            // held index byte
  Get,            // key byte (past the cached keys: a miss)
  Unpin,          // pin index byte
  Erase,          // key byte (past the cached keys: not cached)
  CacheClear,     // -
  InjectFailure,  // call byte (mmap / madvise / munmap), which-call-from-now byte
  Verify,         // page byte
  Count
};

using fuzzing::Reader;
using scenarios::CacheModel;
using scenarios::OracleTripped;
using scenarios::PageModels;

[[noreturn]] void fail(std::string_view what, std::size_t step) {
  std::fprintf(stderr, "fuzz_leaf_page: step %zu: %.*s\n", step, static_cast<int>(what.size()), what.data());
  __builtin_trap();
}

struct Config {
  LeafPagePoolConfig pool;
  PageCacheConfig cache;
  bool madvise_resets = false;
};

// Two bytes pick boundary configurations, as the page-api scenario draws them.
Config configure(std::uint8_t a, std::uint8_t b) {
  static constexpr std::size_t kSlots[] = {16, 1, 2, 64};
  static constexpr std::size_t kInitial[] = {4 * KiB, 1, 4 * KiB + 1, 64 * KiB};
  static constexpr std::size_t kMaxValue[] = {64 * KiB, 4 * KiB, 256 * KiB, 1};
  static constexpr std::size_t kIdle[] = {4, 0, 1, 1024};
  static constexpr std::size_t kEntries[] = {3, 1, 2, 8};
  static constexpr std::size_t kBytes[] = {std::size_t{64} << 20, 8 * KiB, 64 * KiB, 512 * KiB};
  Config config;
  config.pool.page.slot_count = kSlots[a & 3];
  config.pool.page.initial_bytes = kInitial[(a >> 2) & 3];
  config.pool.page.max_value_bytes = kMaxValue[(a >> 4) & 3];
  config.pool.max_idle_pages = kIdle[(a >> 6) & 3];
  config.cache.max_entries = kEntries[b & 3];
  config.cache.max_bytes = kBytes[(b >> 2) & 3];
  config.madvise_resets = (b & 16) != 0;
  return config;
}

// A value size biased to the edges that matter: empty, the classes' edges,
// the largest value allowed and one past it.
std::size_t value_bytes(std::uint8_t byte, std::size_t max_value_bytes) {
  static constexpr std::size_t kSizes[] = {0, 1, 100, 4 * KiB - 1, 4 * KiB, 4 * KiB + 1, 8 * KiB, 16 * KiB + 1,
                                           32 * KiB, 64 * KiB - 1, 64 * KiB, 100 * KiB};
  constexpr std::size_t kCount = sizeof(kSizes) / sizeof(kSizes[0]);
  const std::size_t pick = byte % (kCount + 2);
  if (pick == kCount) return max_value_bytes;
  if (pick == kCount + 1) return max_value_bytes + 1;
  return kSizes[pick];
}

// The bytes a write stores: `bytes` of `fill`, from one buffer per process,
// refilled only past what it already holds of that fill. A vector per input
// was an ASan malloc of up to 256 KiB per write — blocks over 128 KiB are
// mapped anew, so page faults too — plus its fill: ~12 % of this target's
// samples (perf, docs/fuzzing.md Round 6). Earlier inputs cannot leak into a
// write: the span handed out is exactly `bytes` of `fill` whatever was there.
class ValueBuffer {
 public:
  static constexpr std::size_t kMaxBytes = 256 * KiB + 1;  // the largest max_value_bytes, plus one

  std::span<const std::byte> fill(std::size_t bytes, std::uint8_t fill) {
    if (bytes > kMaxBytes) {
      std::fprintf(stderr, "fuzz_leaf_page: a value of %zu bytes passes the harness's buffer\n", bytes);
      __builtin_trap();
    }
    if (std::byte{fill} != fill_) {
      fill_ = std::byte{fill};
      filled_ = 0;
    }
    if (bytes > filled_) {
      std::memset(bytes_.get() + filled_, fill, bytes - filled_);
      filled_ = bytes;
    }
    return {bytes_.get(), bytes};
  }

 private:
  std::unique_ptr<std::byte[]> bytes_{new std::byte[kMaxBytes]};  // uninitialised: filled before read
  std::byte fill_{0};
  std::size_t filled_ = 0;  // bytes_[0, filled_) hold fill_
};

// One Os, one SimOs for the oracle hub, per process: their state is not the
// fuzzer's subject, and mapping memory anew for every input would dominate.
struct ProcessState {
  fuzzing::RecyclingOs memory;
  ValueBuffer value;
  std::unique_ptr<faults::SimOs> oracle_os =
      std::move(faults::SimOs::create(faults::SimOsConfig{.reservation_bytes = std::size_t{1} << 20}).value());
};
ProcessState& process() {
  static ProcessState state;
  return state;
}

// The allocator's observer: reports handed-out slices to the recycling Os
// (which bytes a reused mapping must zero) and counts releases and resets the
// allocator refused as double frees — what check_after_op() asked stats() for
// after every operation, a sixth of the run time (stats() locks every class
// and lists the thread caches).
class Observer final : public SegmentObserver {
 public:
  explicit Observer(fuzzing::RecyclingOs& os) : touched_(os) {}
  void handing_out(const Segment& segment) override { touched_.handing_out(segment); }
  void handed_out(const Segment& segment, bool zeroed) override { touched_.handed_out(segment, zeroed); }
  void released(const Segment& segment) override { touched_.released(segment); }
  void refused(const char*, const Segment&, const Error& error) override {
    double_frees_ += error.code == Errc::DoubleFree ? 1 : 0;
  }
  std::uint64_t double_frees() const noexcept { return double_frees_; }

 private:
  fuzzing::RecyclingOs::SliceObserver touched_;
  std::uint64_t double_frees_ = 0;
};

class Harness {
 public:
  explicit Harness(const Config& config)
      : config_(config),
        os_(process().memory),
        observer_(process().memory),
        allocator_(make_allocator(os_, observer_, config)),
        oracles_(*process().oracle_os),
        pages_(oracles_, config.pool),
        pool_(*allocator_, config.pool),
        cache_model_(config.cache),
        cache_(config.cache, [this](const std::uint64_t& key, LeafPage* page) {
          pages_.handed_over(key, page, pool_);
        }) {}
  ~Harness() { os_.clear_failures(); }  // an armed munmap failure must not leak a mapping

  void step(Reader& in, std::size_t step_number);
  void finish(std::size_t step_number);
  const fuzzing::InputDigest& digest() const { return digest_; }

 private:
  static std::unique_ptr<SegmentAllocator> make_allocator(Os& os, SegmentObserver& observer, const Config& config) {
    SegmentAllocatorConfig allocator;
    allocator.region_bytes = kRegionBytes;
    allocator.budget_bytes = kBudgetRegions * kRegionBytes;
    allocator.reset_madvise_min_bytes = config.madvise_resets ? 64 * KiB : SIZE_MAX;
    allocator.proactive_cleanup = false;
    allocator.observer = &observer;  // recycled mappings are zeroed where slices were handed out
    return std::move(SegmentAllocator::create(os, allocator).value());
  }

  void dispatch(Op op, Reader& in);
  LeafPage* pick_page(std::uint8_t byte);  // a held page or a pinned one
  void borrow();
  void give_back(std::uint8_t byte);
  void write(Reader& in, bool dewey);
  void put(std::uint8_t byte);
  void get(std::uint8_t byte);
  void unpin(std::uint8_t byte);
  void erase(std::uint8_t byte);
  std::uint64_t key_of(std::uint8_t byte);
  bool map_failed_since(std::uint64_t map_failures) const { return os_.failures(OsCall::Map) != map_failures; }
  void check_after_op();
  void digest_step(std::uint64_t op);

  const Config config_;
  testing::ScriptedOs os_;
  Observer observer_;  // outlives the allocator, as os_ does
  std::unique_ptr<SegmentAllocator> allocator_;
  scenarios::Oracles oracles_;
  PageModels pages_;
  LeafPagePool pool_;
  CacheModel cache_model_;
  PageCache cache_;
  std::vector<PageCache::Handle> pins_;  // with the model's pin ids, index for index
  std::vector<std::uint64_t> pin_ids_;
  std::vector<LeafPage*> held_;  // pages_.held(), refilled per call without a fresh vector
  std::vector<std::uint64_t> keys_;  // cache_model_.keys(), likewise
  fuzzing::InputDigest digest_;
  std::uint64_t next_id_ = 1;
  std::size_t step_ = 0;
};

void Harness::step(Reader& in, std::size_t step_number) {
  step_ = step_number;
  const auto op = static_cast<Op>(in.byte() % static_cast<std::uint8_t>(Op::Count));
  try {
    dispatch(op, in);
    check_after_op();
  } catch (const OracleTripped& tripped) {
    fail(tripped.what(), step_);
  }
  if (fuzzing::InputDigest::enabled()) digest_step(static_cast<std::uint64_t>(op));
}

// SEGSIM_FUZZ_DIGEST (fuzz/input_digest.h): what this step left, no address.
void Harness::digest_step(std::uint64_t op) {
  digest_.add(step_ << 8 | op);
  digest_.add_counters(allocator_->stats());
  digest_.add_counters(pool_.stats());
  digest_.add_counters(cache_.stats());
  for (std::size_t call = 0; call < kOsCallCount; ++call) digest_.add(os_.calls(static_cast<OsCall>(call)));
  pages_.held(held_);
  for (const LeafPage* page : held_) {
    digest_.add(page->page_id());
    digest_.add(page->memory_bytes() << 1 | (page->segments_returned() ? 1 : 0));
  }
}

void Harness::dispatch(Op op, Reader& in) {
  switch (op) {
    case Op::Borrow: return borrow();
    case Op::GiveBack: return give_back(in.byte());
    case Op::SetSlot: return write(in, false);
    case Op::SetDewey: return write(in, true);
    case Op::Clear:
      if (LeafPage* page = pick_page(in.byte())) {
        page->clear();
        pages_.cleared(page);
      }
      return;
    case Op::Return:
      if (LeafPage* page = pick_page(in.byte())) {
        Status returned = page->return_segments();
        if (!returned.ok()) fail("return_segments refused: " + returned.error().describe(), step_);
        pages_.returned(page);
      }
      return;
    case Op::ResetForReuse:
      if (LeafPage* page = pick_page(in.byte())) {
        const std::uint64_t map_failures = os_.failures(OsCall::Map);
        Status reset = page->reset_for_reuse(page->page_id());
        pages_.check_reset(page, page->page_id(), reset, map_failed_since(map_failures));
      }
      return;
    case Op::ClearAll:
      pool_.clear_all();
      pages_.all_returned();
      return;
    case Op::Put: return put(in.byte());
    case Op::Get: return get(in.byte());
    case Op::Unpin: return unpin(in.byte());
    case Op::Erase: return erase(in.byte());
    case Op::CacheClear:
      pages_.expect_hand_overs(cache_model_.clear());
      cache_.clear();
      pages_.check_hand_overs("PageCache::clear");
      return;
    case Op::InjectFailure: {
      static constexpr OsCall kCalls[] = {OsCall::Map, OsCall::Advise, OsCall::Unmap};
      static constexpr int kErrnos[] = {ENOMEM, EAGAIN, EINVAL};
      const std::size_t which = in.byte() % 3;
      os_.fail_nth(kCalls[which], 1 + in.byte() % 4, kErrnos[which]);
      return;
    }
    case Op::Verify:
      if (LeafPage* page = pick_page(in.byte())) pages_.verify(page);
      return;
    case Op::Count: break;
  }
}

LeafPage* Harness::pick_page(std::uint8_t byte) {
  pages_.held(held_);
  const std::vector<LeafPage*>& held = held_;
  const std::size_t choices = held.size() + pins_.size();
  if (choices == 0) return nullptr;
  const std::size_t i = byte % choices;
  return i < held.size() ? held[i] : pins_[i - held.size()].page();
}

void Harness::borrow() {
  if (pages_.held_count() >= kMaxHeld) return;
  const std::uint64_t id = next_id_++;
  const std::uint64_t map_failures = os_.failures(OsCall::Map);
  Result<LeafPage*> page = pool_.borrow(id);
  if (!page.ok()) {
    if (page.error().code == Errc::OutOfMemory && map_failed_since(map_failures)) return;
    fail("borrow refused: " + page.error().describe(), step_);
  }
  pages_.borrowed(page.value(), id);
}

void Harness::give_back(std::uint8_t byte) {
  pages_.held(held_);
  const std::vector<LeafPage*>& held = held_;
  if (held.empty()) return;
  LeafPage* page = held[byte % held.size()];
  Status back = pool_.give_back(page);
  if (!back.ok()) fail("give_back refused: " + back.error().describe(), step_);
  pages_.given_back(page);
}

void Harness::write(Reader& in, bool dewey) {
  LeafPage* page = pick_page(in.byte());
  const std::size_t slot = in.byte() % (config_.pool.page.slot_count + 1);  // slot_count: out of range
  const std::size_t bytes = value_bytes(in.byte(), config_.pool.page.max_value_bytes);
  const auto fill = static_cast<std::uint8_t>(in.byte() | 1);  // never 0: zeroed memory is not a value
  if (page == nullptr) return;
  const std::span<const std::byte> value = process().value.fill(bytes, fill);
  const std::uint64_t map_failures = os_.failures(OsCall::Map);
  const Status written = dewey ? page->set_dewey_id(slot, value) : page->set_slot(slot, value);
  pages_.check_write(page, dewey, slot, bytes, fill, written, map_failed_since(map_failures));
}

void Harness::put(std::uint8_t byte) {
  pages_.held(held_);
  const std::vector<LeafPage*>& held = held_;
  if (held.empty()) return;
  LeafPage* page = held[byte % held.size()];
  pages_.cached(page);
  pages_.expect_hand_overs(cache_model_.put(page->page_id(), page, page->memory_bytes()));
  cache_.put(page->page_id(), page);
  pages_.check_hand_overs("PageCache::put");
}

// A cached key, or (the last choice) a key never cached.
std::uint64_t Harness::key_of(std::uint8_t byte) {
  cache_model_.keys(keys_);
  const std::size_t i = byte % (keys_.size() + 1);
  return i < keys_.size() ? keys_[i] : next_id_;
}

void Harness::get(std::uint8_t byte) {
  if (pins_.size() >= kMaxPins) return;
  const std::uint64_t key = key_of(byte);
  std::uint64_t pin_id = 0;
  LeafPage* expected = cache_model_.get(key, pin_id);
  PageCache::Handle handle = cache_.get(key);
  if (handle.page() != expected) fail("PageCache::get: hit or miss not as the model says", step_);
  if (!handle) return;
  if (handle.key() != key) fail("PageCache::get: the handle names another key", step_);
  pages_.verify(handle.page());
  pins_.push_back(std::move(handle));
  pin_ids_.push_back(pin_id);
}

void Harness::unpin(std::uint8_t byte) {
  if (pins_.empty()) return;
  const std::size_t i = byte % pins_.size();
  pages_.expect_hand_overs(cache_model_.unpin(pin_ids_[i]));
  pins_.erase(pins_.begin() + static_cast<std::ptrdiff_t>(i));
  pin_ids_.erase(pin_ids_.begin() + static_cast<std::ptrdiff_t>(i));
  pages_.check_hand_overs("unpinning a cached page");
}

void Harness::erase(std::uint8_t byte) {
  const std::uint64_t key = key_of(byte);
  bool model_found = false;
  pages_.expect_hand_overs(cache_model_.erase(key, model_found));
  if (cache_.erase(key) != model_found) fail("PageCache::erase: found or not as the model says", step_);
  pages_.check_hand_overs("PageCache::erase");
}

// Cheap checks after every operation: the pool's and the cache's counters,
// no release or reset refused as a double free (the observer's count), and
// no failure an eviction listener reported. finish() also asks stats(),
// which counts every refusal, lookups' too.
void Harness::check_after_op() {
  pages_.check_pool_stats(pool_.stats(), config_.pool.max_idle_pages);
  cache_model_.check_stats(cache_.stats(), oracles_);
  if (oracles_.failure()) fail(oracles_.failure()->oracle + ": " + oracles_.failure()->message, step_);
  if (observer_.double_frees() != 0) fail("the allocator refused a release as a double free", step_);
}

// The full comparison, then quiescence: every page still borrowed (held,
// cached or pinned) reads back what the model says — the per-op check
// verified only the page each op named — then every pin is dropped, the
// cache emptied, every page given back, the pool cleared: nothing may be
// left live, and the audit is clean.
void Harness::finish(std::size_t step_number) {
  step_ = step_number;
  try {
    pages_.verify_all();
    while (!pins_.empty()) {
      pages_.expect_hand_overs(cache_model_.unpin(pin_ids_.back()));
      pins_.pop_back();
      pin_ids_.pop_back();
    }
    pages_.expect_hand_overs(cache_model_.clear());
    cache_.clear();
    pages_.check_hand_overs("clearing the cache at the end");
    for (LeafPage* page : pages_.held()) {
      if (!pool_.give_back(page).ok()) fail("give_back at the end refused", step_);
      pages_.given_back(page);
    }
    pool_.clear_all();
    check_after_op();
    if (allocator_->stats().double_frees != 0) fail("the allocator refused a call as a double free", step_);
  } catch (const OracleTripped& tripped) {
    fail(tripped.what(), step_);
  }
  const AllocatorStats stats = allocator_->stats();
  if (stats.live_slices() != 0) fail(std::to_string(stats.live_slices()) + " slices live at the end: a leak", step_);
  for (const std::string& violation : allocator_->audit()) fail("audit: " + violation, step_);
  if (fuzzing::InputDigest::enabled()) digest_step(0xff);
}

}  // namespace
}  // namespace segsim

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  segsim::fuzzing::Reader in(data, size);
  const std::uint8_t a = in.byte();
  segsim::Harness harness(segsim::configure(a, in.byte()));
  std::size_t step = 1;
  for (; step <= segsim::kMaxOps && !in.done(); ++step) harness.step(in, step);
  harness.finish(step);
  if (segsim::fuzzing::InputDigest::enabled()) harness.digest().print("fuzz_leaf_page");
  return 0;
}
