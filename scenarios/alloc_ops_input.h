// The input format of the fuzz_alloc_ops target (fuzz/alloc_ops.cpp), decoded
// once for both readers: the fuzz target, and `segsim reproduce crash-<sha1>`
// (the "fuzz-alloc-ops" scenario runs a decoded artifact under the
// simulator). The byte format is stable — a saved artifact decodes the same
// in every later build:
//   byte 0   configuration: bit 0 = madvise resets from 64 KiB,
//            bit 1 = proactive cleanup off
//   then     up to kAllocOpsMaxSteps ops, each an opcode byte (taken modulo
//            kAllocOpCount) and its fixed argument bytes (AllocOp below);
//            every read past the end yields 0, so any input is valid.
// What an op's argument bytes mean does not depend on the state: decoding
// needs no allocator.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/size_class.h"

namespace segsim::fuzzing {

enum class AllocOp : std::uint8_t {
  Allocate,               // a: class byte (kSizeClassCount = an invalid size), b: size-within-class byte
  AllocateUninitialized,  // as Allocate
  Release,                // a: live index byte
  ReleaseStale,           // a: stale index byte
  ResetStale,             // a: stale index byte
  Reset,                  // a: live index byte
  Write,                  // a: live index byte, b: fill byte
  ReleaseUnused,          // a: class byte
  FreeUnused,             // a: target regions byte
  InjectFailure,          // a: call byte (mmap / madvise / munmap), b: which-call-from-now byte
};
inline constexpr std::uint8_t kAllocOpCount = 10;
inline constexpr std::size_t kAllocOpsMaxSteps = 256;

struct AllocOpStep {
  AllocOp op = AllocOp::Allocate;
  std::uint8_t a = 0;
  std::uint8_t b = 0;
};

struct AllocOpsInput {
  std::uint8_t config = 0;
  std::vector<AllocOpStep> steps;
  bool madvise_resets() const noexcept { return (config & 1) != 0; }
  bool proactive_cleanup() const noexcept { return (config & 2) == 0; }
};

// How many argument bytes `op` reads.
constexpr int alloc_op_arguments(AllocOp op) noexcept {
  switch (op) {
    case AllocOp::Allocate:
    case AllocOp::AllocateUninitialized:
    case AllocOp::Write:
    case AllocOp::InjectFailure:
      return 2;
    default:
      return 1;
  }
}

inline AllocOpsInput decode_alloc_ops(const std::uint8_t* data, std::size_t size) {
  std::size_t pos = 0;
  const auto byte = [&]() -> std::uint8_t { return pos < size ? data[pos++] : 0; };
  AllocOpsInput input;
  input.config = byte();
  // Every step reads at least two bytes: one allocation, not one per doubling
  // (each is an ASan malloc in the fuzz target, which decodes per input).
  input.steps.reserve(std::min(kAllocOpsMaxSteps, size / 2));
  while (input.steps.size() < kAllocOpsMaxSteps && pos < size) {
    AllocOpStep step;
    step.op = static_cast<AllocOp>(byte() % kAllocOpCount);
    step.a = byte();
    if (alloc_op_arguments(step.op) == 2) step.b = byte();
    input.steps.push_back(step);
  }
  return input;
}

// A request size: a class (kSizeClassCount = an invalid size) and where in
// that class's range of byte counts, so both class edges are one byte away.
inline std::size_t alloc_op_request_bytes(std::uint8_t class_byte, std::uint8_t position) {
  const int c = class_byte % static_cast<int>(kSizeClassCount + 1);
  if (c == static_cast<int>(kSizeClassCount)) return position % 2 == 0 ? 0 : kLargestClassBytes + 1;
  const std::size_t low = c == 0 ? 1 : class_bytes(c - 1) + 1;
  const std::size_t high = class_bytes(c);
  return low + (high - low) * position / 255;
}

}  // namespace segsim::fuzzing
