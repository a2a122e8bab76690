// fuzz_alloc_ops: libFuzzer decodes its input into SegmentAllocator
// operations on a ScriptedOs and checks every step against the shared
// reference model (property/allocator_model.h). Any mismatch prints one line
// and traps, so libFuzzer saves the input as a crash.
//
// Input format: scenarios/alloc_ops_input.h (decoded there, also for
// `segsim reproduce crash-<sha1>`); any input is valid.
//
// Unlike the property suite, outcomes here are not predicted: an allocation
// may fit or run out of budget, and an injected Os failure stays armed until
// some later call consumes it. So the checks are consequences that must hold
// whatever happened: an OutOfMemory exactly when an mmap failed, an
// OutOfBudget only when every region holds a live slice, and so on.
//
// After each op, check_step() reads one byte per page of every live segment
// and looks up the op's own segment; every 64 ops the full model check runs
// (lookups of all, counts against stats(), Os accounting, audit — state that
// stays wrong once wrong), and after the last op the full check reads every
// byte. Checking everything after every op was 70% of the run time; every 16
// ops, a quarter (an average input is ~30 ops: three full checks, now one).
//
// Async cleanups run on the input's thread (fuzz/serial_runtime.h), when the
// harness waits for them after each op: no worker thread per input, and one
// schedule per input.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/platform/runtime.h"
#include "core/segment_allocator.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"
#include "fuzz/input_digest.h"
#include "fuzz/recycling_os.h"
#include "fuzz/serial_runtime.h"
#include "scenarios/alloc_ops_input.h"
#include "property/allocator_model.h"

namespace segsim {
namespace {

constexpr std::size_t kRegionBytes = 256 * KiB;
// 8 MiB: one input can fill it (32 allocations of 256 KiB), and a fuzzing
// process never runs out of real memory.
constexpr std::size_t kBudgetRegions = 32;
constexpr std::size_t kMaxLive = 48;
// The full model check (Harness::settle_and_check) runs every this many steps
// and at the end; check_step() after every step. The end's check always runs,
// and what only the full check sees stays wrong once wrong, so this only
// names an earlier step in inputs longer than it.
constexpr std::size_t kFullCheckEvery = 64;

using fuzzing::AllocOp;
using fuzzing::AllocOpStep;

[[noreturn]] void fail(std::string_view what, std::size_t step) {
  std::fprintf(stderr, "fuzz_alloc_ops: step %zu: %.*s\n", step, static_cast<int>(what.size()),
               what.data());
  __builtin_trap();
}

// Mappings are recycled across inputs (fuzz/recycling_os.h): a fresh mmap,
// its page faults and its munmap per region cost more than the input itself.
fuzzing::RecyclingOs& process_memory() {
  static fuzzing::RecyclingOs memory;
  return memory;
}

class Harness {
 public:
  explicit Harness(std::uint8_t config_byte) {
    SegmentAllocatorConfig config;
    config.region_bytes = kRegionBytes;
    config.budget_bytes = kBudgetRegions * kRegionBytes;
    config.reset_madvise_min_bytes = (config_byte & 1) != 0 ? 64 * KiB : SIZE_MAX;
    config.proactive_cleanup = (config_byte & 2) == 0;
    config.cleanup_start_free_slices = 4;
    config.cleanup_every_free_slices = 2;
    config.observer = &touched_;
    auto created = SegmentAllocator::create(os_, config);
    if (!created.ok()) fail(created.error().describe(), 0);
    allocator_ = std::move(created).value();
  }
  ~Harness() {
    // An armed munmap failure must not make the destructor leak a mapping.
    os_.clear_failures();
  }

