// slab-ownership: no object is handed out while a handle to it is live (two
// owners would share its bytes). slab-use-after-free: in plain builds a freed
// object is filled with a canary and verified when handed out again from the
// same slab incarnation — a write in between was a use after free. Under ASan
// the allocator poisons free objects instead (reading them here would itself
// be reported), so the canary is off.
#include <cstring>

#include <fmt/format.h>

#include "core/asan.h"
#include "scenarios/oracles/sim_now.h"
#include "scenarios/oracles/slab_oracles.h"
#include "scenarios/oracles/zero_scan.h"
#include "sim/simulation.h"

namespace segsim::scenarios {

namespace {
constexpr std::uint64_t kSlabCanary = 0x5ab5ab5ab5ab5ab5ULL;
constexpr std::size_t kSlabCanaryStrideBytes = 64;

}  // namespace

std::string SlabOracles::name(const std::byte* data) const {
  auto offset = os_.offset_of(data);
  return offset ? fmt::format("slab object at SimOs offset {:#x}", *offset) : "a slab object outside SimOs";
}

void SlabOracles::handing_out(const SlabObject& object) {
  const auto offset = os_.offset_of(object.data());
  if (!offset) hub_.fail("slab-ownership", "handed out an object outside the simulated address space");
  if (auto it = live_.find(*offset); it != live_.end()) {
    hub_.fail("slab-ownership",
              fmt::format("{} ({} B) handed out while live (generation {}, allocated by fiber {} at step {})",
                          name(object.data()), object.size(), it->second.generation, it->second.fiber,
                          it->second.step),
              object.data());
  }
  if (auto it = freed_.find(*offset); it != freed_.end()) {
    const Freed freed = it->second;
    freed_.erase(it);
    if (!asan::kEnabled && freed.slab == object.slab_id() && freed.epoch == object.slab_epoch()) {
      for (std::size_t off = 0; off + sizeof kSlabCanary <= freed.bytes; off += kSlabCanaryStrideBytes) {
        std::uint64_t word;
        std::memcpy(&word, object.data() + off, sizeof word);
        if (word != kSlabCanary) {
          hub_.fail("slab-use-after-free",
                    fmt::format("{} was written while free (byte {} of {})", name(object.data()), off, freed.bytes),
                    object.data());
        }
      }
    }
  }
  live_.emplace(*offset, Live{object.generation(), object.slab_id(), object.slab_epoch(), fiber_now(), step_now()});
}

void SlabOracles::released(const SlabObject& object) {
  const auto offset = os_.offset_of(object.data());
  if (!offset) return;
  auto it = live_.find(*offset);
  if (it == live_.end() || it->second.generation != object.generation()) {
    hub_.fail("slab-ownership",
              fmt::format("{} freed under generation {} but the oracle saw no such live hand-out",
                          name(object.data()), object.generation()),
              object.data());
  }
  live_.erase(it);
  if (!asan::kEnabled) {
    for (std::size_t off = 0; off + sizeof kSlabCanary <= object.size(); off += kSlabCanaryStrideBytes) {
      std::memcpy(object.data() + off, &kSlabCanary, sizeof kSlabCanary);
    }
  }
  freed_[*offset] = Freed{object.slab_id(), object.slab_epoch(), object.size()};
}

}  // namespace segsim::scenarios

namespace segsim::scenarios {

void SlabOracles::check_content(const SlabObject& object, std::uint8_t fill) {
  // All bytes right is the common answer, found vectorised; the loop below
  // reports each wrong byte.
  if (!first_byte_other_than(object.data(), object.size(), std::byte{fill})) return;
  for (std::size_t i = 0; i < object.size(); ++i) {
    if (object.data()[i] != std::byte{fill}) {
      hub_.fail("slab-content",
                fmt::format("{} byte {} reads {:#04x}, its owner wrote {:#04x}", name(object.data()), i,
                            static_cast<unsigned>(object.data()[i]), fill),
                object.data());
    }
  }
}

}  // namespace segsim::scenarios
