#include "property/allocator_model.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"

namespace segsim::model {

namespace {

std::string name(const LiveSegment& s) {
  return fmt::format("segment #{} ({} B requested, class {} KiB, generation {})", s.id,
                     s.requested_bytes, s.segment.size() / 1024, s.segment.generation());
}

constexpr std::size_t kPageBytes = 4096;

// The first offset of `bytes` that `scan` reads and finds other than
// `expected`, or nullopt.
std::optional<std::size_t> first_difference(std::span<const std::byte> bytes, std::byte expected,
                                            Scan scan) {
  if (bytes.empty()) return std::nullopt;
  if (scan == Scan::EveryPage) {
    for (std::size_t at = 0; at < bytes.size(); at += kPageBytes) {
      if (bytes[at] != expected) return at;
    }
    if (bytes.back() != expected) return bytes.size() - 1;
    return std::nullopt;
  }
  // bytes[0] is right and each byte equals the next: a memcmp-speed scan,
  // which matters because every step rereads every live segment.
  if (bytes[0] == expected && std::memcmp(bytes.data(), bytes.data() + 1, bytes.size() - 1) == 0) {
    return std::nullopt;
  }
  const auto it = std::find_if(bytes.begin(), bytes.end(), [&](std::byte b) { return b != expected; });
  return static_cast<std::size_t>(it - bytes.begin());
}

}  // namespace

void AllocatorModel::allocated(const Segment& segment, std::size_t requested_bytes, bool zeroed) {
  live_.push_back(LiveSegment{next_id_++, segment, requested_bytes,
                              zeroed ? Contents::Zero : Contents::Unknown, std::byte{0}});
}

Segment AllocatorModel::released(std::size_t index) {
  SEGSIM_ASSERT(index < live_.size(), "model: release of a segment the model does not hold");
  const Segment handle = live_[index].segment;
  live_.erase(live_.begin() + static_cast<std::ptrdiff_t>(index));
  stale_.push_back(handle);
  if (stale_.size() > kMaxStaleHandles) stale_.pop_front();
  return handle;
}

void AllocatorModel::reset(std::size_t index) {
  SEGSIM_ASSERT(index < live_.size(), "model: reset of a segment the model does not hold");
  live_[index].contents = Contents::Zero;
}

void AllocatorModel::write(std::size_t index, std::byte fill) {
  SEGSIM_ASSERT(index < live_.size(), "model: write to a segment the model does not hold");
  LiveSegment& s = live_[index];
  std::memset(s.segment.data(), static_cast<int>(fill), s.segment.size());
  s.contents = Contents::Fill;
  s.fill = fill;
}

std::size_t AllocatorModel::live_in_class(int size_class) const {
  return static_cast<std::size_t>(std::count_if(live_.begin(), live_.end(), [&](const LiveSegment& s) {
    return s.segment.size_class() == size_class;
  }));
}

std::optional<std::string> AllocatorModel::check_contents(Scan scan) const {
  for (const LiveSegment& s : live_) {
    if (s.contents == Contents::Unknown) continue;
    const std::byte expected = s.contents == Contents::Zero ? std::byte{0} : s.fill;
    if (auto at = first_difference(s.segment.bytes(), expected, scan)) {
      return fmt::format("{}: byte {} reads {:#04x}, expected {:#04x} ({})", name(s), *at,
                         static_cast<unsigned>(s.segment.data()[*at]), static_cast<unsigned>(expected),
                         s.contents == Contents::Zero ? "zeroed" : "written");
    }
  }
  return std::nullopt;
}

std::optional<std::string> AllocatorModel::check(const SegmentAllocator& allocator, Scan scan) const {
  if (auto mismatch = check_contents(scan)) return mismatch;
  for (const LiveSegment& s : live_) {
    if (s.segment.is_null() || s.segment.size_class() != class_of(s.requested_bytes)) {
      return fmt::format("{}: handle is null or not of the request's class {}", name(s),
                         class_of(s.requested_bytes));
    }
    Result<Segment> found = allocator.lookup(s.segment.data());
    if (!found.ok()) {
      return fmt::format("{}: lookup of its address fails: {}", name(s), found.error().describe());
    }
    if (!(found.value() == s.segment)) {
      return fmt::format("{}: lookup returns generation {} region #{} slice {}", name(s),
                         found.value().generation(), found.value().region_id(),
                         found.value().slice_index());
    }
  }

  std::vector<const LiveSegment*> by_address;
  by_address.reserve(live_.size());
  for (const LiveSegment& s : live_) by_address.push_back(&s);
  std::sort(by_address.begin(), by_address.end(), [](const LiveSegment* a, const LiveSegment* b) {
    return a->segment.data() < b->segment.data();
  });
  for (std::size_t i = 1; i < by_address.size(); ++i) {
    const LiveSegment& a = *by_address[i - 1];
    const LiveSegment& b = *by_address[i];
    if (a.segment.data() + a.segment.size() > b.segment.data()) {
      return fmt::format("{} overlaps {}", name(a), name(b));
    }
  }

  const AllocatorStats stats = allocator.stats();
  for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
    if (stats.classes[c].live_slices != live_in_class(c)) {
      return fmt::format("class {} KiB: stats report {} live slices, the model holds {}",
                         class_bytes(c) / 1024, stats.classes[c].live_slices, live_in_class(c));
    }
  }

