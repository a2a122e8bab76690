// fuzz_large_objects: libFuzzer decodes its input into LargeObjectAllocator
// operations on a ScriptedOs and checks every step against a small model
// (issue 15). Any mismatch prints one line and traps, so libFuzzer saves the
// input as a crash.
//
// Input format (every read past the end yields 0, so any input is valid):
//   byte 0    configuration: bits 0-1 fit policy (3 = best fit), bit 2 huge pages off
//   then ops  an opcode byte (kOpCount kinds, taken modulo) and its fixed
//             argument bytes; see `Op`.
//
// Outcomes are not predicted; the checks are consequences that must hold:
// InvalidSize exactly outside (256 KiB, max]; OutOfMemory only with an mmap
// failure armed; OutOfBudget only when no free range fits; refused calls
// change no live object; zeroed objects read zero; every live object keeps
// its pattern; no two live objects overlap; audit() is clean after every op.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "core/large_object_allocator.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"
#include "fuzz/byte_reader.h"

namespace segsim {
namespace {

constexpr std::size_t kGranule = 64 * KiB;
constexpr std::size_t kMax = 3 * MiB;
constexpr std::size_t kMaxOps = 200;
constexpr std::size_t kMaxLive = 16;

enum class Op : std::uint8_t {
  Allocate,        // size selector byte, size low byte, zeroed byte
  Release,         // live index byte
  ReleaseStale,    // stale index byte
  ReleaseForeign,  // —
  Write,           // live index byte, fill byte
  Decommit,        // idle selector byte
  UnmapSpans,      // —
  InjectFailure,   // call byte (mmap / madvise / munmap)
};
constexpr std::uint8_t kOpCount = 8;

using fuzzing::Reader;

[[noreturn]] void fail(std::string_view what, std::size_t step) {
  std::fprintf(stderr, "fuzz_large_objects: step %zu: %.*s\n", step, static_cast<int>(what.size()), what.data());
  __builtin_trap();
}

// Sizes one byte away from every boundary, or anywhere in range.
std::size_t request_bytes(std::uint8_t selector, std::uint8_t low) {
  const std::size_t min = LargeObjectAllocator::kMinObjectBytes;
  switch (selector % 8) {
    case 0: return 0;
    case 1: return min - 1 + low % 3;
    case 2: return kMax - 1 + low % 3;
    case 3: return 2 * MiB - 1 + low % 3;
    case 4: return (5 + low % 40) * kGranule - 1 + low % 3;
    default: return min + (static_cast<std::size_t>(selector) << 12 | low) % (kMax - min + 1);
  }
}

struct Entry {
  LargeObject handle;
  std::uint8_t fill;
};

struct Fuzz {
  testing::ScriptedOs os;
  testing::ScriptedOs foreign_os;
  std::unique_ptr<LargeObjectAllocator> large;
  std::unique_ptr<LargeObjectAllocator> foreign;
  std::vector<Entry> live;
  std::vector<LargeObject> stale;
  bool map_armed = false;
  std::size_t step = 0;

  void check(bool full) {
    if (!large->audit().empty()) fail(large->audit().front(), step);
    const LargeObjectStats s = large->stats();
    if (s.live_objects != live.size()) fail("live objects differ from the model", step);
    for (const Entry& e : live) {
      const std::size_t stride = full ? 1 : 4096;
      for (std::size_t i = 0; i < e.handle.size(); i += stride) {
        if (e.handle.data()[i] != std::byte{e.fill}) fail("a live object lost its pattern", step);
      }
    }
  }