  void step(const AllocOpStep& in, std::size_t step_number) {
    step_ = step_number;
    switch (in.op) {
      case AllocOp::Allocate:
      case AllocOp::AllocateUninitialized:
        allocate(fuzzing::alloc_op_request_bytes(in.a, in.b), in.op == AllocOp::Allocate);
        break;
      case AllocOp::Release: {
        const std::uint8_t index = in.a;
        if (model_.live().empty()) break;
        const std::size_t i = index % model_.live().size();
        Status status = allocator_->release(model_.live()[i].segment);
        if (!status.ok()) fail("release of a live segment: " + status.error().describe(), step_);
        static_cast<void>(model_.released(i));
        break;
      }
      case AllocOp::ReleaseStale:
      case AllocOp::ResetStale:
        release_stale(in.a, in.op == AllocOp::ResetStale);
        break;
      case AllocOp::Reset: {
        const std::uint8_t index = in.a;
        if (model_.live().empty()) break;
        const std::size_t i = index % model_.live().size();
        Status status = allocator_->reset(model_.live()[i].segment);
        if (!status.ok()) fail("reset of a live segment: " + status.error().describe(), step_);
        model_.reset(i);
        own_ = model_.live()[i].segment;
        break;
      }
      case AllocOp::Write: {
        const std::uint8_t index = in.a;
        const auto fill = static_cast<std::byte>(in.b);
        if (model_.live().empty()) break;
        model_.write(index % model_.live().size(), fill);
        break;
      }
      case AllocOp::ReleaseUnused: {
        const int c = in.a % static_cast<int>(kSizeClassCount);
        const AllocatorStats before = allocator_->stats();
        const std::size_t released = allocator_->release_unused_regions(c);
        if (allocator_->stats().regions_released - before.regions_released != released) {
          fail("release_unused_regions returned a count stats() does not show", step_);
        }
        break;
      }
      case AllocOp::FreeUnused: {
        const std::size_t target_bytes = (in.a % (kBudgetRegions + 1)) * kRegionBytes;
        const AllocatorStats before = allocator_->stats();
        const std::size_t unmapped = allocator_->free_unused_regions(target_bytes);
        const AllocatorStats after = allocator_->stats();
        if (after.regions_unmapped - before.regions_unmapped != unmapped ||
            after.virtual_bytes != before.virtual_bytes - unmapped * kRegionBytes) {
          fail("free_unused_regions returned a count stats() does not show", step_);
        }
        if (after.virtual_bytes > target_bytes && after.unmap_failures == before.unmap_failures) {
          if (auto why = unmappable_region(after)) {
            fail("free_unused_regions stopped short of its target: " + *why, step_);
          }
        }
        break;
      }
      case AllocOp::InjectFailure: {
        static constexpr OsCall kCalls[] = {OsCall::Map, OsCall::Advise, OsCall::Unmap};
        static constexpr int kErrnos[] = {ENOMEM, EAGAIN, EINVAL};
        const std::size_t which = in.a % 3;
        os_.fail_nth(kCalls[which], 1 + in.b % 4, kErrnos[which]);
        break;
      }
    }
    allocator_->wait_for_cleanups();
    check_step();
    if (step_number % kFullCheckEvery == 0) settle_and_check(model::Scan::EveryPage);
    if (fuzzing::InputDigest::enabled()) digest_step();
  }

  // SEGSIM_FUZZ_DIGEST (fuzz/input_digest.h): what this step left, no address.
  void digest_step() {
    digest_.add(step_);
    digest_.add_counters(allocator_->stats());
    for (const model::LiveSegment& s : model_.live()) {
      digest_.add(s.id);
      digest_.add(s.segment.size());
      const std::span<const std::byte> bytes = s.segment.bytes();
      if (!bytes.empty()) digest_.add(static_cast<std::uint64_t>(bytes.front()) << 8 | static_cast<std::uint64_t>(bytes.back()));
    }
    for (std::size_t call = 0; call < kOsCallCount; ++call) {
      digest_.add(os_.calls(static_cast<OsCall>(call)));
      digest_.add(os_.failures(static_cast<OsCall>(call)));
    }
  }
  const fuzzing::InputDigest& digest() const { return digest_; }

  // After every operation, what an operation can break, at a cost that does
  // not grow with the allocator's tables: every live segment still reads its
  // contents (first and last byte, one per 4 KiB page — a lost write, a wrong
  // zeroing or madvise shows there; the model's loop, outside the coverage
  // instrumentation), and the segment the operation handed out or reset is
  // what lookup() finds at its address and overlaps no other.
  void check_step() {
    if (auto mismatch = model_.check_contents(model::Scan::EveryPage)) fail(*mismatch, step_);
    if (!own_) return;
    const Segment own = *own_;
    own_.reset();
    Result<Segment> found = allocator_->lookup(own.data());
    if (!found.ok() || !(found.value() == own)) fail("lookup does not find the segment just handed out or reset", step_);
    for (const model::LiveSegment& s : model_.live()) {
      if (s.segment == own) continue;
      if (s.segment.data() < own.data() + own.size() && own.data() < s.segment.data() + s.segment.size()) {
        fail("the segment just handed out overlaps live segment #" + std::to_string(s.id), step_);
      }
    }
  }

  // Lets async cleanups finish, then checks everything against the model:
  // every kFullCheckEvery steps and at the end. What it adds to check_step()
  // — lookups of every segment, per-class counts against stats(), every Os
  // call counted, audit() — is state that stays wrong once wrong (a count,
  // a stuck guard), so it finds the same bugs a few steps later.
  void settle_and_check(model::Scan scan) {
    allocator_->wait_for_cleanups();
    if (auto mismatch = model_.check(*allocator_, scan)) fail(*mismatch, step_);
    if (auto mismatch = model::check_os_accounting(allocator_->stats(), os_)) fail(*mismatch, step_);
  }