  if (std::vector<std::string> violations = allocator.audit(); !violations.empty()) {
    return fmt::format("audit: {}", fmt::join(violations, "; "));
  }
  return std::nullopt;
}

std::optional<std::string> compare_accounting(const AllocatorStats& before,
                                              const AllocatorStats& after) {
  auto differs = [](const char* what, std::size_t was, std::size_t now) -> std::optional<std::string> {
    if (was == now) return std::nullopt;
    return fmt::format("{} changed from {} to {}", what, was, now);
  };
  if (auto d = differs("virtual bytes", before.virtual_bytes, after.virtual_bytes)) return d;
  if (auto d = differs("regions mapped", before.regions_mapped, after.regions_mapped)) return d;
  if (auto d = differs("regions unmapped", before.regions_unmapped, after.regions_unmapped)) return d;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    const SizeClassStats& b = before.classes[c];
    const SizeClassStats& a = after.classes[c];
    const std::string prefix = fmt::format("class {} KiB: ", class_bytes(c) / 1024);
    if (auto d = differs("live slices", b.live_slices, a.live_slices)) return prefix + *d;
    if (auto d = differs("free slices", b.free_slices, a.free_slices)) return prefix + *d;
    if (auto d = differs("active regions", b.active_regions, a.active_regions)) return prefix + *d;
    if (auto d = differs("freed regions", b.freed_regions, a.freed_regions)) return prefix + *d;
  }
  return std::nullopt;
}

std::optional<std::string> check_os_accounting(const AllocatorStats& stats,
                                               const testing::ScriptedOs& os) {
  struct Expectation {
    const char* what;
    std::uint64_t counted;
    std::uint64_t os_reports;
  };
  const auto succeeded = [&](OsCall call) { return os.calls(call) - os.failures(call); };
  const Expectation expectations[] = {
      {"regions mapped vs successful mmaps", stats.regions_mapped, succeeded(OsCall::Map)},
      {"regions unmapped vs successful munmaps", stats.regions_unmapped, succeeded(OsCall::Unmap)},
      {"madvise resets + regions released vs successful madvises",
       stats.resets_madvise + stats.regions_released, succeeded(OsCall::Advise)},
      {"map failures vs failed mmaps", stats.map_failures, os.failures(OsCall::Map)},
      {"unmap failures vs failed munmaps", stats.unmap_failures, os.failures(OsCall::Unmap)},
      {"madvise failures vs failed madvises", stats.madvise_failures, os.failures(OsCall::Advise)},
  };
  for (const Expectation& e : expectations) {
    if (e.counted != e.os_reports) {
      return fmt::format("{}: stats count {}, the Os saw {}", e.what, e.counted, e.os_reports);
    }
  }
  return std::nullopt;
}

}  // namespace segsim::model