  void allocate(Reader& in) {
    const std::uint8_t selector = in.byte(), low = in.byte();
    const bool zeroed = in.byte() % 2 == 0;
    if (live.size() >= kMaxLive) return;
    const std::size_t bytes = request_bytes(selector, low);
    const std::size_t live_before = large->stats().live_objects;
    auto got = zeroed ? large->allocate(bytes) : large->allocate_uninitialized(bytes);
    const bool valid = bytes >= LargeObjectAllocator::kMinObjectBytes && bytes <= kMax;
    if (!got.ok()) {
      const Errc code = got.error().code;
      if (large->stats().live_objects != live_before) fail("a refused allocate changed live objects", step);
      if (code == Errc::InvalidSize ? valid : !valid) fail("InvalidSize does not match the size range", step);
      if (code == Errc::OutOfMemory && !map_armed) fail("OutOfMemory without an mmap failure", step);
      if (code == Errc::OutOfBudget && large->stats().largest_free_bytes >= (bytes + kGranule - 1) / kGranule * kGranule) {
        fail("OutOfBudget with a free range that fits", step);
      }
      if (code == Errc::OutOfMemory) map_armed = false;
      return;
    }
    if (!valid) fail("an invalid size was allocated", step);
    const LargeObject& o = got.value();
    if (zeroed) {
      for (std::size_t i = 0; i < o.size(); ++i) {
        if (o.data()[i] != std::byte{0}) fail("a zeroed object is not zero", step);
      }
    }
    for (const Entry& e : live) {
      if (!(o.data() + o.size() <= e.handle.data() || e.handle.data() + e.handle.size() <= o.data())) {
        fail("two live objects overlap", step);
      }
    }
    const auto fill = static_cast<std::uint8_t>(1 + step % 255);
    std::memset(o.data(), fill, o.size());
    live.push_back({o, fill});
  }

  void refused(const LargeObject& handle, Errc expected) {
    const std::size_t before = large->stats().live_objects;
    Status status = large->release(handle);
    if (status.ok() || status.error().code != expected) fail("a bad release was not refused as expected", step);
    if (large->stats().live_objects != before) fail("a refused release changed live objects", step);
  }

  void run(Reader& in) {
    switch (static_cast<Op>(in.byte() % kOpCount)) {
      case Op::Allocate: return allocate(in);
      case Op::Release: {
        const std::uint8_t index = in.byte();
        if (live.empty()) return;
        const std::size_t i = index % live.size();
        if (!large->release(live[i].handle).ok()) fail("release of a live object refused", step);
        stale.push_back(live[i].handle);
        live.erase(live.begin() + static_cast<long>(i));
        return;
      }
      case Op::ReleaseStale: {
        const std::uint8_t index = in.byte();
        if (!stale.empty()) refused(stale[index % stale.size()], Errc::DoubleFree);
        return;
      }
      case Op::ReleaseForeign: {
        auto other = foreign->allocate(512 * KiB);
        if (!other.ok()) return;
        refused(other.value(), Errc::InvalidPointer);
        refused(LargeObject{}, Errc::InvalidPointer);
        if (!foreign->release(other.value()).ok()) fail("the foreign allocator refused its own object", step);
        return;
      }
      case Op::Write: {
        const std::uint8_t index = in.byte(), fill = in.byte();
        if (live.empty()) return;
        Entry& e = live[index % live.size()];
        std::memset(e.handle.data(), fill, e.handle.size());
        e.fill = fill;
        return;
      }
      case Op::Decommit: (void)large->decommit_idle(in.byte() % 2 == 0 ? 0 : 1'000'000'000); return;
      case Op::UnmapSpans: (void)large->unmap_free_spans(0); return;
      case Op::InjectFailure: {
        const std::uint8_t call = in.byte() % 3;
        const OsCall which = call == 0 ? OsCall::Map : call == 1 ? OsCall::Advise : OsCall::Unmap;
        os.fail_nth(which, 1, ENOMEM);
        if (which == OsCall::Map) map_armed = true;
        return;
      }
    }
  }
};

}  // namespace
}  // namespace segsim

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace segsim;
  Reader in(data, size);
  const std::uint8_t config_byte = in.byte();
  LargeObjectAllocatorConfig config;
  config.max_object_bytes = kMax;
  config.granule_bytes = kGranule;
  config.span_bytes = 2 * MiB;
  config.budget_bytes = 12 * MiB;
  config.fit = config_byte % 4 == 1 ? FitPolicy::FirstFit : config_byte % 4 == 2 ? FitPolicy::WorstFit : FitPolicy::BestFit;
  config.huge_pages = (config_byte & 4) == 0;
  config.decommit_check_interval_ns = 0;
  Fuzz fuzz;
  fuzz.large = LargeObjectAllocator::create(fuzz.os, config).value();
  fuzz.foreign = LargeObjectAllocator::create(fuzz.foreign_os, config).value();
  for (; !in.done() && fuzz.step < kMaxOps; ++fuzz.step) {
    fuzz.run(in);
    fuzz.check(false);
  }
  fuzz.os.clear_failures();
  fuzz.check(true);
  for (const Entry& e : fuzz.live) {
    if (!fuzz.large->release(e.handle).ok()) fail("final release refused", fuzz.step);
  }
  return 0;
}