 private:
  void allocate(std::size_t bytes, bool zeroed) {
    if (model_.live().size() >= kMaxLive) return;
    const std::uint64_t map_failures_before = os_.failures(OsCall::Map);
    const std::uint64_t unmap_failures_before = os_.failures(OsCall::Unmap);
    Result<Segment> result =
        zeroed ? allocator_->allocate(bytes) : allocator_->allocate_uninitialized(bytes);
    const bool map_failed = os_.failures(OsCall::Map) != map_failures_before;
    const bool invalid = class_of(bytes) < 0;
    if (result.ok()) {
      if (invalid || map_failed) fail("allocation succeeded though its size or mmap was bad", step_);
      model_.allocated(result.value(), bytes, zeroed);
      own_ = result.value();
      return;
    }
    const Errc code = result.error().code;
    const Errc expected = invalid ? Errc::InvalidSize : map_failed ? Errc::OutOfMemory : Errc::OutOfBudget;
    if (code != expected) fail("allocation refused wrongly: " + result.error().describe(), step_);
    if (code == Errc::OutOfMemory && result.error().os_errno != ENOMEM) {
      fail("OutOfMemory without the failed mmap's errno: " + result.error().describe(), step_);
    }
    if (code != Errc::OutOfBudget || os_.failures(OsCall::Unmap) != unmap_failures_before) return;
    // A true OutOfBudget: the budget is full and nothing could be unmapped.
    const AllocatorStats stats = allocator_->stats();
    if (stats.virtual_bytes + kRegionBytes <= stats.budget_bytes) {
      fail("out of budget with room for another region", step_);
    }
    if (stats.classes[class_of(bytes)].free_slices != 0) fail("out of budget with a free slice", step_);
    if (auto why = unmappable_region(stats)) fail("out of budget, yet " + *why, step_);
  }

  void release_stale(std::uint8_t index, bool via_reset) {
    if (model_.stale().empty()) return;
    const Segment handle = model_.stale()[index % model_.stale().size()];
    const AllocatorStats before = allocator_->stats();
    Status status = via_reset ? allocator_->reset(handle) : allocator_->release(handle);
    if (status.ok()) fail("a stale handle was accepted", step_);
    if (status.error().code != Errc::DoubleFree) {
      fail("stale handle refused with the wrong error: " + status.error().describe(), step_);
    }
    const AllocatorStats after = allocator_->stats();
    if (auto changed = model::compare_accounting(before, after)) {
      fail("a refused stale handle changed the allocator: " + *changed, step_);
    }
    if (after.double_frees != before.double_frees + 1) fail("double free not counted", step_);
  }

  // A region the allocator could have unmapped (queued freed, or active with
  // no live slice, as far as stats() can tell), described; or nullopt.
  std::optional<std::string> unmappable_region(const AllocatorStats& stats) const {
    for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
      const std::string name = std::to_string(class_bytes(c) / KiB) + " KiB";
      if (stats.classes[c].freed_regions != 0) return "class " + name + " has a freed region";
      if (stats.classes[c].active_regions > model_.live_in_class(c)) {
        return "class " + name + " has more active regions than live slices";
      }
    }
    return std::nullopt;
  }

  // Declared first: the allocator is made and destroyed with the runtime
  // installed (its async cleanups run serially at wait_for_cleanups()).
  fuzzing::SerialRuntime runtime_{[this](const std::string& what) { fail(what, step_); }};
  platform::RuntimeScope runtime_scope_{&runtime_};
  testing::ScriptedOs os_{process_memory()};  // outlives the allocator
  fuzzing::RecyclingOs::SliceObserver touched_{process_memory()};  // so is the allocator's observer
  std::unique_ptr<SegmentAllocator> allocator_;
  model::AllocatorModel model_;
  std::optional<Segment> own_;  // handed out or reset by the current step
  fuzzing::InputDigest digest_;
  std::size_t step_ = 0;
};

}  // namespace
}  // namespace segsim

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const segsim::fuzzing::AllocOpsInput input = segsim::fuzzing::decode_alloc_ops(data, size);
  segsim::Harness harness(input.config);
  for (std::size_t step = 1; step <= input.steps.size(); ++step) harness.step(input.steps[step - 1], step);
  harness.settle_and_check(segsim::model::Scan::EveryByte);
  if (segsim::fuzzing::InputDigest::enabled()) harness.digest().print("fuzz_alloc_ops");
  return 0;
}
